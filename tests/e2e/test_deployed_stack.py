"""The stack as `make deploy` leaves it, deployed once on the local emulator (conftest.py): every
resource exists and is wired as the template says, read back through the AWS APIs, and the three
function handlers, run in this process, work against it. What moto cannot hold is checked in the
deployed template instead (docs/deploy.md)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from e2e_checks import (
    check_alarms,
    check_bucket,
    check_config,
    check_functions,
    check_key,
    check_log_groups,
    check_template_only,
    check_topic_and_queue,
    check_triggers,
    rule_names,
)
from e2e_handlers import Notifications, compliance_change_event, run_handler, scheduled_event

from compliance_template.local.cycle import REGION, STACK

EXAMPLE_BUCKET = f"{STACK}-example-unencrypted"
S3_RULE = "s3-bucket-server-side-encryption-enabled"
# The default stack's bucket rule runs the ssm engine (AWS Config's remediation); the
# instance-type rule keeps our Lambda engine, so its violations are handed to remediation.
TYPE_RULE = "desired-instance-type"


def test_the_stack_is_created_with_the_declared_outputs(stack):
    status = stack.client("cloudformation").describe_stacks(StackName=STACK)["Stacks"][0]
    assert status["StackStatus"] == "CREATE_COMPLETE"
    assert set(stack.outputs) == set(stack.stack_template["Outputs"])
    assert stack.outputs["ReportsBucketName"] == stack.physical["ReportsBucket"]


def test_the_bucket_is_encrypted_versioned_private_and_expires_records(stack):
    check_bucket(stack)


def test_the_key_rotates_with_the_declared_policy_and_alias(stack):
    check_key(stack)


def test_the_log_groups_are_encrypted_and_kept_as_long_as_configured(stack):
    check_log_groups(stack)


def test_the_topic_and_queues_are_encrypted_with_their_policies(stack):
    check_topic_and_queue(stack)


def test_the_functions_are_configured_as_declared(stack):
    check_functions(stack)


def test_the_event_rules_invoke_the_functions(stack):
    check_triggers(stack)


def test_the_alarms_notify_the_topic(stack):
    check_alarms(stack)


def test_the_config_rules_and_aggregator_are_as_declared(stack):
    check_config(stack)


def test_what_moto_does_not_model_is_declared_in_the_deployed_template(stack):
    check_template_only(stack)


# --- the handlers against the deployed stack --------------------------------------------------


@pytest.fixture(scope="module")
def notifications(stack) -> Notifications:
    return Notifications(stack)


def s3_rule(stack) -> str:
    return next(r for r in rule_names(stack) if r.endswith(S3_RULE))


@pytest.fixture(scope="module")
def processed(stack, notifications) -> dict:
    """Processing run on a NON_COMPLIANT change of a bucket: its result, what it published and
    what it handed to remediation (recorded by the emulator's Lambda)."""
    stack.client("s3").create_bucket(
        Bucket=EXAMPLE_BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION}
    )
    notifications.received()  # start from an empty queue
    event = compliance_change_event(
        s3_rule(stack), "AWS::S3::Bucket", EXAMPLE_BUCKET, datetime.now(UTC)
    )
    stack.emulator.invocations.clear()
    result = run_handler(stack, "processing", event)
    return {"result": result, "sent": notifications.received(), "handed": _handed(stack)}


def _handed(stack) -> list:
    remediation = (stack.outputs["RemediationFunctionArn"], stack.physical["RemediationFunction"])
    return [i for i in stack.emulator.invocations if i.function in remediation]


@pytest.fixture(scope="module")
def handed(stack, processed, notifications) -> list:
    """Processing run on a NON_COMPLIANT change of an instance of a type not allowed: what it
    handed to remediation (the bucket's change, an ssm-engine rule, is handed to nobody)."""
    assert processed["handed"] == []
    image = stack.client("ec2").describe_images()["Images"][0]["ImageId"]
    instance = stack.client("ec2").run_instances(
        ImageId=image, InstanceType="m5.large", MinCount=1, MaxCount=1
    )["Instances"][0]["InstanceId"]
    rule = next(r for r in rule_names(stack) if r.endswith(TYPE_RULE))
    stack.emulator.invocations.clear()
    run_handler(
        stack,
        "processing",
        compliance_change_event(rule, "AWS::EC2::Instance", instance, datetime.now(UTC)),
    )
    notifications.received()  # its violation notice: the tests after this one start empty
    return _handed(stack)


