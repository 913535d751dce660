"""`make deploy-local`: the whole deploy cycle against moto on 127.0.0.1, with dummy credentials.

Each step runs real code against the emulator and prints one line of what it verified:
the same preflight, package and deploy as `make deploy`; the deployed resources and their wiring,
read back through the AWS APIs; the three function handlers, run in this process against the
deployed resources; an update with changed parameters that must replace no stateful resource;
and the same destroy as `make destroy`. Whatever happens, the stack is deleted and the emulator
stopped before the command ends.

What moto cannot hold is said, and checked in the deployed template instead (docs/deploy.md).
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import io
import json
import logging
import os
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any, TextIO

from ..extras import extra_of, missing_extra

try:
    import boto3
except ModuleNotFoundError as missing:  # installed without this subpackage's extra
    raise missing_extra(extra_of(__package__), missing) from None

from ..deploy import account as deploy
from ..deploy.account import DeployRequest, Runner, Target
from ..paths import FUNCTIONS_DIR
from .emulator import ACCOUNT_ID, Emulator

STACK = "compliance-local"
REGION = "eu-west-1"
INITIAL_PARAMETERS = {"NotificationEmail": "security@example.com"}
# Changed on update, each to the first of its values that differs from the one deployed (the
# template's default may be either): each reaches properties CloudFormation updates in place.
UPDATE_CANDIDATES = {
    "ReportRetentionDays": ("90", "30"),
    "LogRetentionDays": ("30", "90"),
    "LogLevel": ("DEBUG", "INFO"),
    "NonCompliantThreshold": ("5", "3"),
    "RemediationMode": ("off", "dry-run"),
}
STATEFUL_TYPES = (
    "AWS::S3::Bucket",
    "AWS::KMS::Key",
    "AWS::Logs::LogGroup",
    "AWS::SQS::Queue",
    "AWS::SNS::Topic",
)
FUNCTIONS = {
    "processing": "ProcessingFunction",
    "reporting": "ReportingFunction",
    "remediation": "RemediationFunction",
}


class Unverified(str):
    """What a step could not verify on the emulator, and why; printed as such, never as ok."""

    __slots__ = ()


class CheckFailed(AssertionError):
    """A step found the deployment different from what the template says."""


def expect(condition: object, message: str) -> None:
    if not condition:
        raise CheckFailed(message)


# --- pure helpers (tested directly) -----------------------------------------------------------


def parameters_reached(node: Any) -> set[str]:
    """Names used by Ref or ${Name} anywhere in a template fragment (pseudo parameters too)."""
    found: set[str] = set()
    if isinstance(node, dict):
        if isinstance(node.get("Ref"), str):
            found.add(node["Ref"])
        sub = node.get("Fn::Sub")
        if sub is not None:
            text = sub if isinstance(sub, str) else sub[0]
            found |= {
                name.split(".")[0]
                for name in _sub_names(text)
                if not (isinstance(sub, list) and name in sub[1])
            }
            if isinstance(sub, list):
                found |= parameters_reached(sub[1])
        for key, value in node.items():
            if key not in ("Ref", "Fn::Sub"):
                found |= parameters_reached(value)
    elif isinstance(node, list):
        for item in node:
            found |= parameters_reached(item)
    return found


def _sub_names(text: str) -> list[str]:
    names, rest = [], text
    while "${" in rest:
        rest = rest.split("${", 1)[1]
        name, _, rest = rest.partition("}")
        if not name.startswith("!"):
            names.append(name)
    return names


def parameters_in_effect(
    template: Mapping[str, Any],
    given: Mapping[str, str],
    previous: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """Each parameter's value in a stack deployed with `given`: given, else the value of the
    previous deploy (`aws cloudformation deploy` keeps a parameter it is not given), else the
    template's default."""
    declared = template.get("Parameters", {})
    values = {name: str(spec["Default"]) for name, spec in declared.items() if "Default" in spec}
    values.update({name: value for name, value in (previous or {}).items() if name in declared})
    return {**values, **{name: value for name, value in given.items() if name in declared}}


def updated_parameters(in_effect: Mapping[str, str]) -> dict[str, str]:
    """The initial parameters plus, for each updated one, a value other than the one in effect."""
    updates = {
        name: next(value for value in candidates if value != in_effect.get(name))
        for name, candidates in UPDATE_CANDIDATES.items()
    }
    return {**INITIAL_PARAMETERS, **updates}


def replacing_parameters(
    template: Mapping[str, Any], logical_id: str, create_only: Sequence[str], changed: set[str]
) -> dict[str, set[str]]:
    """Create-only properties of a resource (whose change makes CloudFormation replace it) that
    a changed parameter reaches; empty when the change updates the resource in place."""
    properties = template["Resources"][logical_id].get("Properties", {})
    reached = {}
    for pointer in create_only:
        name = pointer.removeprefix("/properties/").split("/")[0]
        hits = parameters_reached(properties.get(name)) & changed
        if name in properties and hits:
            reached[name] = hits
    return reached


