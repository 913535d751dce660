"""The checks of the stack deployed on the local emulator: each reads the resources back through
the AWS APIs and compares them with the deployed template and the parameters in effect. Used by
the e2e tests after the first deploy, after the update, and for another template."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from compliance_template.generator.naming import FUNCTION_NAMES, function_logical_id
from compliance_template.local.cycle import INITIAL_PARAMETERS, LocalStack
from compliance_template.local.emulator import ACCOUNT_ID

FUNCTIONS = {name: function_logical_id(name) for name in FUNCTION_NAMES}


def of_type(stack: LocalStack, resource_type: str) -> list[str]:
    return sorted(k for k, t in stack.types.items() if t == resource_type and k)


def properties(stack: LocalStack, logical_id: str) -> dict[str, Any]:
    return stack.stack_template["Resources"][logical_id].get("Properties", {})


RULEBOOK_NAMES = json.loads(
    (Path(__file__).resolve().parents[2] / "functions" / "_shared" / "rulebook.json").read_text(
        encoding="utf-8"
    )
)["names"]


def rule_names(stack) -> list[str]:
    return [stack.physical[k] for k in of_type(stack, "AWS::Config::ConfigRule")]


def check_bucket(stack: LocalStack) -> None:
    key_arn = stack.outputs["KeyArn"]
    retention_days = int(stack.parameters["ReportRetentionDays"])
    s3, bucket = stack.client("s3"), stack.physical["ReportsBucket"]
    rule = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]
    by_default = rule["Rules"][0]["ApplyServerSideEncryptionByDefault"]
    assert by_default["SSEAlgorithm"] == "aws:kms", f"bucket encryption {by_default}"
    assert by_default.get("KMSMasterKeyID") == key_arn, "bucket not encrypted with key"
    assert rule["Rules"][0].get("BucketKeyEnabled") is True, "bucket key not enabled"
    lifecycle = s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]
    assert len(lifecycle) == 1, f"lifecycle rules {lifecycle}"
    assert lifecycle[0]["Expiration"]["Days"] == retention_days, f"expiry {lifecycle}"
    noncurrent = lifecycle[0]["NoncurrentVersionExpiration"]["NoncurrentDays"]
    assert noncurrent == retention_days, f"noncurrent expiry {noncurrent}"
    assert s3.get_bucket_versioning(Bucket=bucket).get("Status") == "Enabled", "versioning"
    block = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    assert all(block.values()) and len(block) == 4, f"public access block {block}"
    ownership = s3.get_bucket_ownership_controls(Bucket=bucket)["OwnershipControls"]
    assert ownership["Rules"][0]["ObjectOwnership"] == "BucketOwnerEnforced", f"{ownership}"
    policy = json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"])
    sids = {s["Sid"] for s in policy["Statement"]}
    assert "DenyInsecureTransport" in sids and "DenyOtherKmsKey" in sids, f"policy {sids}"


def check_key(stack: LocalStack) -> None:
    kms, key = stack.client("kms"), stack.physical["ComplianceKey"]
    assert kms.get_key_rotation_status(KeyId=key)["KeyRotationEnabled"], "rotation is off"
    policy = json.loads(kms.get_key_policy(KeyId=key, PolicyName="default")["Policy"])
    sids = sorted(s["Sid"] for s in policy["Statement"])
    declared = sorted(
        s["Sid"] for s in properties(stack, "ComplianceKey")["KeyPolicy"]["Statement"]
    )
    assert sids == declared, f"key policy {sids} != {declared}"
    alias = stack.physical["ComplianceKeyAlias"]
    aliases = {a["AliasName"]: a.get("TargetKeyId") for a in kms.list_aliases()["Aliases"]}
    assert aliases.get(alias) == key, f"alias {alias} -> {aliases.get(alias)}"


def check_log_groups(stack: LocalStack) -> None:
    key_arn = stack.outputs["KeyArn"]
    retention_days = int(stack.parameters["LogRetentionDays"])
    logs = stack.client("logs")
    names = [stack.physical[k] for k in of_type(stack, "AWS::Logs::LogGroup")]
    groups = {
        g["logGroupName"]: g
        for name in names
        for g in logs.describe_log_groups(logGroupNamePrefix=name)["logGroups"]
    }
    for name in names:
        group = groups.get(name)
        assert group is not None, f"log group {name} missing"
        assert group.get("kmsKeyId") == key_arn, f"{name} key {group.get('kmsKeyId')}"
        assert int(group.get("retentionInDays", 0)) == retention_days, f"{name} retention"


def check_topic_and_queue(stack: LocalStack) -> None:
    key_arn = stack.outputs["KeyArn"]
    sns, sqs = stack.client("sns"), stack.client("sqs")
    topic = stack.physical["NotificationTopic"]
    attributes = sns.get_topic_attributes(TopicArn=topic)["Attributes"]
    assert attributes.get("KmsMasterKeyId") == key_arn, "topic not encrypted with key"
    sids = {s["Sid"] for s in json.loads(attributes["Policy"])["Statement"]}
    assert {"FunctionsPublish", "AlarmsPublish"} <= sids, f"topic policy {sids}"
    subscriptions = sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
    email = [(s["Protocol"], s["Endpoint"]) for s in subscriptions if s["Protocol"] == "email"]
    assert email == [("email", INITIAL_PARAMETERS["NotificationEmail"])], f"email {email}"
    queue = stack.physical["DeadLetterQueue"]
    q = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["All"])["Attributes"]
    assert q.get("KmsMasterKeyId") == key_arn, "queue not encrypted with the key"
    assert q.get("MessageRetentionPeriod") == "1209600", "queue keeps messages 14 days"
    queue_sids = {s["Sid"] for s in json.loads(q["Policy"])["Statement"]}
    assert "EventBridgeDeadLetters" in queue_sids, f"queue policy {queue_sids}"
    check_redrive_queue(stack, sns, sqs, "EmailSubscription")


def check_redrive_queue(stack: LocalStack, sns: Any, sqs: Any, subscription: str) -> None:
    """The subscription redrives to its own encrypted queue, which only the topic may use."""
    key_arn = stack.outputs["KeyArn"]
    queue_id = f"{subscription}DeadLetterQueue"
    url = stack.physical[queue_id]
    q = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert q.get("KmsMasterKeyId") == key_arn, f"{queue_id} not encrypted with the key"
    assert q.get("MessageRetentionPeriod") == "1209600", f"{queue_id} keeps messages 14 days"
    [statement] = [
        s for s in json.loads(q["Policy"])["Statement"] if s["Sid"] != "DenyInsecureTransport"
    ]
    source = statement["Condition"]["ArnEquals"]["aws:SourceArn"]
    assert source == stack.physical["NotificationTopic"], f"{queue_id} policy source {source}"
    attributes = sns.get_subscription_attributes(SubscriptionArn=stack.physical[subscription])[
        "Attributes"
    ]
    target = json.loads(attributes.get("RedrivePolicy", "{}")).get("deadLetterTargetArn")
    assert target == q["QueueArn"], f"{subscription} redrives to {target}"


def check_functions(stack: LocalStack) -> None:
    log_level = stack.parameters["LogLevel"]
    aws_lambda = stack.client("lambda")
    reserved = reserved_concurrency(stack)
    for logical in FUNCTIONS.values():
        name, declared = stack.physical[logical], properties(stack, logical)
        config = aws_lambda.get_function_configuration(FunctionName=name)
        for key in ("Runtime", "Handler", "Timeout", "MemorySize", "Architectures"):
            assert config.get(key) == declared[key], f"{logical} {key} {config.get(key)}"
        role = stack.physical[declared["Role"]["Fn::GetAtt"][0]]
        assert config["Role"].endswith(f"/{role}"), f"{logical} role {config['Role']}"
        env = config["Environment"]["Variables"]
        assert set(env) == set(declared["Environment"]["Variables"]), f"{logical} env keys"
        assert env["REPORTS_BUCKET"] == stack.physical["ReportsBucket"], f"{logical} bucket"
        assert env["TOPIC_ARN"] == stack.physical["NotificationTopic"], f"{logical} topic"
        assert env["LOG_LEVEL"] == log_level, f"{logical} LOG_LEVEL {env['LOG_LEVEL']}"
        # Every deployed rule is <RULE_NAME_PREFIX>-<suffix>, a suffix the rulebook knows.
        prefix = env["RULE_NAME_PREFIX"]
        assert prefix == stack.parameters["RuleNamePrefix"], f"{logical} prefix {prefix}"
        for rule in rule_names(stack):
            assert rule.startswith(f"{prefix}-"), f"{logical} rule {rule}"
            assert rule.removeprefix(f"{prefix}-") in RULEBOOK_NAMES, f"{logical} rule {rule}"
        concurrency = aws_lambda.get_function_concurrency(FunctionName=name)
        assert concurrency.get("ReservedConcurrentExecutions") == reserved.get(logical), (
            f"{logical} reserved concurrency {concurrency}"
        )
        invoke = aws_lambda.get_function_event_invoke_config(FunctionName=name)
        assert invoke["MaximumRetryAttempts"] == 2, f"{logical} retries {invoke}"
    processing = aws_lambda.get_function_configuration(
        FunctionName=stack.physical["ProcessingFunction"]
    )["Environment"]["Variables"]
    remediation_arn = stack.outputs["RemediationFunctionArn"]
    assert processing["REMEDIATION_FUNCTION"] == remediation_arn, "hand-off target"


def reserved_concurrency(stack: LocalStack) -> dict[str, int]:
    """What the template reserves with the ReservedConcurrency in effect: processing that value,
    reporting and remediation their fixed shares, nothing at all when it is 0."""
    processing = int(stack.parameters["ReservedConcurrency"])
    if processing == 0:
        return {}
    return {"ProcessingFunction": processing, "ReportingFunction": 1, "RemediationFunction": 2}


def check_triggers(stack: LocalStack) -> None:
    events, aws_lambda = stack.client("events"), stack.client("lambda")
    dead_letter = stack.client("sqs").get_queue_attributes(
        QueueUrl=stack.physical["DeadLetterQueue"], AttributeNames=["QueueArn"]
    )["Attributes"]["QueueArn"]
    wiring = {
        "ComplianceChangeRule": "ProcessingFunction",
        "ReportScheduleRule": "ReportingFunction",
    }
    for rule_id, function_id in wiring.items():
        rule = events.describe_rule(Name=stack.physical[rule_id])
        assert rule["State"] == "ENABLED", f"{rule_id} {rule['State']}"
        targets = events.list_targets_by_rule(Rule=rule["Name"])["Targets"]
        arn = stack.outputs[f"{function_id}Arn"]
        assert [t["Arn"] for t in targets] == [arn], f"{rule_id} targets {targets}"
        assert targets[0]["DeadLetterConfig"]["Arn"] == dead_letter, f"{rule_id} DLQ"
        assert targets[0]["RetryPolicy"]["MaximumRetryAttempts"] == 8, f"{rule_id} retries"
        policy = json.loads(aws_lambda.get_policy(FunctionName=arn)["Policy"])
        sources = [s["Condition"]["ArnLike"]["AWS:SourceArn"] for s in policy["Statement"]]
        assert sources == [rule["Arn"]], f"{function_id} may be invoked by {sources}"
    pattern = json.loads(
        events.describe_rule(Name=stack.physical["ComplianceChangeRule"])["EventPattern"]
    )
    (match,) = pattern["detail"]["configRuleName"]
    assert all(name.startswith(match["prefix"]) for name in rule_names(stack)), (
        f"event pattern rules {pattern['detail']}"
    )
    schedule = events.describe_rule(Name=stack.physical["ReportScheduleRule"])
    assert schedule["ScheduleExpression"] == stack.parameters["ReportSchedule"], f"{schedule}"


def check_alarms(stack: LocalStack) -> None:
    threshold = float(stack.parameters["NonCompliantThreshold"])
    cloudwatch = stack.client("cloudwatch")
    names = [stack.physical[k] for k in of_type(stack, "AWS::CloudWatch::Alarm")]
    alarms = {a["AlarmName"]: a for a in cloudwatch.describe_alarms()["MetricAlarms"]}
    topic = stack.physical["NotificationTopic"]
    per_rule = 0
    for name in names:
        alarm = alarms.get(name)
        assert alarm is not None, f"alarm {name} missing"
        assert alarm["AlarmActions"] == [topic] and alarm["OKActions"] == [topic], name
        if alarm["MetricName"] == "NonCompliantResources":
            per_rule += 1
            assert alarm["Threshold"] == threshold, f"{name} threshold {alarm['Threshold']}"
            dimension = alarm["Dimensions"][0]["Value"]
            assert dimension in rule_names(stack), f"{name} watches {dimension}"
    assert per_rule == len(rule_names(stack)), f"{per_rule} rule alarms"


def check_config(stack: LocalStack) -> None:
    config = stack.client("config")
    rules = config.describe_config_rules(ConfigRuleNames=rule_names(stack))["ConfigRules"]
    for rule in rules:
        logical = next(k for k, v in stack.physical.items() if v == rule["ConfigRuleName"])
        declared = properties(stack, logical)
        assert rule["Source"] == declared["Source"], f"{logical} source {rule['Source']}"
        # Account-level rules (IAM_PASSWORD_POLICY, CLOUD_TRAIL_ENABLED) have no Scope.
        scope = rule.get("Scope")
        assert scope == declared.get("Scope"), f"{logical} scope {scope}"
        if "InputParameters" in declared:
            assert (
                json.loads(rule["InputParameters"]).keys() == declared["InputParameters"].keys()
            ), f"{logical} inputs {rule['InputParameters']}"
    aggregators = config.describe_configuration_aggregators(
        ConfigurationAggregatorNames=[stack.outputs["AggregatorName"]]
    )["ConfigurationAggregators"]
    sources = aggregators[0]["AccountAggregationSources"]
    assert sources == [{"AccountIds": [ACCOUNT_ID], "AllAwsRegions": True}], f"{sources}"


def check_template_only(stack: LocalStack) -> None:
    """Properties moto's Lambda backend does not model: read from the deployed template."""
    for logical in FUNCTIONS.values():
        declared = properties(stack, logical)
        dead_letter = declared["DeadLetterConfig"]["TargetArn"]["Fn::GetAtt"][0]
        assert dead_letter == "DeadLetterQueue", f"{logical} dead letters -> {dead_letter}"
        group = declared["LoggingConfig"]["LogGroup"]["Ref"]
        assert stack.types.get(group) == "AWS::Logs::LogGroup", f"{logical} logs -> {group}"
