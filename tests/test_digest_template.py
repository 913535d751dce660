"""The template side of digests: the `digest` settings field, the DigestSchedule parameter, the
schedule rule that invokes processing, its permission, dead letter and S3 grants, the
environment's size, in the single and the member templates."""

from __future__ import annotations

import json

import pytest
from template_helpers import TEMPLATES, as_dict, resources_of, statements

from compliance_template.errors import SettingsError
from compliance_template.generator.limits import (
    MAX_ENVIRONMENT_BYTES,
    check_limits,
    worst_case_environment_bytes,
)
from compliance_template.generator.organization import build_member_template
from compliance_template.generator.settings import Settings
from compliance_template.generator.template import build_template

DIGEST = {"digest": ["ENCRYPTED_VOLUMES", "DB_INSTANCE_BACKUP_ENABLED"]}


@pytest.fixture(scope="module")
def template() -> dict:
    return as_dict(Settings.from_mapping(DIGEST))


@pytest.fixture(scope="module")
def member() -> dict:
    return json.loads(json.dumps(build_member_template(Settings.from_mapping(DIGEST)).to_dict()))


def test_no_digest_by_default(default_template):
    assert "DigestSchedule" not in default_template["Parameters"]
    assert "DigestScheduleRule" not in default_template["Resources"]
    variables = default_template["Resources"]["ProcessingFunction"]["Properties"]["Environment"]
    assert variables["Variables"]["DIGEST_RULES"] == "[]"
    policy = default_template["Resources"]["ProcessingManagedPolicy"]["Properties"]
    assert "KeepDigestEntries" not in statements(policy["PolicyDocument"])


@pytest.mark.parametrize("name", ["template", "member"])
def test_the_schedule_invokes_processing_with_the_digest_kind(name, request):
    stack = request.getfixturevalue(name)
    parameter = stack["Parameters"]["DigestSchedule"]
    assert parameter["Default"] == "rate(1 hour)"
    rule = stack["Resources"]["DigestScheduleRule"]["Properties"]
    assert rule["ScheduleExpression"] == {"Ref": "DigestSchedule"}
    [target] = rule["Targets"]
    assert json.loads(target["Input"]) == {"kind": "digest"}
    assert target["Arn"] == {"Fn::GetAtt": ["ProcessingFunction", "Arn"]}
    assert target["DeadLetterConfig"] == {"Arn": {"Fn::GetAtt": ["DeadLetterQueue", "Arn"]}}
    assert target["RetryPolicy"]["MaximumRetryAttempts"] == 8
    permission = stack["Resources"]["DigestScheduleRulePermission"]["Properties"]
    assert permission["SourceArn"] == {"Fn::GetAtt": ["DigestScheduleRule", "Arn"]}
    assert permission["Principal"] == "events.amazonaws.com"
    queue = resources_of(stack, "AWS::SQS::QueuePolicy")["DeadLetterQueuePolicy"]
    assert {"Fn::GetAtt": ["DigestScheduleRule", "Arn"]} in json.loads(
        json.dumps(queue["Properties"]["PolicyDocument"])
    )["Statement"][0]["Condition"]["ArnEquals"]["aws:SourceArn"]


@pytest.mark.parametrize("name", ["template", "member"])
def test_processing_may_keep_list_and_delete_only_digest_objects(name, request):
    stack = request.getfixturevalue(name)
    document = stack["Resources"]["ProcessingManagedPolicy"]["Properties"]["PolicyDocument"]
    by_sid = statements(document)
    keep = by_sid["KeepDigestEntries"]
    assert keep["Action"] == ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"]
    # Only its own account's and region's: members share the central bucket.
    here = "account=${AWS::AccountId}/region=${AWS::Region}/*"
    assert keep["Resource"][0]["Fn::Sub"][0] == f"${{Bucket}}/digest-pending/{here}"
    listing = by_sid["ListDigestEntries"]
    assert listing["Condition"] == {
        "StringLike": {"s3:prefix": [{"Fn::Sub": f"digest-pending/{here}"}]}
    }
    claims = by_sid["ClaimDigests"]
    assert claims["Action"] == ["s3:GetObject", "s3:PutObject"]
    assert claims["Resource"][0]["Fn::Sub"][0] == f"${{Bucket}}/digest-sent/{here}"
    variables = stack["Resources"]["ProcessingFunction"]["Properties"]["Environment"]["Variables"]
    assert json.loads(variables["DIGEST_RULES"]) == sorted(DIGEST["digest"])


def test_digest_rules_count_in_the_environment_limit(template):
    variables = template["Resources"]["ProcessingFunction"]["Properties"]["Environment"]
    assert worst_case_environment_bytes(variables["Variables"]) <= MAX_ENVIRONMENT_BYTES
    # Every rule of a large framework in the digest: the generator refuses, naming the limit.
    nist = {"frameworks": ["nist-800-53-rev-5"]}
    every = list(Settings.from_mapping(nist).selection.identifiers)
    too_big = build_template(Settings.from_mapping({**nist, "digest": every}))
    with pytest.raises(SettingsError) as caught:
        check_limits(too_big, "single-account")
    assert "ProcessingFunction environment" in str(caught.value)


@pytest.mark.parametrize(
    ("digest", "field", "allowed"),
    [
        ("ENCRYPTED_VOLUMES", "digest", "a list of rule identifiers"),
        (["CLOUD_TRAIL_ENABLED_X"], "digest[0]", "identifiers of rules the stack deploys"),
        (["ENCRYPTED_VOLUMES", "ACCESS_KEYS_ROTATED"], "digest[1]", "rules the stack deploys"),
    ],
)
def test_bad_digest_settings_name_the_field_and_value(digest, field, allowed):
    with pytest.raises(SettingsError) as caught:
        Settings.from_mapping({"digest": digest})
    assert caught.value.field == field
    assert allowed in str(caught.value)


def test_the_central_bucket_lets_members_list_their_digest_entries():
    central = json.loads((TEMPLATES / "org-central.json").read_text())
    document = central["Resources"]["ReportsBucketPolicy"]["Properties"]["PolicyDocument"]
    listing = statements(document)["OrganizationMembersListChanges"]
    own = "account=${aws:PrincipalAccount}/*"
    assert f"digest-pending/{own}" in listing["Condition"]["StringLike"]["s3:prefix"]
    writing = statements(document)["OrganizationMembersRecordChanges"]
    prefixes = {r["Fn::Sub"][0].replace("${!", "${") for r in writing["Resource"]}
    assert {f"${{Bucket}}/digest-pending/{own}", f"${{Bucket}}/digest-sent/{own}"} <= prefixes
