"""In an organization every member account and region writes to the one central bucket: the
bucket policy lets a member reach only objects under its own ``account=<id>`` folders, and every
key the processing function builds lies inside them."""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path

import changes
import digest
import pytest
import review
import tickets
from conftest import ACCOUNT, REGION
from exemptions import Exemption
from function_events import change_event

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
OTHER = "210987654321"
VARIABLE = "${aws:PrincipalAccount}"


def _central_statements() -> dict[str, dict]:
    central = json.loads((TEMPLATES / "org-central.json").read_text())
    document = central["Resources"]["ReportsBucketPolicy"]["Properties"]["PolicyDocument"]
    return {s["Sid"]: s for s in document["Statement"] if "Sid" in s}


def _matches(pattern: str, value: str, account: str) -> bool:
    """IAM's string matching: ``*`` any run of characters (slashes too), ``?`` one character;
    the policy variable resolves to the calling account."""
    resolved = pattern.replace(VARIABLE, account)
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in resolved)
    return re.fullmatch(regex, value) is not None


def _object_patterns() -> list[str]:
    """The members' object patterns, as S3 sees them once CloudFormation substituted
    ``${Bucket}`` (kept as a marker) and unescaped ``${!...}``."""
    statement = _central_statements()["OrganizationMembersRecordChanges"]
    return [r["Fn::Sub"][0].replace("${!", "${") for r in statement["Resource"]]


def _member_keys() -> dict[str, str]:
    change = changes.parse_event(change_event())
    exemption = Exemption(
        "EX-1", frozenset(), (), None, frozenset(), frozenset(), "r", "o",
        date(2024, 1, 1), date(2024, 6, 1),
    )  # fmt: skip
    pending, _ = digest.pending_entry(change, "ENCRYPTED_VOLUMES", "violation", "k", "s3://b/k")
    here = digest.scope(ACCOUNT, REGION)
    return {
        "record": changes.record_key(change),
        "latest": changes.latest_key(change),
        "ticket": tickets.ticket_key(
            ACCOUNT, REGION, change.rule_name, change.resource_type, change.resource_id
        ),
        "digest entry": pending,
        "digest marker": f"{digest.SENT_PREFIX}{here}rule=x/{'0' * 32}.json",
        "exemption notice": review.marker_key(review.EXPIRING, exemption, ACCOUNT, REGION),
        "exemption replay": review.replay_key(exemption, change),
    }


@pytest.mark.parametrize("kind", sorted(_member_keys()))
def test_every_key_a_member_writes_is_its_own_and_no_other_members(kind):
    key = "${Bucket}/" + _member_keys()[kind]
    patterns = _object_patterns()
    assert any(_matches(p, key, ACCOUNT) for p in patterns), key
    assert not any(_matches(p, key, OTHER) for p in patterns), key


def test_every_member_pattern_names_the_callers_account():
    patterns = _object_patterns()
    assert patterns and all(f"/account={VARIABLE}/*" in p for p in patterns)
    statement = _central_statements()["OrganizationMembersRecordChanges"]
    assert "aws:PrincipalOrgID" in statement["Condition"]["StringEquals"]


def test_a_member_lists_only_its_own_digest_entries():
    listing = _central_statements()["OrganizationMembersListChanges"]
    prefixes = listing["Condition"]["StringLike"]["s3:prefix"]
    assert "aws:PrincipalOrgID" in listing["Condition"]["StringEquals"]
    # What the digest job asks for (digest.run): its own account's and region's folder.
    asked = f"{digest.PENDING_PREFIX}{digest.scope(ACCOUNT, REGION)}"
    assert any(_matches(p, asked, ACCOUNT) for p in prefixes)
    assert not any(_matches(p, asked, OTHER) for p in prefixes)
    assert not any(_matches(p, digest.PENDING_PREFIX, ACCOUNT) for p in prefixes)
