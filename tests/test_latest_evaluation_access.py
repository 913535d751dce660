"""Processing may keep the latest evaluation per rule and resource, in its own and in the
central account's bucket, and nothing more than that needs."""

from __future__ import annotations

import json

import pytest
from template_helpers import TEMPLATES, statements

from compliance_template.generator.naming import LATEST_PREFIX


def _load(name: str) -> dict:
    return json.loads((TEMPLATES / name).read_text())


def _processing_statements(template: dict) -> dict[str, dict]:
    (policy,) = [
        r["Properties"]["PolicyDocument"]
        for name, r in template["Resources"].items()
        # The ssm engine's grants are a policy of their own (remediation_configs).
        if name != "ProcessingSsmRemediationManagedPolicy"
        and {"Ref": "ProcessingRole"} in r.get("Properties", {}).get("Roles", [])
        and "Condition" not in r  # the policies of optional features
    ]
    return statements(policy)


def test_the_functions_and_the_policies_name_the_same_prefix():
    import sys

    from template_helpers import ROOT

    sys.path.insert(0, str(ROOT / "functions" / "processing"))
    try:
        import changes
    finally:
        sys.path.pop(0)
    assert f"{LATEST_PREFIX}/" == changes.LATEST_PREFIX


@pytest.mark.parametrize("name", ["compliance-monitoring.json", "org-member.json"])
def test_processing_reads_and_writes_only_the_latest_evaluations_prefix(name):
    latest = _processing_statements(_load(name))["KeepLatestEvaluations"]
    assert sorted(latest["Action"]) == ["s3:GetObject", "s3:PutObject"]
    [resource] = latest["Resource"]
    assert resource["Fn::Sub"][0] == "${Bucket}/compliance-latest/*"
    assert "Condition" not in latest and latest["Effect"] == "Allow"


def test_central_bucket_lets_members_keep_their_latest_evaluations():
    policy = _load("org-central.json")["Resources"]["ReportsBucketPolicy"]["Properties"]
    members = statements(policy["PolicyDocument"])["OrganizationMembersRecordChanges"]
    prefixes = {r["Fn::Sub"][0] for r in members["Resource"]}
    # tickets/: the OpsItem ids of members that open OpsItems (CreateOpsItems=true);
    # digest-*: the digests of members with `digest` rules; each member only its own account's
    # (tests/functions/test_member_scope.py checks the key layouts against these).
    own = "account=${!aws:PrincipalAccount}/*"
    assert prefixes == {
        f"${{Bucket}}/compliance-changes/year=????/month=??/day=??/{own}",
        f"${{Bucket}}/compliance-changes/exemption-notices/{own}",
        f"${{Bucket}}/compliance-latest/{own}",
        f"${{Bucket}}/tickets/{own}",
        f"${{Bucket}}/digest-pending/{own}",
        f"${{Bucket}}/digest-sent/{own}",
    }
    assert sorted(members["Action"]) == ["s3:GetObject", "s3:PutObject"]
    assert "aws:PrincipalOrgID" in members["Condition"]["StringEquals"]
