"""The default template deployed on the emulator with SecurityHubFindings=import: the
conditional policies are attached, and processing, run in this process with the deployed
function's environment, imports its finding into Security Hub; with config, it annotates the
finding AWS Config sent."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from e2e_handlers import compliance_change_event, run_handler

from compliance_template.local.cycle import INITIAL_PARAMETERS, REGION, LocalStack, local_stack
from compliance_template.local.emulator import ACCOUNT_ID
from compliance_template.local.security_hub import send_config_evaluation

BUCKET = "compliance-local-public-bucket"
RULE_SUFFIX = "s3-bucket-server-side-encryption-enabled"


@pytest.fixture(scope="module")
def stack() -> Iterator[LocalStack]:
    with local_stack() as running:
        running.account_setup()
        running.client("securityhub").enable_security_hub()
        running.deploy_stack({**INITIAL_PARAMETERS, "SecurityHubFindings": "import"}, "hub")
        yield running


def rule_name(stack: LocalStack) -> str:
    return f"{stack.parameters['RuleNamePrefix']}-{RULE_SUFFIX}"


def attached(stack: LocalStack, role: str) -> set[str]:
    iam = stack.client("iam")
    policies = iam.list_attached_role_policies(RoleName=stack.physical[role])
    return {p["PolicyName"] for p in policies["AttachedPolicies"]}


def test_the_modes_policies_are_attached_to_the_functions_roles(stack):
    processing = attached(stack, "ProcessingRole")
    remediation = attached(stack, "RemediationRole")
    for policy in (
        "ProcessingSecurityHubManagedPolicy",
        "ProcessingSecurityHubImportManagedPolicy",
    ):
        assert stack.physical[policy].split("/")[-1] in processing
    assert stack.physical["RemediationSecurityHubManagedPolicy"].split("/")[-1] in remediation
    variables = stack.client("lambda").get_function_configuration(
        FunctionName=stack.physical["ProcessingFunction"]
    )["Environment"]["Variables"]
    assert variables["SECURITY_HUB_MODE"] == "import"


def test_processing_imports_its_finding_and_annotates_it(stack):
    event = compliance_change_event(rule_name(stack), "AWS::S3::Bucket", BUCKET, datetime.now(UTC))
    result = run_handler(stack, "processing", event)
    assert "securityhub" in result["sent"]
    [finding] = stack.client("securityhub").get_findings(
        Filters={"GeneratorId": [{"Value": rule_name(stack), "Comparison": "EQUALS"}]}
    )["Findings"]
    assert finding["ProductArn"].endswith(f":product/{ACCOUNT_ID}/default")
    assert finding["Compliance"] == {"Status": "FAILED"}
    assert finding["Note"]["Text"].startswith("Non-compliant. Runbook:")


def test_config_mode_annotates_aws_configs_finding_and_imports_none(stack):
    # (moto keeps a resource whose condition turns false on an update: the import policy's
    # removal is checked on the template, tests/test_security_hub_template.py.)
    stack.deploy_stack({**INITIAL_PARAMETERS, "SecurityHubFindings": "config"}, "hub-config")
    now = datetime.now(UTC)
    sent = send_config_evaluation(
        ACCOUNT_ID, REGION, rule_name(stack), "AWS::S3::Bucket", "other-bucket",
        "NON_COMPLIANT", now.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
    )  # fmt: skip
    event = compliance_change_event(rule_name(stack), "AWS::S3::Bucket", "other-bucket", now)
    assert "securityhub" in run_handler(stack, "processing", event)["sent"]
    [finding] = stack.client("securityhub").get_findings(
        Filters={"Id": [{"Value": sent["Id"], "Comparison": "EQUALS"}]}
    )["Findings"]
    assert finding["Note"]["Text"].startswith("Non-compliant. Runbook:")