def create_only_properties(resource_type: str, region: str) -> list[str]:
    """From CloudFormation's own resource schemas, as shipped with cfn-lint."""
    from cfnlint.schema import PROVIDER_SCHEMA_MANAGER

    schema = PROVIDER_SCHEMA_MANAGER.get_resource_schema(region, resource_type).schema
    return list(schema.get("createOnlyProperties", []))


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
def environment(values: Mapping[str, str]) -> Iterator[None]:
    """os.environ replaced by `values` for the block (boto3 and the handlers read it)."""
    saved = dict(os.environ)
    saved_session = boto3.DEFAULT_SESSION
    os.environ.clear()
    os.environ.update(values)
    boto3.DEFAULT_SESSION = None  # built from the environment at first use
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)
        boto3.DEFAULT_SESSION = saved_session


@contextlib.contextmanager
def function_module(folder: Path) -> Iterator[ModuleType]:
    """`app` imported from one function folder, in a fresh module namespace.

    The three folders share module names (app, settings, aws, ...): the folder's names are dropped
    from sys.modules before the import and after the block, and sys.path is restored. So are the
    loggers: the functions share the logger `compliance`, and each import of a folder defines its
    handler class anew, so a handler left by an earlier folder would not be recognised as the
    same and every line would be printed once more per function run before.
    """
    names = {path.stem for path in folder.glob("*.py")}

    def forget() -> None:
        for name in names:
            sys.modules.pop(name, None)

    saved_path, saved_bytecode = list(sys.path), sys.dont_write_bytecode
    saved_loggers = _logging_state()
    forget()
    sys.path.insert(0, str(folder))
    sys.dont_write_bytecode = True  # leave no __pycache__ in the function's folder
    try:
        yield importlib.import_module("app")
    finally:
        forget()
        sys.path[:] = saved_path
        sys.dont_write_bytecode = saved_bytecode
        _restore_logging(saved_loggers)


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


# --- the cycle --------------------------------------------------------------------------------


