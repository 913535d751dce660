"""The largest framework (nist-800-53-rev-5, 130 rules) deployed on the local emulator: the
stack's resources are created, and the three function handlers, run in this process with the
deployed environment, work unchanged at that scale: processing knows every one of the 130 rules
by its name, reporting reports all of them and scores the framework, remediation acts only on
the rules it has modules for."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from e2e_checks import check_config, check_functions, rule_names
from e2e_handlers import Notifications, compliance_change_event, run_handler, scheduled_event
from template_helpers import TEMPLATES

from compliance_template.local.cycle import LocalStack, local_stack

TEMPLATE = TEMPLATES / "framework-nist-800-53-rev-5.json"
FRAMEWORK = "nist-800-53-rev-5"
S3_RULE = "s3-bucket-server-side-encryption-enabled"


@pytest.fixture(scope="module")
def stack() -> Iterator[LocalStack]:
    with local_stack(TEMPLATE) as running:
        running.account_setup()
        running.create()
        yield running


def test_the_130_rules_are_deployed_and_the_functions_configured(stack):
    assert len(rule_names(stack)) == 130
    check_config(stack)
    check_functions(stack)


def test_processing_knows_every_rule_by_its_name(stack):
    notifications = Notifications(stack)
    notifications.received()
    now = datetime.now(UTC)
    statuses = {}
    for index, rule in enumerate(sorted(rule_names(stack))):
        event = compliance_change_event(rule, "AWS::S3::Bucket", f"bucket-{index:03d}", now)
        statuses[rule] = run_handler(stack, "processing", event).get("status")
    assert set(statuses.values()) == {"recorded"}, {
        k: v for k, v in statuses.items() if v != "recorded"
    }
    sent = notifications.received()
    assert len(sent) == 130 and all(FRAMEWORK in message["Message"] for message in sent[:3])


def test_reporting_reports_every_rule_and_scores_the_framework(stack):
    """One result per rule, a tenth of them NON_COMPLIANT: the score is 90% of the evaluated
    combinations (the manual controls have no result and count as manual)."""
    stack.emulator.compliance.clear()
    now = datetime.now(UTC).timestamp()
    rules = sorted(rule_names(stack))
    failing = set(rules[::10])
    for index, rule in enumerate(rules):
        compliance = "NON_COMPLIANT" if rule in failing else "COMPLIANT"
        stack.emulator.record_evaluation(
            rule, "AWS::S3::Bucket", f"bucket-{index:03d}", compliance, "", now
        )
    schedule = stack.client("events").describe_rule(Name=stack.physical["ReportScheduleRule"])
    result = run_handler(stack, "reporting", scheduled_event(schedule["Arn"], datetime.now(UTC)))
    assert result.get("status") not in ("rejected", None), result
    s3, bucket = stack.client("s3"), stack.physical["ReportsBucket"]
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix="reports/")["Contents"]]
    summary_key = next(k for k in keys if k.endswith("summary.json"))
    summary = json.loads(s3.get_object(Bucket=bucket, Key=summary_key)["Body"].read())
    text = json.dumps(summary)
    assert FRAMEWORK in text
    assert all(rule in text for rule in rules[:5])
    expected = round(100 * (len(rules) - len(failing)) / len(rules), 2)
    assert str(expected) in text, (expected, text[:500])


def test_remediation_acts_only_on_rules_it_has_modules_for(stack):
    processing = stack.client("lambda").get_function_configuration(
        FunctionName=stack.physical["ProcessingFunction"]
    )["Environment"]["Variables"]
    remediated = json.loads(processing["REMEDIATE_RULES"])
    assert remediated and len(remediated) < 10
    # A rule of our Lambda engine (the bucket encryption rule runs AWS Config's ssm engine).
    rule = next(r for r in rule_names(stack) if r.endswith("-encrypted-volumes"))
    volume = stack.client("ec2").create_volume(AvailabilityZone="eu-west-1a", Size=8)["VolumeId"]
    stack.emulator.invocations.clear()
    event = compliance_change_event(rule, "AWS::EC2::Volume", volume, datetime.now(UTC))
    run_handler(stack, "processing", event)
    handed = [i for i in stack.emulator.invocations if "Remediation" in i.function]
    assert len(handed) == 1
    result = run_handler(stack, "remediation", handed[0].payload)
    assert result.get("status") == "decided", result