def test_processing_records_the_change_and_notifies_once(stack, processed):
    result = processed["result"]
    assert result.get("status") == "recorded", result
    assert result["key"].startswith("compliance-changes/")
    body = stack.client("s3").get_object(Bucket=stack.physical["ReportsBucket"], Key=result["key"])
    text = json.dumps(json.loads(body["Body"].read()))
    assert s3_rule(stack) in text and EXAMPLE_BUCKET in text, text[:300]
    sent = processed["sent"]
    assert len(sent) == 1 and EXAMPLE_BUCKET in sent[0]["Message"], sent


def test_processing_hands_the_change_to_remediation_asynchronously(handed):
    assert len(handed) == 1 and handed[0].invocation_type == "Event", handed


def test_an_older_evaluation_delivered_later_is_stale_and_not_notified(
    stack, processed, notifications
):
    late = compliance_change_event(
        s3_rule(stack), "AWS::S3::Bucket", EXAMPLE_BUCKET, datetime.now(UTC) - timedelta(hours=1)
    )
    assert run_handler(stack, "processing", late).get("status") == "stale"
    assert notifications.received() == []


def test_remediation_decides_on_the_hand_off_and_writes_its_audit_record(
    stack, handed, notifications
):
    notifications.received()  # start from an empty queue
    result = run_handler(stack, "remediation", handed[0].payload)
    assert result.get("status") == "decided", result
    body = stack.client("s3").get_object(Bucket=stack.physical["ReportsBucket"], Key=result["key"])
    assert json.loads(body["Body"].read()).get("outcome") == result["outcome"]
    assert len(notifications.received()) == 1


def test_reporting_writes_the_three_report_files_and_one_summary(stack, notifications):
    """moto evaluates no Config rule, so the emulator is given what the rules would report: 150
    results for the S3 encryption rule (two pages) and 3 for the instance-type rule."""
    rules = rule_names(stack)
    bucket_rule = s3_rule(stack)
    type_rule = next(r for r in rules if r.endswith("desired-instance-type"))
    now = datetime.now(UTC).timestamp()
    stack.emulator.compliance.clear()
    for index in range(150):
        compliance = "NON_COMPLIANT" if index < 5 else "COMPLIANT"
        stack.emulator.record_evaluation(
            bucket_rule, "AWS::S3::Bucket", f"bucket-{index:03d}", compliance, "no default", now
        )
    for index, compliance in enumerate(("NON_COMPLIANT", "COMPLIANT", "COMPLIANT")):
        stack.emulator.record_evaluation(
            type_rule, "AWS::EC2::Instance", f"i-{index:017d}", compliance, "", now
        )
    schedule = stack.client("events").describe_rule(Name=stack.physical["ReportScheduleRule"])
    notifications.received()  # start from an empty queue
    result = run_handler(stack, "reporting", scheduled_event(schedule["Arn"], datetime.now(UTC)))
    assert result.get("status") not in ("rejected", None), result
    s3, bucket = stack.client("s3"), stack.physical["ReportsBucket"]
    listed = s3.list_objects_v2(Bucket=bucket, Prefix="reports/").get("Contents", [])
    keys = sorted(o["Key"] for o in listed)
    assert {"summary.json", "details.csv", "report.html"} <= {k.rsplit("/", 1)[1] for k in keys}
    prefix = next(k for k in keys if k.endswith("summary.json")).rsplit("/", 1)[0]

    def read(name: str) -> str:
        return s3.get_object(Bucket=bucket, Key=f"{prefix}/{name}")["Body"].read().decode()

    details, html = read("details.csv"), read("report.html")
    assert "bucket-004" in details and "bucket-005" not in details
    assert len(details.strip().splitlines()) == 1 + 6, "one csv row per finding"
    assert "<svg" in html and "http://" not in html.replace("http://www.w3.org", "")
    summary = read("summary.json")
    assert bucket_rule in summary and type_rule in summary, summary[:300]
    assert len(notifications.received()) == 1