@dataclass
class Cycle:
    emulator: Emulator
    work: Path
    out: TextIO
    template: Path = deploy.DEFAULT_TEMPLATE
    session: boto3.Session | None = None
    deployed: bool = False
    physical: dict[str, str] = field(default_factory=dict)
    types: dict[str, str] = field(default_factory=dict)
    stack_template: dict[str, Any] = field(default_factory=dict)
    outputs: dict[str, str] = field(default_factory=dict)
    # Every parameter's value in the deployed stack (parameters_in_effect).
    parameters: dict[str, str] = field(default_factory=dict)
    notifications_queue: str = ""
    example_bucket: str = f"{STACK}-example-unencrypted"
    before_update: dict[str, str] = field(default_factory=dict)
    # The parameters of the update, deployed again unchanged by `redeploy_unchanged`.
    updated: dict[str, str] = field(default_factory=dict)
    # What processing handed to remediation (recorded by the emulator's Lambda).
    hand_off: Any = None

    def client(self, service: str) -> Any:
        assert self.session is not None
        return self.session.client(service)

    # Each step returns one line of what it verified.

    def account_setup(self) -> str:
        """A recorder and delivery channel, as the target account has (the template needs one
        unless CreateConfigRecorder=true), and a bucket the compliance event will be about."""
        s3, config = self.client("s3"), self.client("config")
        location = {"LocationConstraint": REGION}
        s3.create_bucket(Bucket=f"{STACK}-config", CreateBucketConfiguration=location)
        config.put_configuration_recorder(
            ConfigurationRecorder={
                "name": "default",
                "roleARN": f"arn:aws:iam::{ACCOUNT_ID}:role/config-recorder",
                "recordingGroup": {"allSupported": True, "includeGlobalResourceTypes": False},
            }
        )
        config.put_delivery_channel(
            DeliveryChannel={"name": "default", "s3BucketName": f"{STACK}-config"}
        )
        config.start_configuration_recorder(ConfigurationRecorderName="default")
        s3.create_bucket(Bucket=self.example_bucket, CreateBucketConfiguration=location)
        return "recorder 'default' recording all types, delivery channel 'default'"

    def deploy_stack(
        self, parameters: Mapping[str, str], name: str, out: TextIO | None = None
    ) -> list[dict]:
        path = self.work / f"{name}.json"
        path.write_text(json.dumps({"Parameters": dict(parameters)}), encoding="utf-8")
        request = DeployRequest(
            Target(STACK, REGION), self.template, path, None, self.work / "build"
        )
        self.deployed = True  # from here on, the stack may exist: clean up in any case
        outputs = deploy.deploy(request, Runner(out=out or self.out), self.session)
        self._read_stack()
        self.parameters = parameters_in_effect(self.stack_template, parameters, self.parameters)
        self.outputs = {o["OutputKey"]: o["OutputValue"] for o in outputs}
        return outputs

    def create(self) -> str:
        outputs = self.deploy_stack(INITIAL_PARAMETERS, "parameters")
        status = self.client("cloudformation").describe_stacks(StackName=STACK)["Stacks"][0]
        expect(status["StackStatus"] == "CREATE_COMPLETE", f"stack is {status['StackStatus']}")
        declared = set(self.stack_template.get("Outputs", {}))
        expect(set(self.outputs) == declared, f"outputs {sorted(self.outputs)} != {declared}")
        expect(
            self.outputs["ReportsBucketName"] == self.physical["ReportsBucket"],
            "output ReportsBucketName is not the stack's bucket",
        )
        return (
            f"preflight passed; packaged and deployed; {status['StackStatus']}, "
            f"{len(self.physical)} resources, {len(outputs)} outputs"
        )

    def _read_stack(self) -> None:
        cloudformation = self.client("cloudformation")
        pages = cloudformation.get_paginator("list_stack_resources").paginate(StackName=STACK)
        summaries = [r for page in pages for r in page["StackResourceSummaries"]]
        # moto lists resources whose condition is false with empty fields: not part of the stack.
        self.physical = {
            r["LogicalResourceId"]: r["PhysicalResourceId"]
            for r in summaries
            if r["LogicalResourceId"]
        }
        self.types = {r["LogicalResourceId"]: r["ResourceType"] for r in summaries}
        body = cloudformation.get_template(StackName=STACK)["TemplateBody"]
        self.stack_template = body if isinstance(body, dict) else json.loads(body)

    def _of_type(self, resource_type: str) -> list[str]:
        return sorted(k for k, t in self.types.items() if t == resource_type and k)

    def _properties(self, logical_id: str) -> dict[str, Any]:
        return self.stack_template["Resources"][logical_id].get("Properties", {})

    @property
    def key_arn(self) -> str:
        return self.outputs["KeyArn"]

    def check_bucket(self) -> str:
        retention_days = int(self.parameters["ReportRetentionDays"])
        s3, bucket = self.client("s3"), self.physical["ReportsBucket"]
        rule = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]
        by_default = rule["Rules"][0]["ApplyServerSideEncryptionByDefault"]
        expect(by_default["SSEAlgorithm"] == "aws:kms", f"bucket encryption {by_default}")
        expect(by_default.get("KMSMasterKeyID") == self.key_arn, "bucket not encrypted with key")
        expect(rule["Rules"][0].get("BucketKeyEnabled") is True, "bucket key not enabled")
        lifecycle = s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]
        expect(len(lifecycle) == 1, f"lifecycle rules {lifecycle}")
        expect(lifecycle[0]["Expiration"]["Days"] == retention_days, f"expiry {lifecycle}")
        noncurrent = lifecycle[0]["NoncurrentVersionExpiration"]["NoncurrentDays"]
        expect(noncurrent == retention_days, f"noncurrent expiry {noncurrent}")
        expect(s3.get_bucket_versioning(Bucket=bucket).get("Status") == "Enabled", "versioning")
        block = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
        expect(all(block.values()) and len(block) == 4, f"public access block {block}")
        ownership = s3.get_bucket_ownership_controls(Bucket=bucket)["OwnershipControls"]
        expect(ownership["Rules"][0]["ObjectOwnership"] == "BucketOwnerEnforced", f"{ownership}")
        policy = json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"])
        sids = {s["Sid"] for s in policy["Statement"]}
        expect("DenyInsecureTransport" in sids and "DenyOtherKmsKey" in sids, f"policy {sids}")
        return (
            f"bucket {bucket}: SSE-KMS with the stack key and bucket key, versioned, lifecycle "
            f"expiry {retention_days} days (old versions too), public access blocked, "
            f"bucket-owner-enforced, policy {sorted(sids)}"
        )

    def check_key(self) -> str:
        kms, key = self.client("kms"), self.physical["ComplianceKey"]
        expect(kms.get_key_rotation_status(KeyId=key)["KeyRotationEnabled"], "rotation is off")
        policy = json.loads(kms.get_key_policy(KeyId=key, PolicyName="default")["Policy"])
        sids = sorted(s["Sid"] for s in policy["Statement"])
        declared = sorted(
            s["Sid"] for s in self._properties("ComplianceKey")["KeyPolicy"]["Statement"]
        )
        expect(sids == declared, f"key policy {sids} != {declared}")
        alias = self.physical["ComplianceKeyAlias"]
        aliases = {a["AliasName"]: a.get("TargetKeyId") for a in kms.list_aliases()["Aliases"]}
        expect(aliases.get(alias) == key, f"alias {alias} -> {aliases.get(alias)}")
        return f"key {key}: rotation on, policy {sids}, alias {alias}"

    def check_log_groups(self) -> str:
        retention_days = int(self.parameters["LogRetentionDays"])
        logs = self.client("logs")
        names = [self.physical[k] for k in self._of_type("AWS::Logs::LogGroup")]
        groups = {
            g["logGroupName"]: g
            for name in names
            for g in logs.describe_log_groups(logGroupNamePrefix=name)["logGroups"]
        }
        for name in names:
            group = groups.get(name)
            expect(group is not None, f"log group {name} missing")
            expect(group.get("kmsKeyId") == self.key_arn, f"{name} key {group.get('kmsKeyId')}")
            expect(int(group.get("retentionInDays", 0)) == retention_days, f"{name} retention")
        return f"log groups {', '.join(names)}: encrypted with the key, {retention_days} days"

    def check_topic_and_queue(self) -> str:
        sns, sqs = self.client("sns"), self.client("sqs")
        topic = self.physical["NotificationTopic"]
        attributes = sns.get_topic_attributes(TopicArn=topic)["Attributes"]
        expect(attributes.get("KmsMasterKeyId") == self.key_arn, "topic not encrypted with key")
        sids = {s["Sid"] for s in json.loads(attributes["Policy"])["Statement"]}
        expect({"FunctionsPublish", "AlarmsPublish"} <= sids, f"topic policy {sids}")
        subscriptions = sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
        email = [(s["Protocol"], s["Endpoint"]) for s in subscriptions if s["Protocol"] == "email"]
        expect(email == [("email", INITIAL_PARAMETERS["NotificationEmail"])], f"email {email}")
        queue = self.physical["DeadLetterQueue"]
        q = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["All"])["Attributes"]
        expect(q.get("KmsMasterKeyId") == self.key_arn, "queue not encrypted with the key")
        expect(q.get("MessageRetentionPeriod") == "1209600", "queue keeps messages 14 days")
        queue_sids = {s["Sid"] for s in json.loads(q["Policy"])["Statement"]}
        expect("EventBridgeDeadLetters" in queue_sids, f"queue policy {queue_sids}")
        redrive = self.check_redrive_queue(sns, sqs, "EmailSubscription")
        return (
            f"topic encrypted with the key, policy {sorted(sids)}, e-mail subscription; "
            f"dead-letter queue encrypted with the key, 14 days, policy {sorted(queue_sids)}; "
            f"{redrive}"
        )

    def check_redrive_queue(self, sns: Any, sqs: Any, subscription: str) -> str:
        """The subscription redrives to its own encrypted queue, which only the topic may use."""
        queue_id = f"{subscription}DeadLetterQueue"
        url = self.physical[queue_id]
        q = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
        expect(q.get("KmsMasterKeyId") == self.key_arn, f"{queue_id} not encrypted with the key")
        expect(q.get("MessageRetentionPeriod") == "1209600", f"{queue_id} keeps messages 14 days")
        [statement] = [
            s for s in json.loads(q["Policy"])["Statement"] if s["Sid"] != "DenyInsecureTransport"
        ]
        source = statement["Condition"]["ArnEquals"]["aws:SourceArn"]
        expect(source == self.physical["NotificationTopic"], f"{queue_id} policy source {source}")
        attributes = sns.get_subscription_attributes(SubscriptionArn=self.physical[subscription])[
            "Attributes"
        ]
        target = json.loads(attributes.get("RedrivePolicy", "{}")).get("deadLetterTargetArn")
        expect(target == q["QueueArn"], f"{subscription} redrives to {target}")
        return f"{subscription} redrives to {queue_id} (encrypted, 14 days, only the topic sends)"

    def check_functions(self) -> str:
        log_level = self.parameters["LogLevel"]
        aws_lambda = self.client("lambda")
        reserved = {"ProcessingFunction": 5, "ReportingFunction": 1, "RemediationFunction": 2}
        for logical in FUNCTIONS.values():
            name, declared = self.physical[logical], self._properties(logical)
            config = aws_lambda.get_function_configuration(FunctionName=name)
            for key in ("Runtime", "Handler", "Timeout", "MemorySize", "Architectures"):
                expect(config.get(key) == declared[key], f"{logical} {key} {config.get(key)}")
            role = self.physical[declared["Role"]["Fn::GetAtt"][0]]
            expect(config["Role"].endswith(f"/{role}"), f"{logical} role {config['Role']}")
            env = config["Environment"]["Variables"]
            expect(set(env) == set(declared["Environment"]["Variables"]), f"{logical} env keys")
            expect(env["REPORTS_BUCKET"] == self.physical["ReportsBucket"], f"{logical} bucket")
            expect(env["TOPIC_ARN"] == self.physical["NotificationTopic"], f"{logical} topic")
            expect(env["LOG_LEVEL"] == log_level, f"{logical} LOG_LEVEL {env['LOG_LEVEL']}")
            rules = json.loads(env["RULES"])
            expect(set(rules) == set(self._rule_names()), f"{logical} RULES {rules}")
            concurrency = aws_lambda.get_function_concurrency(FunctionName=name)
            expect(
                concurrency.get("ReservedConcurrentExecutions") == reserved[logical],
                f"{logical} reserved concurrency {concurrency}",
            )
            invoke = aws_lambda.get_function_event_invoke_config(FunctionName=name)
            expect(invoke["MaximumRetryAttempts"] == 2, f"{logical} retries {invoke}")
        processing = aws_lambda.get_function_configuration(
            FunctionName=self.physical["ProcessingFunction"]
        )["Environment"]["Variables"]
        remediation_arn = self.outputs["RemediationFunctionArn"]
        expect(processing["REMEDIATION_FUNCTION"] == remediation_arn, "hand-off target")
        return (
            "3 functions: runtime, handler, arm64, timeout, memory, role as declared; environment "
            "names the stack's bucket, topic, rules and remediation function; reserved "
            "concurrency 5/1/2; async retries 2"
        )

    def _rule_names(self) -> list[str]:
        return [self.physical[k] for k in self._of_type("AWS::Config::ConfigRule")]

    def check_triggers(self) -> str:
        events, aws_lambda = self.client("events"), self.client("lambda")
        dead_letter = self.client("sqs").get_queue_attributes(
            QueueUrl=self.physical["DeadLetterQueue"], AttributeNames=["QueueArn"]
        )["Attributes"]["QueueArn"]
        wiring = {
            "ComplianceChangeRule": "ProcessingFunction",
            "ReportScheduleRule": "ReportingFunction",
        }
        for rule_id, function_id in wiring.items():
            rule = events.describe_rule(Name=self.physical[rule_id])
            expect(rule["State"] == "ENABLED", f"{rule_id} {rule['State']}")
            targets = events.list_targets_by_rule(Rule=rule["Name"])["Targets"]
            arn = self.outputs[f"{function_id}Arn"]
            expect([t["Arn"] for t in targets] == [arn], f"{rule_id} targets {targets}")
            expect(targets[0]["DeadLetterConfig"]["Arn"] == dead_letter, f"{rule_id} DLQ")
            expect(targets[0]["RetryPolicy"]["MaximumRetryAttempts"] == 8, f"{rule_id} retries")
            policy = json.loads(aws_lambda.get_policy(FunctionName=arn)["Policy"])
            sources = [s["Condition"]["ArnLike"]["AWS:SourceArn"] for s in policy["Statement"]]
            expect(sources == [rule["Arn"]], f"{function_id} may be invoked by {sources}")
        pattern = json.loads(
            events.describe_rule(Name=self.physical["ComplianceChangeRule"])["EventPattern"]
        )
        (match,) = pattern["detail"]["configRuleName"]
        expect(
            all(name.startswith(match["prefix"]) for name in self._rule_names()),
            f"event pattern rules {pattern['detail']}",
        )
        schedule = events.describe_rule(Name=self.physical["ReportScheduleRule"])
        expect(schedule["ScheduleExpression"] == "rate(1 day)", f"{schedule}")
        return (
            "compliance changes of our 4 rules -> processing, rate(1 day) -> reporting; both with "
            "the dead-letter queue and 8 retries; invoke permissions scoped to each rule's ARN"
        )

    def check_alarms(self) -> str:
        threshold = float(self.parameters["NonCompliantThreshold"])
        cloudwatch = self.client("cloudwatch")
        names = [self.physical[k] for k in self._of_type("AWS::CloudWatch::Alarm")]
        alarms = {a["AlarmName"]: a for a in cloudwatch.describe_alarms()["MetricAlarms"]}
        topic = self.physical["NotificationTopic"]
        per_rule = 0
        for name in names:
            alarm = alarms.get(name)
            expect(alarm is not None, f"alarm {name} missing")
            expect(alarm["AlarmActions"] == [topic] and alarm["OKActions"] == [topic], name)
            if alarm["MetricName"] == "NonCompliantResources":
                per_rule += 1
                expect(alarm["Threshold"] == threshold, f"{name} threshold {alarm['Threshold']}")
                dimension = alarm["Dimensions"][0]["Value"]
                expect(dimension in self._rule_names(), f"{name} watches {dimension}")
        expect(per_rule == len(self._rule_names()), f"{per_rule} rule alarms")
        return (
            f"{len(names)} alarms notify the topic (alarm and OK); {per_rule} per-rule alarms "
            f"on NonCompliantResources above {threshold:g}"
        )

    def check_config(self) -> str:
        config = self.client("config")
        rules = config.describe_config_rules(ConfigRuleNames=self._rule_names())["ConfigRules"]
        for rule in rules:
            logical = next(k for k, v in self.physical.items() if v == rule["ConfigRuleName"])
            declared = self._properties(logical)
            expect(rule["Source"] == declared["Source"], f"{logical} source {rule['Source']}")
            expect(rule["Scope"] == declared["Scope"], f"{logical} scope {rule['Scope']}")
            if "InputParameters" in declared:
                expect(
                    json.loads(rule["InputParameters"]).keys()
                    == declared["InputParameters"].keys(),
                    f"{logical} inputs {rule['InputParameters']}",
                )
        aggregators = config.describe_configuration_aggregators(
            ConfigurationAggregatorNames=[self.outputs["AggregatorName"]]
        )["ConfigurationAggregators"]
        sources = aggregators[0]["AccountAggregationSources"]
        expect(sources == [{"AccountIds": [ACCOUNT_ID], "AllAwsRegions": True}], f"{sources}")
        return (
            f"{len(rules)} Config rules with the catalog's identifiers, scopes and inputs; "
            "aggregator over all regions (moto stores rules; it never evaluates them)"
        )

    def check_template_only(self) -> str:
        """Properties moto's Lambda backend does not model: read from the deployed template."""
        for logical in FUNCTIONS.values():
            declared = self._properties(logical)
            dead_letter = declared["DeadLetterConfig"]["TargetArn"]["Fn::GetAtt"][0]
            expect(dead_letter == "DeadLetterQueue", f"{logical} dead letters -> {dead_letter}")
            group = declared["LoggingConfig"]["LogGroup"]["Ref"]
            expect(self.types.get(group) == "AWS::Logs::LogGroup", f"{logical} logs -> {group}")
        return (
            "from the deployed template (moto's Lambda has no DeadLetterConfig or LoggingConfig): "
            "each function's dead letters go to DeadLetterQueue and its logs to its log group"
        )

    # Handlers.

    def subscribe_notifications(self) -> None:
        """An SQS queue on the topic: what the functions publish can be read back."""
        sqs, sns = self.client("sqs"), self.client("sns")
        url = sqs.create_queue(QueueName=f"{STACK}-notifications")["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        sns.subscribe(
            TopicArn=self.physical["NotificationTopic"],
            Protocol="sqs",
            Endpoint=arn,
            Attributes={"RawMessageDelivery": "false"},
        )
        self.notifications_queue = url

    def notifications(self) -> list[dict[str, Any]]:
        sqs, found = self.client("sqs"), []
        while True:
            messages = sqs.receive_message(
                QueueUrl=self.notifications_queue, MaxNumberOfMessages=10
            ).get("Messages", [])
            if not messages:
                return found
            for message in messages:
                found.append(json.loads(message["Body"]))
                sqs.delete_message(
                    QueueUrl=self.notifications_queue, ReceiptHandle=message["ReceiptHandle"]
                )

    def run_handler(self, folder: str, event: Any) -> Any:
        """The function's handler, in this process, with the deployed function's environment."""
        logical = FUNCTIONS[folder]
        name = self.physical[logical]
        deployed = self.client("lambda").get_function_configuration(FunctionName=name)
        env = {**os.environ, **deployed["Environment"]["Variables"]}
        env["AWS_LAMBDA_FUNCTION_NAME"] = name
        with environment(env), function_module(FUNCTIONS_DIR / folder) as app:
            return app.handler(event, LambdaContext(name))

    def run_processing(self) -> str:
        if not self.notifications_queue:
            self.subscribe_notifications()
        self.notifications()  # start from an empty queue
        rules = self._rule_names()
        rule = next(r for r in rules if r.endswith("s3-bucket-server-side-encryption-enabled"))
        event = compliance_change_event(
            rule, "AWS::S3::Bucket", self.example_bucket, datetime.now(UTC)
        )
        self.emulator.invocations.clear()
        result = self.run_handler("processing", event)
        expect(result.get("status") == "recorded", f"processing returned {result}")
        key = result["key"]
        expect(key.startswith("compliance-changes/"), f"record key {key}")
        s3 = self.client("s3")
        record = json.loads(
            s3.get_object(Bucket=self.physical["ReportsBucket"], Key=key)["Body"].read()
        )
        text = json.dumps(record)
        expect(rule in text and self.example_bucket in text, f"record {text[:300]}")
        sent = self.notifications()
        expect(len(sent) == 1, f"{len(sent)} notifications")
        expect(self.example_bucket in sent[0]["Message"], f"notification {sent[0]['Message']}")
        handed = [
            i
            for i in self.emulator.invocations
            if i.function
            in (self.outputs["RemediationFunctionArn"], self.physical["RemediationFunction"])
        ]
        expect(len(handed) == 1 and handed[0].invocation_type == "Event", f"hand-off {handed}")
        self.hand_off = handed[0].payload
        late = self.run_handler(
            "processing",
            compliance_change_event(
                rule, "AWS::S3::Bucket", self.example_bucket, datetime.now(UTC) - timedelta(hours=1)
            ),
        )
        expect(late.get("status") == "stale", f"an older evaluation delivered late: {late}")
        expect(self.notifications() == [], "a stale evaluation was notified")
        return (
            f"processing: NON_COMPLIANT change of {rule} recorded at s3://.../{key.split('/')[0]}/"
            f'...; 1 notification "{sent[0].get("Subject", "")}"; async hand-off to remediation; '
            "an older evaluation delivered after it recorded as stale, not notified"
        )

    def run_remediation(self) -> str:
        result = self.run_handler("remediation", self.hand_off)
        expect(result.get("status") == "decided", f"remediation returned {result}")
        s3 = self.client("s3")
        record = json.loads(
            s3.get_object(Bucket=self.physical["ReportsBucket"], Key=result["key"])["Body"].read()
        )
        expect(record.get("outcome") == result["outcome"], f"audit record {record}")
        sent = self.notifications()
        expect(len(sent) == 1, f"{len(sent)} remediation notifications")
        return (
            f"remediation (dry-run) on the hand-off: outcome {result['outcome']} "
            f"({result['reason']}), audit record written, 1 notification"
        )

    def run_reporting(self) -> str:
        """The reporting handler on a scheduled event. moto evaluates no Config rule, so the
        emulator is given what the rules would report: 150 results for the S3 encryption rule
        (two pages) and 3 for the instance-type rule; everything else runs for real."""
        rules = self._rule_names()
        s3_rule = next(r for r in rules if r.endswith("s3-bucket-server-side-encryption-enabled"))
        type_rule = next(r for r in rules if r.endswith("desired-instance-type"))
        now = datetime.now(UTC).timestamp()
        self.emulator.compliance.clear()
        for index in range(150):
            compliance = "NON_COMPLIANT" if index < 5 else "COMPLIANT"
            self.emulator.record_evaluation(
                s3_rule, "AWS::S3::Bucket", f"bucket-{index:03d}", compliance, "no default", now
            )
        for index, compliance in enumerate(("NON_COMPLIANT", "COMPLIANT", "COMPLIANT")):
            self.emulator.record_evaluation(
                type_rule, "AWS::EC2::Instance", f"i-{index:017d}", compliance, "", now
            )
        rule_arn = self.client("events").describe_rule(Name=self.physical["ReportScheduleRule"])[
            "Arn"
        ]
        self.notifications()  # start from an empty queue
        result = self.run_handler("reporting", scheduled_event(rule_arn, datetime.now(UTC)))
        expect(result.get("status") not in ("rejected", None), f"reporting returned {result}")
        s3 = self.client("s3")
        bucket = self.physical["ReportsBucket"]
        listed = s3.list_objects_v2(Bucket=bucket, Prefix="reports/").get("Contents", [])
        keys = sorted(o["Key"] for o in listed)
        names = {key.rsplit("/", 1)[1] for key in keys}
        expect({"summary.json", "details.csv", "report.html"} <= names, f"report objects {keys}")
        prefix = next(k for k in keys if k.endswith("summary.json")).rsplit("/", 1)[0]
        summary_text = s3.get_object(Bucket=bucket, Key=f"{prefix}/summary.json")["Body"].read()
        details = s3.get_object(Bucket=bucket, Key=f"{prefix}/details.csv")["Body"].read()
        html = s3.get_object(Bucket=bucket, Key=f"{prefix}/report.html")["Body"].read().decode()
        summary = json.loads(summary_text)
        expect("bucket-004" in details.decode() and "bucket-005" not in details.decode(), "csv")
        expect(len(details.decode().strip().splitlines()) == 1 + 6, "one csv row per finding")
        expect("<svg" in html and "http://" not in html.replace("http://www.w3.org", ""), "html")
        text = json.dumps(summary)
        expect(s3_rule in text and type_rule in text, f"summary {text[:300]}")
        sent = self.notifications()
        expect(len(sent) == 1, f"{len(sent)} report notifications")
        return (
            f"reporting: 153 evaluations of 2 rules (the S3 rule over 2 pages) -> "
            f"summary.json, details.csv (6 findings), report.html under {prefix}/; "
            "1 summary notification"
        )

    # Update.

    def update(self) -> str:
        self.before_update = dict(self.physical)
        before = dict(self.parameters)
        self.updated = updated_parameters(before)
        self.deploy_stack(self.updated, "parameters-updated")
        changed = {k for k, v in self.parameters.items() if before.get(k) != v}
        expect(set(UPDATE_CANDIDATES) <= changed, f"changed only {sorted(changed)}")
        stateful = sorted(k for k, t in self.types.items() if t in STATEFUL_TYPES)
        replaced = [k for k in stateful if self.before_update.get(k) != self.physical.get(k)]
        expect(not replaced, f"replaced: {replaced}")
        # Replacement in AWS is decided by CloudFormation's schemas, not by moto: no changed
        # parameter may reach a create-only property of a stateful resource.
        for logical in stateful:
            create_only = create_only_properties(self.types[logical], REGION)
            hits = replacing_parameters(self.stack_template, logical, create_only, changed)
            expect(not hits, f"{logical} would be replaced in AWS: {hits}")
        self.check_bucket()
        self.check_log_groups()
        self.check_functions()
        self.check_alarms()
        mode = self.client("lambda").get_function_configuration(
            FunctionName=self.physical["RemediationFunction"]
        )["Environment"]["Variables"]["REMEDIATION_MODE"]
        expect(mode == self.parameters["RemediationMode"], f"REMEDIATION_MODE {mode}")
        shown = ", ".join(f"{k} {before[k]}->{self.parameters[k]}" for k in sorted(changed))
        return (
            f"changed {shown}: new values in effect; same physical ids for "
            f"{', '.join(stateful)}; no changed parameter reaches a create-only property "
            "(CloudFormation's schemas)"
        )

    def redeploy_unchanged(self) -> str:
        """The same files again: the zips are byte-identical, so the packaged template is too,
        and the deploy is an empty change set that succeeds and changes nothing."""
        before = dict(self.physical)
        shown = _Tee(self.out)
        self.deploy_stack(self.updated, "parameters-updated", out=shown)
        expect("No changes to deploy" in shown.getvalue(), "the unchanged deploy changed things")
        expect(self.physical == before, "physical ids changed")
        return "same code and parameters again: empty change set, exit 0, nothing changed"

    # Destroy.

    def destroy(self) -> str:
        kept = deploy.destroy(Target(STACK, REGION), Runner(out=self.out), self.session)
        self.deployed = False
        cloudformation = self.client("cloudformation")
        alive = [s["StackName"] for s in cloudformation.describe_stacks()["Stacks"]]
        expect(STACK not in alive, "the stack still exists")
        kept_ids = {r.logical_id: r for r in kept}
        expect(set(kept_ids) == {"ReportsBucket", "ComplianceKey"}, f"retained {kept_ids}")
        expect(all(r.still_exists for r in kept), f"retained resources gone: {kept}")
        functions = [f["FunctionName"] for f in self.client("lambda").list_functions()["Functions"]]
        groups = self.client("logs").describe_log_groups(logGroupNamePrefix=f"/compliance/{STACK}")
        queues = self.client("sqs").list_queues(QueueNamePrefix=f"{STACK}-DeadLetterQueue")
        rules = self.client("config").describe_config_rules()["ConfigRules"]
        expect(not functions, f"functions left: {functions}")
        expect(not groups["logGroups"], f"log groups left: {groups['logGroups']}")
        expect(not queues.get("QueueUrls"), f"queue left: {queues}")
        expect(not rules, f"Config rules left: {[r['ConfigRuleName'] for r in rules]}")
        topics = [t["TopicArn"] for t in self.client("sns").list_topics()["Topics"]]
        expect(self.physical["NotificationTopic"] not in topics, "the topic is left")
        alarms = self.client("cloudwatch").describe_alarms()["MetricAlarms"]
        expect(not alarms, f"alarms left: {[a['AlarmName'] for a in alarms]}")
        return (
            "stack deleted; functions, log groups, queue, topic, alarms and Config rules gone; "
            "bucket "
            f"{self.physical['ReportsBucket']} and key kept (DeletionPolicy Retain) and reported"
        )

    def cleanup(self) -> None:
        """After a failed step: delete the stack if it may exist (best effort)."""
        if not self.deployed or self.session is None:
            return
        try:
            self.client("cloudformation").delete_stack(StackName=STACK)
        except Exception as error:  # report, then stop the emulator all the same
            print(f"cleanup: deleting stack {STACK} failed: {error}", file=self.out)
        else:
            print(f"cleanup: delete-stack {STACK} requested", file=self.out)
        for line in self.emulator.server_errors[-3:]:
            print(f"cleanup: emulator error: {line}", file=self.out)


