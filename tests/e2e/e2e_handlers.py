"""The three function handlers run in this process against the stack on the emulator: each with
its deployed function's environment, imported from its folder in a namespace of its own; the
events EventBridge would deliver; and a queue on the topic to read back what they publish."""

from __future__ import annotations

import contextlib
import importlib
import json
import logging
import os
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from types import ModuleType
from typing import Any

from e2e_checks import FUNCTIONS

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


@contextlib.contextmanager
def function_module(folder: Path) -> Iterator[ModuleType]:
    """`app` imported from one function folder, in a fresh module namespace.

    The three folders share module names (app, settings, aws, ...), and the remediation function
    has a `rules` package: every module loaded from functions/ is dropped from sys.modules before
    the import, and after the block those loaded before it are put back (the function tests hold
    theirs; a copy left from here would not be the one they patch). sys.path is restored. So are
    the loggers: the functions share the logger `compliance`, and each import of a folder defines
    its handler class anew, so a handler left by an earlier folder would not be recognised as the
    same and every line would be printed once more per function run before.
    """
    saved_modules = _function_modules()
    saved_path, saved_bytecode = list(sys.path), sys.dont_write_bytecode
    saved_loggers = _logging_state()
    _forget_function_modules()
    sys.path.insert(0, str(folder))
    sys.dont_write_bytecode = True  # leave no __pycache__ in the function's folder
    try:
        yield importlib.import_module("app")
    finally:
        _forget_function_modules()
        sys.modules.update(saved_modules)
        sys.path[:] = saved_path
        sys.dont_write_bytecode = saved_bytecode
        _restore_logging(saved_loggers)


def _function_modules() -> dict[str, ModuleType]:
    """The modules in sys.modules loaded from a file under functions/."""
    return {
        name: module
        for name, module in list(sys.modules.items())
        if isinstance(getattr(module, "__file__", None), str)
        and Path(module.__file__).is_relative_to(FUNCTIONS_DIR)
    }


def _forget_function_modules() -> None:
    for name in _function_modules():
        sys.modules.pop(name, None)


_LoggerState = tuple[list[logging.Handler], bool, int]


def _loggers() -> list[logging.Logger]:
    known = logging.Logger.manager.loggerDict.values()
    return [logging.getLogger(), *(lg for lg in known if isinstance(lg, logging.Logger))]


def _logging_state() -> dict[logging.Logger, _LoggerState]:
    return {lg: (list(lg.handlers), lg.propagate, lg.level) for lg in _loggers()}


def _restore_logging(saved: dict[logging.Logger, _LoggerState]) -> None:
    """Handlers, propagation and level as saved; loggers created since lose their handlers."""
    for logger in _loggers():
        handlers, propagate, level = saved.get(logger, ([], True, logging.NOTSET))
        logger.handlers[:] = handlers
        logger.propagate = propagate
        logger.setLevel(level)


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
