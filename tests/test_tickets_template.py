"""The template side of tickets: the CreateOpsItems parameter, its condition, the processing
function's tag-scoped OpsItems policy and environment, in the single and the organization
templates."""

from __future__ import annotations

import json

import pytest
from template_helpers import TEMPLATES, evaluate_condition, statements

from compliance_template.generator.limits import MAX_ENVIRONMENT_BYTES, worst_case_environment_bytes
from compliance_template.generator.naming import OPS_ITEM_TAG_KEY

POLICY = "ProcessingOpsItemsManagedPolicy"
WITH_PROCESSING = (
    "compliance-monitoring.json",
    "compliance-monitoring-all-rules.json",
    "org-member.json",
)


def load(name: str) -> dict:
    return json.loads((TEMPLATES / name).read_text())


@pytest.mark.parametrize("name", WITH_PROCESSING)
def test_tickets_are_off_unless_the_parameter_says_true(name):
    template = load(name)
    parameter = template["Parameters"]["CreateOpsItems"]
    assert parameter["Default"] == "false"
    assert parameter["AllowedValues"] == ["false", "true"]
    policy = template["Resources"][POLICY]
    assert policy["Condition"] == "OpsItemsRequested"
    assert policy["Properties"]["Roles"] == [{"Ref": "ProcessingRole"}]
    for value, expected in (("false", False), ("true", True)):
        assert (
            evaluate_condition(
                template, "OpsItemsRequested", "eu-west-1", {"CreateOpsItems": value}
            )
            is expected
        )


@pytest.mark.parametrize("name", WITH_PROCESSING)
def test_the_ops_items_policy_grants_only_create_and_resolve_of_tagged_ops_items(name):
    document = load(name)["Resources"][POLICY]["Properties"]["PolicyDocument"]
    by_sid = statements(document)
    assert set(by_sid) == {
        "OpenTaggedOpsItems",
        "TagOpenedOpsItems",
        "ResolveOwnOpsItems",
        "KeepOpsItemIds",
    }
    only_our_tag = {
        "StringEquals": {f"aws:RequestTag/{OPS_ITEM_TAG_KEY}": {"Ref": "AWS::StackName"}},
        "ForAllValues:StringEquals": {"aws:TagKeys": [OPS_ITEM_TAG_KEY]},
    }
    opsitems = [{"Fn::Sub": "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:opsitem/*"}]
    create = by_sid["OpenTaggedOpsItems"]
    # CreateOpsItem has no resource type: only the request tags can narrow it.
    assert create["Action"] == ["ssm:CreateOpsItem"] and create["Resource"] == ["*"]
    assert create["Condition"] == only_our_tag
    # The tags of a new OpsItem are a tagging request on it, with the same single tag.
    tag = by_sid["TagOpenedOpsItems"]
    assert tag["Action"] == ["ssm:AddTagsToResource"] and tag["Resource"] == opsitems
    assert tag["Condition"] == only_our_tag
    resolve = by_sid["ResolveOwnOpsItems"]
    assert resolve["Action"] == ["ssm:UpdateOpsItem"]
    assert resolve["Resource"] == opsitems
    assert resolve["Condition"] == {
        "StringEquals": {f"aws:ResourceTag/{OPS_ITEM_TAG_KEY}": {"Ref": "AWS::StackName"}}
    }
    keep = by_sid["KeepOpsItemIds"]
    assert keep["Action"] == ["s3:GetObject", "s3:PutObject"]
    assert keep["Resource"][0]["Fn::Sub"][0] == "${Bucket}/tickets/*"
    # Nothing else of Systems Manager, anywhere in the stack.
    for other, resource in load(name)["Resources"].items():
        if resource["Type"] == "AWS::IAM::ManagedPolicy" and other != POLICY:
            assert "ssm:" not in json.dumps(resource), other


@pytest.mark.parametrize("name", WITH_PROCESSING)
def test_processing_learns_the_switch_and_the_tag_value(name):
    template = load(name)
    variables = template["Resources"]["ProcessingFunction"]["Properties"]["Environment"][
        "Variables"
    ]
    assert variables["OPS_ITEMS"] == {"Ref": "CreateOpsItems"}
    assert variables["STACK_NAME"] == {"Ref": "AWS::StackName"}
    assert worst_case_environment_bytes(variables) <= MAX_ENVIRONMENT_BYTES


def test_the_central_account_opens_no_ops_items_but_members_may_keep_ticket_ids_there():
    central = load("org-central.json")
    assert "CreateOpsItems" not in central["Parameters"]
    assert POLICY not in central["Resources"]
    bucket_policy = central["Resources"]["ReportsBucketPolicy"]["Properties"]["PolicyDocument"]
    members = statements(bucket_policy)["OrganizationMembersRecordChanges"]
    prefixes = [r["Fn::Sub"][0] for r in members["Resource"]]
    # Each member only its own account's (tests/functions/test_member_scope.py).
    assert "${Bucket}/tickets/account=${!aws:PrincipalAccount}/*" in prefixes