class _Tee(io.StringIO):
    """Shows the output as usual and keeps a copy to check."""

    def __init__(self, out: TextIO) -> None:
        super().__init__()
        self._out = out

    def write(self, text: str) -> int:
        self._out.write(text)
        return super().write(text)

    def flush(self) -> None:
        self._out.flush()


@dataclass(frozen=True)
class Step:
    name: str
    run: Callable[[], str]


def steps_of(cycle: Cycle) -> list[Step]:
    return [
        Step("account", cycle.account_setup),
        Step("deploy", cycle.create),
        Step("bucket", cycle.check_bucket),
        Step("key", cycle.check_key),
        Step("log groups", cycle.check_log_groups),
        Step("topic, queue", cycle.check_topic_and_queue),
        Step("functions", cycle.check_functions),
        Step("triggers", cycle.check_triggers),
        Step("alarms", cycle.check_alarms),
        Step("config", cycle.check_config),
        Step("template", cycle.check_template_only),
        Step("processing", cycle.run_processing),
        Step("remediation", cycle.run_remediation),
        Step("reporting", cycle.run_reporting),
        Step("update", cycle.update),
        Step("redeploy", cycle.redeploy_unchanged),
        Step("destroy", cycle.destroy),
    ]


def run_steps(steps: Sequence[Step], out: TextIO) -> bool:
    """Run in order; stop at the first failure. Prints one line per step."""
    unverified = 0
    for step in steps:
        started = time.monotonic()
        try:
            verified = step.run()
        except Exception as error:  # any failure ends the cycle with the reason, then cleanup
            print(f"[FAIL] {step.name}: {type(error).__name__}: {error}", file=out, flush=True)
            return False
        mark = "not verified" if isinstance(verified, Unverified) else "ok"
        unverified += isinstance(verified, Unverified)
        took = time.monotonic() - started
        print(f"[{mark}] {step.name} ({took:.1f}s): {verified}", file=out, flush=True)
    print(
        f"{len(steps) - unverified} steps verified, {unverified} not verifiable on the emulator",
        file=out,
    )
    return True


