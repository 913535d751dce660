"""Remediation re-checks declared exemptions before it reads or changes anything, and an
exemption tag with an ``expires=`` date stops exempting on that day."""

from __future__ import annotations

import contextlib
from datetime import UTC, date, datetime, timedelta

import decide
import findings
import pytest
from botocore.exceptions import ClientError
from conftest import lambda_context, load_app
from exemption_helpers import exemption, store
from function_events import finding

remediation = load_app("remediation")
TODAY = datetime.now(UTC).date()


def run(message, request_id="req-1"):
    return remediation.handler(message, lambda_context(request_id, "remediation"))


def bucket(world, name="legacy-bucket", tags=None):
    world.s3.create_bucket(Bucket=name)
    with contextlib.suppress(ClientError):
        world.s3.delete_bucket_encryption(Bucket=name)
    if tags:
        world.s3.put_bucket_tagging(
            Bucket=name, Tagging={"TagSet": [{"Key": k, "Value": v} for k, v in tags.items()]}
        )
    return name


def active(**fields):
    return exemption(
        id="legacy",
        rules=["S3_BUCKET_SERVER_SIDE_ENCRYPTION_ENABLED"],
        resources=["legacy-*"],
        owner="data-team",
        granted=(TODAY - timedelta(days=10)).isoformat(),
        expires=(TODAY + timedelta(days=10)).isoformat(),
        **fields,
    )


def encrypted(world, name):
    try:
        world.s3.get_bucket_encryption(Bucket=name)
    except ClientError:
        return False
    return True


def test_an_active_exemption_skips_with_its_id_owner_and_expiry(world, monkeypatch):
    monkeypatch.setenv("REMEDIATION_MODE", "enforce")
    store(world, active())
    name = bucket(world)
    result = run(finding("AWS::S3::Bucket", name))
    expires = (TODAY + timedelta(days=10)).isoformat()
    assert result["outcome"] == "skipped"
    assert result["reason"] == f"exempt: legacy (data-team, expires {expires})"
    assert not encrypted(world, name)
    [record_key] = world.keys("remediation/")
    assert world.read_json(record_key)["observed"]["exemption"]["id"] == "legacy"


def test_an_expired_exemption_no_longer_stops_remediation(world, monkeypatch):
    monkeypatch.setenv("REMEDIATION_MODE", "enforce")
    store(world, active() | {"expires": TODAY.isoformat()})
    name = bucket(world)
    assert run(finding("AWS::S3::Bucket", name))["outcome"] == "acted"
    assert encrypted(world, name)


def test_the_exemption_a_message_carries_is_honoured(world, monkeypatch):
    monkeypatch.setenv("REMEDIATION_MODE", "enforce")
    name = bucket(world, "other-bucket")
    message = finding("AWS::S3::Bucket", name)
    message["exemption"] = {
        "id": "carried",
        "reason": "r",
        "owner": "o",
        "granted": "2024-01-01",
        "expires": "2099-01-01",
    }
    result = run(message)
    assert result["reason"] == "exempt: carried (o, expires 2099-01-01)"
    assert not encrypted(world, name)


def test_unreadable_exemptions_fail_the_invocation_and_change_nothing(world, monkeypatch):
    monkeypatch.setenv("REMEDIATION_MODE", "enforce")
    store(world, active())
    name = bucket(world)
    world.fail("ssm", "GetParameters", "ThrottlingException", times=1)
    with pytest.raises(ClientError):
        run(finding("AWS::S3::Bucket", name))
    assert not encrypted(world, name) and world.keys("remediation/") == []


@pytest.mark.parametrize(
    ("value", "exempt"),
    [
        ("CHG-1 expires=2024-06-01", True),  # the day before
        ("CHG-1 expires=2024-05-31", True),
        ("expires=2024-05-01", False),  # the day itself: no longer
        ("CHG-1 expires=2024-04-30 legacy", False),
        ("CHG-1 expires=2024-13-45", True),  # not a date: as without one
        ("no date at all", True),
        ("", True),
    ],
)
def test_a_tag_with_an_expiry_date_stops_exempting_that_day(value, exempt):
    config = findings.load_settings(
        {
            "REPORTS_BUCKET": "bucket-name",
            "TOPIC_ARN": "arn:aws:sns:us-east-1:123456789012:t",
            "RULE_NAME_PREFIX": "compliance",
        }
    )
    tags = {"compliance:exempt": value}
    plan = decide.skip_if_exempt(tags, config, today=date(2024, 5, 1))
    assert (plan is not None) is exempt


def test_an_expired_tag_lets_remediation_act(world, monkeypatch):
    monkeypatch.setenv("REMEDIATION_MODE", "enforce")
    name = bucket(world, "tagged", tags={"compliance:exempt": "CHG-9 expires=2020-01-01"})
    assert run(finding("AWS::S3::Bucket", name))["outcome"] == "acted"
