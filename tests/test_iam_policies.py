"""Every permission is a customer-managed policy attached to its role: AWS Config's
IAM_NO_INLINE_POLICY_CHECK (in most of AWS's conformance packs) finds a role with any inline
policy NON_COMPLIANT, and an AWS::IAM::Policy resource is an inline policy too."""

from __future__ import annotations

import json

import pytest
from template_helpers import TEMPLATES, as_dict, resources_of, scan

from compliance_template.generator.settings import Settings

COMMITTED = sorted(TEMPLATES.glob("*.json"))


def _load(path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.mark.parametrize("path", COMMITTED, ids=lambda p: p.name)
def test_no_inline_policies(path):
    template = _load(path)
    assert resources_of(template, "AWS::IAM::Policy") == {}
    for name, role in resources_of(template, "AWS::IAM::Role").items():
        assert "Policies" not in role["Properties"], name


@pytest.mark.parametrize("path", COMMITTED, ids=lambda p: p.name)
def test_managed_policies_are_attached_and_named_by_cloudformation(path):
    template = _load(path)
    roles = resources_of(template, "AWS::IAM::Role")
    for name, policy in resources_of(template, "AWS::IAM::ManagedPolicy").items():
        properties = policy["Properties"]
        # Managed policy names are account-global: a fixed one would clash between the
        # stacks of one account in two regions. CloudFormation generates a unique one.
        assert "ManagedPolicyName" not in properties, name
        assert properties["Description"], name
        (role,) = properties["Roles"]
        assert role["Ref"] in roles, name
        # Attached to a role of the same template that exists whenever the policy does.
        assert roles[role["Ref"]].get("Condition") in (None, policy.get("Condition")), name


@pytest.mark.parametrize("path", COMMITTED, ids=lambda p: p.name)
def test_each_function_waits_for_the_policy_of_its_role(path):
    template = _load(path)
    for name, function in resources_of(template, "AWS::Lambda::Function").items():
        role = function["Properties"]["Role"]["Fn::GetAtt"][0]
        (depends_on,) = function["DependsOn"]
        policy = template["Resources"][depends_on]
        assert policy["Type"] == "AWS::IAM::ManagedPolicy", name
        assert policy["Properties"]["Roles"] == [{"Ref": role}], name


def test_the_recorder_and_channel_wait_for_the_delivery_policy():
    template = as_dict(Settings())
    policy = template["Resources"]["ConfigRecorderDeliveryPolicy"]
    assert policy["Type"] == "AWS::IAM::ManagedPolicy"
    assert policy["Properties"]["Roles"] == [{"Ref": "ConfigRecorderRole"}]
    for name in ("ConfigRecorder", "ConfigDeliveryChannel"):
        assert template["Resources"][name]["DependsOn"] == ["ConfigRecorderDeliveryPolicy"]


def test_the_enforce_policy_is_attached_only_in_enforce_mode():
    template = as_dict(Settings())
    policy = template["Resources"]["RemediationEnforceManagedPolicy"]
    assert policy["Type"] == "AWS::IAM::ManagedPolicy"
    assert policy["Condition"] == "EnforceRemediation"
    assert policy["Properties"]["Roles"] == [{"Ref": "RemediationRole"}]


def test_policies_get_new_logical_ids():
    """CloudFormation refuses an update that changes a resource's type under the same logical
    id, so the managed policies cannot reuse the inline policies' ids."""
    template = as_dict(Settings())
    managed = set(resources_of(template, "AWS::IAM::ManagedPolicy"))
    assert managed == {
        "ConfigRecorderDeliveryPolicy",
        "ProcessingManagedPolicy",
        # The ssm engine's, new with issue 13 (no inline policy had these ids).
        "ProcessingSsmRemediationManagedPolicy",
        "S3AutomationRoleManagedPolicy",
        "ProcessingOpsItemsManagedPolicy",
        "ProcessingSecurityHubImportManagedPolicy",
        "ProcessingSecurityHubManagedPolicy",
        "RemediationEnforceManagedPolicy",
        "RemediationManagedPolicy",
        "RemediationSecurityHubManagedPolicy",
        "ReportingManagedPolicy",
    }


# IAM quotas: characters of a customer-managed policy (whitespace not counted), managed policies
# attached to a role by default.
MAX_MANAGED_POLICY_CHARACTERS = 6144
MAX_POLICIES_PER_ROLE = 10


@pytest.mark.parametrize("path", COMMITTED, ids=lambda p: p.name)
def test_managed_policies_fit_iam_quotas(path):
    template = _load(path)
    for document in scan.policy_documents(template):
        if document.resource_type == "AWS::IAM::ManagedPolicy":
            size = len(json.dumps(document.document, separators=(",", ":")))
            # Example values stand in for deploy-time ones: keep a margin for longer names.
            assert size < MAX_MANAGED_POLICY_CHARACTERS // 2, (document.resource, size)
    attached: dict[str, int] = {}
    for name, role in resources_of(template, "AWS::IAM::Role").items():
        attached[name] = len(role["Properties"].get("ManagedPolicyArns", []))
    for policy in resources_of(template, "AWS::IAM::ManagedPolicy").values():
        attached[policy["Properties"]["Roles"][0]["Ref"]] += 1
    assert all(count <= MAX_POLICIES_PER_ROLE for count in attached.values()), attached