def run_cycle(
    out: TextIO = sys.stdout,
    template: Path = deploy.DEFAULT_TEMPLATE,
    steps: Callable[[Cycle], list[Step]] = steps_of,
) -> bool:
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="deploy-local-") as work:
        emulator = Emulator(region=REGION)
        emulator.start()
        try:
            print(f"emulator: moto on 127.0.0.1:{emulator.port}, region {REGION}", file=out)
            with environment(emulator.environment(os.environ)):
                cycle = Cycle(emulator, Path(work), out, template)
                cycle.session = boto3.Session(region_name=REGION)
                try:
                    passed = run_steps(steps(cycle), out)
                finally:
                    cycle.cleanup()
        finally:
            emulator.stop()
            print(f"emulator stopped ({time.monotonic() - started:.1f}s in all)", file=out)
    return passed


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m compliance_template.local.cycle",
        description="Deploy, verify, update and delete the stack on a local moto emulator.",
    )
    parser.add_argument("--template", type=Path, default=deploy.DEFAULT_TEMPLATE)
    args = parser.parse_args(argv)
    if not args.template.is_file():
        print(
            f"deploy-local: error: no template at {args.template}: run `make template`",
            file=sys.stderr,
        )
        return 2
    return 0 if run_cycle(template=args.template) else 1


if __name__ == "__main__":
    sys.exit(main())
