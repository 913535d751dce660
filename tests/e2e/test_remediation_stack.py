"""AWS-native remediation through the local cycle: the default template with what the generator
adds for an ssm-engine rule by the shared contract of issue 13 (a RemediationConfiguration, an
approval wrapper runbook, the Automation approval topic with processing subscribed, and
SSM_REMEDIATION / REMEDIATION_MODE in processing's environment), deployed on the emulator in
enforce mode. The real processing handler runs in this process against it: it starts the
remediation of a failure, passes an approval request on to people, and the stack's deletion
takes the configuration with it.

Until the generator emits these resources, the additions are made here, by the contract; once
it does, the test can deploy the generated template as it is."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from e2e_handlers import Notifications, compliance_change_event, run_handler
from template_helpers import TEMPLATES

from compliance_template.local.cycle import INITIAL_PARAMETERS, LocalStack, local_stack
from compliance_template.local.emulator import ACCOUNT_ID
from compliance_template.paths import FUNCTIONS_DIR

RULE_LOGICAL = "S3BucketServerSideEncryptionEnabledRule"
IDENTIFIER = "S3_BUCKET_SERVER_SIDE_ENCRYPTION_ENABLED"
DOCUMENT = "AWS-EnableS3BucketEncryption"
BUCKET = "remediation-data-bucket"
DAY = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
EXECUTION = "4f8f1c5e-2d3b-4a6c-9e7d-0123456789ab"


def with_ssm_remediation(template: dict[str, Any]) -> dict[str, Any]:
    """The default template plus the contract's resources for one ssm-engine rule that
    processing starts ("processing": its configuration is manual in every mode)."""
    resources = template["Resources"]
    template.setdefault("Conditions", {})["SsmRemediationOn"] = {
        "Fn::Not": [{"Fn::Equals": [{"Ref": "RemediationMode"}, "off"]}]
    }
    resources["S3BucketServerSideEncryptionEnabledRemediation"] = {
        "Type": "AWS::Config::RemediationConfiguration",
        "Condition": "SsmRemediationOn",
        "Properties": {
            "ConfigRuleName": {"Ref": RULE_LOGICAL},
            "TargetType": "SSM_DOCUMENT",
            "TargetId": DOCUMENT,
            "Automatic": False,
            "Parameters": {
                "BucketName": {"ResourceValue": {"Value": "RESOURCE_ID"}},
                "SSEAlgorithm": {"StaticValue": {"Values": ["AES256"]}},
            },
        },
    }
    resources["ApprovalRunbook"] = {
        "Type": "AWS::SSM::Document",
        "Properties": {
            "DocumentType": "Automation",
            "Content": {
                "schemaVersion": "0.3",
                "parameters": {"BucketName": {"type": "String"}},
                "mainSteps": [
                    {
                        "name": "approve",
                        "action": "aws:approve",
                        "inputs": {
                            "NotificationArn": {"Ref": "AutomationApprovalTopic"},
                            "Approvers": [f"arn:aws:iam::{ACCOUNT_ID}:role/SecurityLead"],
                            "MinRequiredApprovals": 1,
                            "Message": "Document: " + DOCUMENT,
                        },
                    },
                    {
                        "name": "run",
                        "action": "aws:executeAutomation",
                        "inputs": {"DocumentName": DOCUMENT},
                    },
                ],
            },
        },
    }
    resources["AutomationApprovalTopic"] = {
        "Type": "AWS::SNS::Topic",
        "Properties": {
            "TopicName": {"Fn::Sub": "Automation-${AWS::StackName}-approvals"},
            "KmsMasterKeyId": {"Ref": "ComplianceKey"},
        },
    }
    resources["AutomationApprovalSubscription"] = {
        "Type": "AWS::SNS::Subscription",
        "Properties": {
            "TopicArn": {"Ref": "AutomationApprovalTopic"},
            "Protocol": "lambda",
            "Endpoint": {"Fn::GetAtt": ["ProcessingFunction", "Arn"]},
        },
    }
    for resource in resources.values():
        # The copy is written elsewhere: its functions' code, relative to templates/, made whole.
        code = resource.get("Properties", {}).get("Code")
        if resource["Type"] == "AWS::Lambda::Function" and isinstance(code, str):
            resource["Properties"]["Code"] = str(FUNCTIONS_DIR / Path(code).name)
    variables = resources["ProcessingFunction"]["Properties"]["Environment"]["Variables"]
    variables["SSM_REMEDIATION"] = json.dumps({IDENTIFIER: "processing"})
    variables["REMEDIATION_MODE"] = {"Ref": "RemediationMode"}
    variables["REMEDIATE_RULES"] = '["DESIRED_INSTANCE_TYPE"]'  # ssm rules are not handed off
    return template


@pytest.fixture(scope="module")
def stack(tmp_path_factory) -> Iterator[LocalStack]:
    original = json.loads((TEMPLATES / "compliance-monitoring.json").read_text(encoding="utf-8"))
    path = Path(tmp_path_factory.mktemp("remediation")) / "template.json"
    path.write_text(json.dumps(with_ssm_remediation(original)), encoding="utf-8")
    with local_stack(path) as running:
        running.account_setup()
        running.deploy_stack({**INITIAL_PARAMETERS, "RemediationMode": "enforce"}, "enforce")
        yield running


@pytest.fixture(scope="module")
def notifications(stack: LocalStack) -> Notifications:
    return Notifications(stack)


def rule_name(stack: LocalStack) -> str:
    return stack.physical[RULE_LOGICAL]


def test_the_cycle_shows_the_remediation_configuration(stack):
    shown = stack.remediations()
    assert shown == f"remediation configurations: {rule_name(stack)} -> {DOCUMENT} (manual)"
    [configuration] = stack.remediation_configurations()
    assert configuration["Parameters"]["SSEAlgorithm"] == {"StaticValue": {"Values": ["AES256"]}}


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
