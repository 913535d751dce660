"""The functions' exemptions module: the document, matching, expiry, the SSM read and its cache."""

from __future__ import annotations

from datetime import date
from types import SimpleNamespace

import exemptions
import pytest
import settings
from conftest import ACCOUNT, REGION
from exemption_helpers import VOLUME, document, exemption, store

from compliance_template.generator import exemptions as generator
from compliance_template.generator.settings import Settings

DAY = date(2024, 5, 1)


def parsed(*items):
    return exemptions.parse(document(*items))


def match(found, *, account=ACCOUNT, region=REGION, rule="ENCRYPTED_VOLUMES",
          resource_type="AWS::EC2::Volume", resource_id=VOLUME, on=DAY):  # fmt: skip
    return found.match(account, region, rule, resource_type, resource_id, on)


def test_reads_what_the_generator_writes():
    raw = {
        "exemptions": [
            {
                "id": "legacy",
                "rules": ["ENCRYPTED_VOLUMES"],
                "resources": ["vol-*"],
                "reason": "r",
                "owner": "o",
                "granted": "2024-01-01",
                "expires": "2024-12-31",
                "accounts": [ACCOUNT],
            }
        ]
    }
    text = generator.document_text(Settings.from_mapping(raw, today=date(2024, 6, 1)).exemptions)
    found = exemptions.parse(text)
    assert match(found).summary() == {
        "id": "legacy",
        "reason": "r",
        "owner": "o",
        "granted": "2024-01-01",
        "expires": "2024-12-31",
    }


@pytest.mark.parametrize(
    ("pattern", "resource_id", "matches"),
    [
        ("vol-0123456789abcdef0", VOLUME, True),
        ("vol-0123*", VOLUME, True),
        ("vol-0123456789abcdef?", VOLUME, True),
        ("vol-0123456789abcde?", VOLUME, False),  # ? is exactly one character
        ("VOL-0123*", VOLUME, False),  # case-sensitive
        ("vol-0123", VOLUME, False),  # the whole id, not a prefix
        ("*", VOLUME, True),
        ("a[b]c", "a[b]c", True),  # brackets are literal, not a class
        ("a[b]c", "abc", False),
        ("a.c", "abc", False),  # a dot is literal
        ("arn:*:bucket/x", "arn:aws:s3:::bucket/x", True),
    ],
)
def test_patterns(pattern, resource_id, matches):
    found = parsed(exemption(resources=[pattern]))
    assert (match(found, resource_id=resource_id) is not None) is matches


def test_rule_type_account_and_region_must_all_match():
    found = parsed(exemption(resourceType="AWS::EC2::Volume", accounts=[ACCOUNT], regions=[REGION]))
    assert match(found) is not None
    assert match(found, rule="S3_BUCKET_VERSIONING_ENABLED") is None
    assert match(found, resource_type="AWS::EC2::Snapshot") is None
    assert match(found, account="210987654321") is None
    assert match(found, region="eu-west-1") is None
    anywhere = parsed(exemption())
    assert match(anywhere, account="210987654321", region="eu-west-1") is not None


@pytest.mark.parametrize(
    ("day", "status"),
    [
        (date(2023, 12, 31), "pending"),
        (date(2024, 1, 1), "active"),  # the granted day applies
        (date(2024, 12, 30), "active"),  # the day before expires is the last
        (date(2024, 12, 31), "expired"),  # expires 2024-12-31: stops at 00:00Z that day
        (date(2025, 6, 1), "expired"),
    ],
)
def test_expiry_boundary(day, status):
    found = parsed(exemption())
    (only,) = found
    assert only.status_on(day) == status
    assert (match(found, on=day) is not None) is (status == "active")


def test_the_first_active_match_in_the_settings_order_wins():
    found = parsed(
        exemption(id="old", expires="2024-02-01"),
        exemption(id="first"),
        exemption(id="second"),
    )
    assert match(found).id == "first"


@pytest.mark.parametrize(
    "text",
    [
        "not json",
        "[]",
        '{"schemaVersion": 2, "exemptions": []}',
        '{"schemaVersion": 1}',
        document({"id": "x"}),
        document(exemption(rules=[])),
        document(exemption(granted="2024-13-01")),
        document(exemption(expires="2023-01-01")),
        document("x"),
    ],
)
def test_a_malformed_document_raises(text):
    with pytest.raises(exemptions.ExemptionsError):
        exemptions.parse(text)


def test_parameter_names_from_the_environment():
    assert exemptions.parameter_names({}) == ()
    assert exemptions.parameter_names({"EXEMPTIONS_PARAMETERS": " "}) == ()
    assert exemptions.parameter_names({"EXEMPTIONS_PARAMETERS": "a,b"}) == ("a", "b")
    with pytest.raises(settings.ConfigurationError, match="EXEMPTIONS_PARAMETERS"):
        exemptions.parameter_names({"EXEMPTIONS_PARAMETERS": "has space"})
    with pytest.raises(settings.ConfigurationError, match="up to 10"):
        exemptions.parameter_names({"EXEMPTIONS_PARAMETERS": ",".join("abcdefghijk")})


def test_pieces_are_joined_in_the_environment_order_not_ssm_order(world):
    store(world, exemption(reason="r" * 500), exemption(id="two"), pieces=3)
    import os

    found = exemptions.load(os.environ, lambda: world.aws.client("ssm"))
    assert [e.id for e in found] == ["build-volumes", "two"]


def test_no_parameters_means_no_call():
    def never():
        raise AssertionError("no SSM call without parameters")

    assert len(exemptions.load({}, never)) == 0


def test_a_missing_parameter_raises(world):
    store(world, exemption())
    world.aws.client("ssm").delete_parameter(Name="z-exemptions-1")
    import os

    with pytest.raises(exemptions.ExemptionsError, match="not found: z-exemptions-1"):
        exemptions.load(os.environ, lambda: world.aws.client("ssm"))


def test_the_document_is_cached_for_five_minutes():
    calls = []

    class Ssm:
        def get_parameters(self, Names):
            calls.append(Names)
            return {"Parameters": [{"Name": "p", "Value": document(exemption())}]}

    exemptions.reset_cache()
    env = {"EXEMPTIONS_PARAMETERS": "p"}
    clock = SimpleNamespace(now=1000.0)
    for moment in (1000.0, 1299.0):
        clock.now = moment
        assert len(exemptions.load(env, Ssm, lambda: clock.now)) == 1
    assert len(calls) == 1
    clock.now = 1300.0
    exemptions.load(env, Ssm, lambda: clock.now)
    assert len(calls) == 2
    exemptions.load({"EXEMPTIONS_PARAMETERS": "p,q"}, lambda: _both(calls), lambda: clock.now)
    assert len(calls) == 3  # other parameters (a deploy changed them): read again
    exemptions.reset_cache()


def _both(calls):
    text = document(exemption())

    class Ssm:
        def get_parameters(self, Names):
            calls.append(Names)
            half = len(text) // 2
            return {
                "Parameters": [
                    {"Name": "p", "Value": text[:half]},
                    {"Name": "q", "Value": text[half:]},
                ]
            }

    return Ssm()


def test_a_failed_read_is_not_cached():
    class Failing:
        def get_parameters(self, Names):
            raise RuntimeError("throttled")

    exemptions.reset_cache()
    with pytest.raises(RuntimeError):
        exemptions.load({"EXEMPTIONS_PARAMETERS": "p"}, Failing)
    assert exemptions._cache == {}
