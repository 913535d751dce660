"""Grants on the key are only for AWS resources: nothing in the stack creates grants itself.

kms:* for the account root (the administration statement) includes kms:CreateGrant; an explicit
Deny limits it, for every principal, to requests that an AWS service integrated with KMS makes
on a principal's behalf (kms:GrantIsForAWSResource)."""

from __future__ import annotations

import fnmatch
import json

import pytest
from template_helpers import TEMPLATES, resources_of, statements

WITH_KEYS = [
    path
    for path in sorted(TEMPLATES.glob("*.json"))
    if resources_of(json.loads(path.read_text(encoding="utf-8")), "AWS::KMS::Key")
]
DENY = {
    "Sid": "DenyGrantsNotForAwsResources",
    "Effect": "Deny",
    "Principal": {"AWS": ["*"]},
    "Action": ["kms:CreateGrant"],
    "Resource": ["*"],
    # IfExists: a request without the key is denied too.
    "Condition": {"BoolIfExists": {"kms:GrantIsForAWSResource": "false"}},
}


def _actions(statement: dict) -> list[str]:
    action = statement.get("Action", [])
    return [action] if isinstance(action, str) else action


def test_every_key_template_is_checked():
    assert {p.name for p in WITH_KEYS} == {
        "compliance-monitoring.json",
        "compliance-monitoring-all-rules.json",
        "compliance-monitoring-exemptions.json",
        "framework-cis-aws-v1.4-level1.json",
        "framework-nist-800-53-rev-5.json",
        "org-central.json",
        "org-member.json",
    }


@pytest.mark.parametrize("path", WITH_KEYS, ids=lambda p: p.name)
def test_key_policy_denies_grants_not_for_aws_resources(path):
    template = json.loads(path.read_text(encoding="utf-8"))
    for name, key in resources_of(template, "AWS::KMS::Key").items():
        policy = key["Properties"]["KeyPolicy"]
        assert statements(policy)["DenyGrantsNotForAwsResources"] == DENY, name
        # The only Allow that reaches kms:CreateGrant is the account's administration (kms:*),
        # which the Deny limits; no service or role statement grants it.
        granting = [
            s["Sid"]
            for s in policy["Statement"]
            if s["Effect"] == "Allow"
            and any(fnmatch.fnmatchcase("kms:creategrant", a.lower()) for a in _actions(s))
        ]
        assert granting == ["AccountAdministersKey"], name


@pytest.mark.parametrize("path", WITH_KEYS, ids=lambda p: p.name)
def test_no_function_encrypts_its_environment_with_the_key(path):
    """Lambda creates a grant for a customer-managed environment key; ours use none."""
    template = json.loads(path.read_text(encoding="utf-8"))
    for name, function in resources_of(template, "AWS::Lambda::Function").items():
        assert "KmsKeyArn" not in function["Properties"], name
