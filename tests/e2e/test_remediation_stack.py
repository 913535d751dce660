"""AWS-native remediation through the local cycle: a generated stack whose bucket-encryption
rule runs the ssm engine with a settings exemption (so its configuration is manual and processing
starts it), and whose public-read rule runs behind an approval runbook (the Automation approval
topic with processing subscribed), deployed on the emulator in enforce mode. The real processing
handler runs in this process against it: it starts the remediation of a failure, passes an
approval request on to people, and the stack's deletion takes the configurations with it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from e2e_handlers import Notifications, compliance_change_event, run_handler

from compliance_template.generator.settings import Settings
from compliance_template.generator.template import build_template
from compliance_template.local.cycle import INITIAL_PARAMETERS, LocalStack, local_stack
from compliance_template.local.emulator import ACCOUNT_ID
from compliance_template.output import render
from compliance_template.paths import FUNCTIONS_DIR

RULE_LOGICAL = "S3BucketServerSideEncryptionEnabledRule"
IDENTIFIER = "S3_BUCKET_SERVER_SIDE_ENCRYPTION_ENABLED"
PUBLIC_READ = "S3_BUCKET_PUBLIC_READ_PROHIBITED"
DOCUMENT = "AWS-EnableS3BucketEncryption"
BUCKET = "remediation-data-bucket"
DAY = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
EXECUTION = "4f8f1c5e-2d3b-4a6c-9e7d-0123456789ab"
SETTINGS = {
    "rules": [IDENTIFIER, PUBLIC_READ, "DESIRED_INSTANCE_TYPE"],
    "remediation": {PUBLIC_READ: "ssm"},
    "remediation_approval": {"approvers": [f"arn:aws:iam::{ACCOUNT_ID}:role/SecurityLead"]},
    "exemptions": [
        {
            "id": "legacy-buckets",
            "rules": [IDENTIFIER],
            "resources": ["legacy-*"],
            "reason": "migrating to the new data platform",
            "owner": "data-platform",
            "granted": "2026-12-01",
            "expires": "2027-02-01",
        }
    ],
}


@pytest.fixture(scope="module")
def stack(tmp_path_factory) -> Iterator[LocalStack]:
    # The functions' code given whole: the template is written outside templates/.
    settings = Settings.from_mapping(
        SETTINGS, code_root=str(FUNCTIONS_DIR), today=date(2026, 12, 2)
    )
    path = Path(tmp_path_factory.mktemp("remediation")) / "template.json"
    path.write_text(render(build_template(settings), "json"), encoding="utf-8")
    with local_stack(path) as running:
        running.account_setup()
        running.deploy_stack({**INITIAL_PARAMETERS, "RemediationMode": "enforce"}, "enforce")
        yield running


@pytest.fixture(scope="module")
def notifications(stack: LocalStack) -> Notifications:
    return Notifications(stack)


def rule_name(stack: LocalStack) -> str:
    return stack.physical[RULE_LOGICAL]


def test_the_cycle_shows_the_remediation_configurations(stack):
    public_read = stack.physical["S3BucketPublicReadProhibitedRule"]
    shown = stack.remediations()
    # The exempted rule is manual in every mode; the approval runbook's is automatic in enforce.
    assert f"{rule_name(stack)} -> {DOCUMENT} (manual)" in shown
    runbook = stack.physical["ApprovalAWSDisableS3BucketPublicReadWrite"]
    assert f"{public_read} -> {runbook} (automatic)" in shown
    configurations = {c["ConfigRuleName"]: c for c in stack.remediation_configurations()}
    assert configurations[rule_name(stack)]["Parameters"]["SSEAlgorithm"] == {
        "StaticValue": {"Values": ["aws:kms"]}
    }
    role = configurations[rule_name(stack)]["Parameters"]["AutomationAssumeRole"]
    assert role["StaticValue"]["Values"][0].startswith(f"arn:aws:iam::{ACCOUNT_ID}:role/")


def test_processing_starts_the_remediation_of_a_failure_in_enforce(stack, notifications):
    stack.emulator.record_evaluation(rule_name(stack), "AWS::S3::Bucket", BUCKET, "NON_COMPLIANT")
    event = compliance_change_event(rule_name(stack), "AWS::S3::Bucket", BUCKET, DAY)
    result = run_handler(stack, "processing", event)
    assert result["sent"] == ["notification", "remediation-execution"], result
    [status] = stack.client("config").describe_remediation_execution_status(
        ConfigRuleName=rule_name(stack)
    )["RemediationExecutionStatuses"]
    assert status["ResourceKey"] == {"resourceType": "AWS::S3::Bucket", "resourceId": BUCKET}
    [envelope] = notifications.received()
    assert "the processing function starts it automatically" in envelope["Message"]


def test_an_approval_request_reaches_the_notification_topic(stack, notifications):
    topic = stack.physical["AutomationApprovalTopic"]
    event = {
        "Records": [
            {
                "EventSource": "aws:sns",
                "Sns": {
                    "MessageId": "approval-1",
                    "TopicArn": topic,
                    "Timestamp": "2026-12-01T10:00:00.000Z",
                    "Message": f"Execution {EXECUTION} waits.\nDocument: {DOCUMENT}\n",
                },
            }
        ]
    }
    assert run_handler(stack, "processing", event)["outcomes"] == ["published"]
    [envelope] = notifications.received()
    assert envelope["MessageAttributes"]["notificationType"]["Value"] == "approval-request"
    assert f"--automation-execution-id {EXECUTION} --signal-type Approve" in envelope["Message"]
    assert topic.rsplit(":", 1)[-1].startswith("Automation")


def test_deleting_the_stack_removes_the_configuration(stack):
    rule = rule_name(stack)
    stack.destroy()
    config = stack.client("config")
    assert (
        config.describe_remediation_configurations(ConfigRuleNames=[rule])[
            "RemediationConfigurations"
        ]
        == []
    )
