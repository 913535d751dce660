"""SecurityHubFindings: off by default, and only then does the template grant nothing; otherwise
least-privilege managed policies, scoped to this account's hub and its own product."""

from __future__ import annotations

import json

import pytest
from template_helpers import TEMPLATES, evaluate_condition, resources_of

from compliance_template.generator.conditions import SECURITY_HUB_IMPORT, SECURITY_HUB_ON
from compliance_template.generator.parameters import GROUP_SECURITY_HUB

HUB = "arn:${AWS::Partition}:securityhub:${AWS::Region}:${AWS::AccountId}:hub/default"
PRODUCT = (
    "arn:${AWS::Partition}:securityhub:${AWS::Region}:${AWS::AccountId}:"
    "product/${AWS::AccountId}/default"
)
FUNCTION_TEMPLATES = ("compliance-monitoring.json", "org-member.json")


def load(name: str) -> dict:
    return json.loads((TEMPLATES / name).read_text())


def security_hub_policies(template: dict) -> dict[str, dict]:
    return {
        name: policy
        for name, policy in resources_of(template, "AWS::IAM::ManagedPolicy").items()
        if "SecurityHub" in name
    }


@pytest.mark.parametrize("name", FUNCTION_TEMPLATES)
def test_the_parameter_is_off_by_default_with_three_modes(name):
    template = load(name)
    parameter = template["Parameters"]["SecurityHubFindings"]
    assert parameter["Default"] == "off"
    assert parameter["AllowedValues"] == ["off", "config", "import"]
    groups = template["Metadata"]["AWS::CloudFormation::Interface"]["ParameterGroups"]
    [group] = [g for g in groups if "SecurityHubFindings" in g["Parameters"]]
    assert group["Label"]["default"] == GROUP_SECURITY_HUB


@pytest.mark.parametrize("name", FUNCTION_TEMPLATES)
@pytest.mark.parametrize(
    ("mode", "on", "imports"),
    [("off", False, False), ("config", True, False), ("import", True, True)],
)
def test_the_policies_exist_only_in_the_modes_that_need_them(name, mode, on, imports):
    template = load(name)
    parameters = {"SecurityHubFindings": mode}
    assert evaluate_condition(template, SECURITY_HUB_ON, "eu-west-1", parameters) is on
    assert evaluate_condition(template, SECURITY_HUB_IMPORT, "eu-west-1", parameters) is imports
    for policy_name, policy in security_hub_policies(template).items():
        expected = SECURITY_HUB_IMPORT if "Import" in policy_name else SECURITY_HUB_ON
        assert policy["Condition"] == expected, policy_name


def test_each_function_gets_only_what_it_calls():
    policies = security_hub_policies(load("compliance-monitoring.json"))
    assert set(policies) == {
        "ProcessingSecurityHubManagedPolicy",
        "ProcessingSecurityHubImportManagedPolicy",
        "RemediationSecurityHubManagedPolicy",
    }
    roles = {name: p["Properties"]["Roles"] for name, p in policies.items()}
    assert roles["ProcessingSecurityHubManagedPolicy"] == [{"Ref": "ProcessingRole"}]
    assert roles["ProcessingSecurityHubImportManagedPolicy"] == [{"Ref": "ProcessingRole"}]
    assert roles["RemediationSecurityHubManagedPolicy"] == [{"Ref": "RemediationRole"}]
    assert set(security_hub_policies(load("org-member.json"))) == {
        "ProcessingSecurityHubManagedPolicy",
        "ProcessingSecurityHubImportManagedPolicy",
    }
    assert security_hub_policies(load("org-central.json")) == {}


def statements_of(policy: dict) -> dict[str, dict]:
    return {s["Sid"]: s for s in policy["Properties"]["PolicyDocument"]["Statement"]}


def test_every_statement_is_scoped_to_the_accounts_hub_or_its_own_product():
    policies = security_hub_policies(load("compliance-monitoring.json"))
    for policy in policies.values():
        for statement in statements_of(policy).values():
            assert statement["Effect"] == "Allow"
            [resource] = statement["Resource"]
            assert resource["Fn::Sub"] in (HUB, PRODUCT), statement["Sid"]
            if statement["Action"] == ["securityhub:BatchImportFindings"]:
                assert resource["Fn::Sub"] == PRODUCT
                assert statement["Condition"] == {
                    "StringEquals": {"securityhub:TargetAccount": {"Ref": "AWS::AccountId"}}
                }
            else:
                assert resource["Fn::Sub"] == HUB
    actions = sorted(
        action
        for policy in policies.values()
        for statement in statements_of(policy).values()
        for action in statement["Action"]
    )
    assert actions == [
        "securityhub:BatchImportFindings",
        "securityhub:BatchUpdateFindings",
        "securityhub:BatchUpdateFindings",
        "securityhub:GetFindings",
        "securityhub:GetFindings",
    ]


def test_processing_may_only_suppress_or_reopen_and_remediation_only_write_notes():
    policies = security_hub_policies(load("compliance-monitoring.json"))
    processing = statements_of(policies["ProcessingSecurityHubManagedPolicy"])["AnnotateFindings"]
    assert processing["Condition"]["StringEqualsIfExists"] == {
        "securityhub:ASFFSyntaxPath/Workflow.Status": ["NEW", "SUPPRESSED"]
    }
    remediation = statements_of(policies["RemediationSecurityHubManagedPolicy"])["AnnotateFindings"]
    assert remediation["Condition"]["Null"]["securityhub:ASFFSyntaxPath/Workflow.Status"] == "true"
    for statement in (processing, remediation):
        untouched = statement["Condition"]["Null"]
        assert untouched["securityhub:ASFFSyntaxPath/Severity.Label"] == "true"
        assert untouched["securityhub:ASFFSyntaxPath/VerificationState"] == "true"


@pytest.mark.parametrize("name", FUNCTION_TEMPLATES)
def test_the_functions_read_the_mode_from_the_parameter(name):
    functions = resources_of(load(name), "AWS::Lambda::Function")
    for logical_id, function in functions.items():
        variables = function["Properties"]["Environment"]["Variables"]
        if logical_id == "ReportingFunction":
            assert "SECURITY_HUB_MODE" not in variables
        else:
            assert variables["SECURITY_HUB_MODE"] == {"Ref": "SecurityHubFindings"}


@pytest.mark.parametrize("name", FUNCTION_TEMPLATES)
def test_the_default_template_creates_no_security_hub_resource(name):
    """Off by default: with the defaults neither condition holds, and every Security Hub
    resource carries one of them (the functions read mode off, their own default too)."""
    template = load(name)
    defaults = {"SecurityHubFindings": template["Parameters"]["SecurityHubFindings"]["Default"]}
    for condition in (SECURITY_HUB_ON, SECURITY_HUB_IMPORT):
        assert not evaluate_condition(template, condition, "us-east-1", defaults)
    security_hub = [n for n in template["Resources"] if "SecurityHub" in n]
    assert security_hub
    for logical_id in security_hub:
        assert template["Resources"][logical_id]["Condition"] in (
            SECURITY_HUB_ON,
            SECURITY_HUB_IMPORT,
        )
