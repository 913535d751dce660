"""The three function handlers run in this process against the stack on the emulator: each with
its deployed function's environment, imported from its folder in a namespace of its own; the
events EventBridge would deliver; and a queue on the topic to read back what they publish."""

from __future__ import annotations

import json
import os
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from e2e_checks import FUNCTIONS

from compliance_template.function_loader import function_module
from compliance_template.local.cycle import REGION, STACK, LocalStack, environment
from compliance_template.local.emulator import ACCOUNT_ID
from compliance_template.paths import FUNCTIONS_DIR


def compliance_change_event(
    rule_name: str, resource_type: str, resource_id: str, now: datetime
) -> dict[str, Any]:
    """A Config Rules Compliance Change event as EventBridge delivers it."""
    stamp = now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"
    qualifier = {
        "configRuleName": rule_name,
        "resourceType": resource_type,
        "resourceId": resource_id,
    }
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Config Rules Compliance Change",
        "source": "aws.config",
        "account": ACCOUNT_ID,
        "time": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": REGION,
        "resources": [],
        "detail": {
            "resourceId": resource_id,
            "awsRegion": REGION,
            "awsAccountId": ACCOUNT_ID,
            "configRuleName": rule_name,
            "recordVersion": "1.0",
            "configRuleARN": f"arn:aws:config:{REGION}:{ACCOUNT_ID}:config-rule/config-rule-local",
            "messageType": "ComplianceChangeNotification",
            "newEvaluationResult": {
                "evaluationResultIdentifier": {
                    "evaluationResultQualifier": qualifier,
                    "orderingTimestamp": stamp,
                },
                "complianceType": "NON_COMPLIANT",
                "resultRecordedTime": stamp,
                "configRuleInvokedTime": stamp,
                "annotation": "The bucket has no default server-side encryption.",
            },
            "oldEvaluationResult": {
                "evaluationResultIdentifier": {
                    "evaluationResultQualifier": qualifier,
                    "orderingTimestamp": stamp,
                },
                "complianceType": "COMPLIANT",
                "resultRecordedTime": stamp,
                "configRuleInvokedTime": stamp,
            },
            "notificationCreationTime": stamp,
            "resourceType": resource_type,
        },
    }


def scheduled_event(rule_arn: str, now: datetime) -> dict[str, Any]:
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": ACCOUNT_ID,
        "time": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": REGION,
        "resources": [rule_arn],
        "detail": {},
    }


@dataclass
class LambdaContext:
    """What the handlers read from Lambda's context object."""

    function_name: str
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{self.function_name}"


def run_handler(stack: LocalStack, folder: str, event: Any) -> Any:
    """The function's handler, in this process, with the deployed function's environment."""
    name = stack.physical[FUNCTIONS[folder]]
    deployed = stack.client("lambda").get_function_configuration(FunctionName=name)
    env = {**os.environ, **deployed["Environment"]["Variables"]}
    env["AWS_LAMBDA_FUNCTION_NAME"] = name
    with environment(env), function_module(FUNCTIONS_DIR / folder) as app:
        return app.handler(event, LambdaContext(name))


@dataclass
class Notifications:
    """An SQS queue subscribed to the stack's topic: what the functions publish, read back."""

    stack: LocalStack
    url: str = ""

    def __post_init__(self) -> None:
        sqs, sns = self.stack.client("sqs"), self.stack.client("sns")
        self.url = sqs.create_queue(QueueName=f"{STACK}-notifications")["QueueUrl"]
        attributes = sqs.get_queue_attributes(QueueUrl=self.url, AttributeNames=["QueueArn"])
        sns.subscribe(
            TopicArn=self.stack.physical["NotificationTopic"],
            Protocol="sqs",
            Endpoint=attributes["Attributes"]["QueueArn"],
            Attributes={"RawMessageDelivery": "false"},
        )

    def received(self) -> list[dict[str, Any]]:
        """Every message since the last call (they are deleted from the queue)."""
        sqs, found = self.stack.client("sqs"), []
        while True:
            messages = sqs.receive_message(QueueUrl=self.url, MaxNumberOfMessages=10).get(
                "Messages", []
            )
            if not messages:
                return found
            for message in messages:
                found.append(json.loads(message["Body"]))
                sqs.delete_message(QueueUrl=self.url, ReceiptHandle=message["ReceiptHandle"])
