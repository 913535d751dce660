"""The organization report against the fake organization: exact counts, calls within 1.1 x the
lower bound, throttling absorbed by backoff, segments on a virtual clock."""

from __future__ import annotations

from datetime import UTC, datetime

import org_collect
import org_report
import org_run
import pytest
from conftest import lambda_context, load_app
from fake_organization import FakeOrganization, VirtualClock

reporting = load_app("reporting")
EVENT = {"time": "2024-05-01T06:00:00Z"}
RULES = [
    "compliance-s3-bucket-server-side-encryption-enabled",
    "compliance-db-instance-backup-enabled",
    "compliance-desired-instance-type",
    "compliance-ec2-imdsv2-check",
    "compliance-iam-user-mfa-enabled",
    "compliance-rds-storage-encrypted",
]


def organization(**extra) -> FakeOrganization:
    return FakeOrganization(
        accounts=[f"{100000000000 + n:012d}" for n in range(450)],
        regions=["us-east-1", "eu-west-1"],
        rules=RULES,
        resources=12,
        rules_per_resource=3,
        **extra,
    )


@pytest.fixture(autouse=True)
def aggregator(monkeypatch):
    monkeypatch.setenv("AGGREGATOR_NAME", "org")


def collect_all(world, clock: VirtualClock, budget: float) -> tuple[int, org_run.Collection]:
    """Segments of ``budget`` seconds until done: their number and the finished collection."""
    common = reporting.load_settings(__import__("os").environ).common
    store = org_run.Store(world.aws.client("s3"), common.bucket)
    moment = datetime(2024, 5, 1, 6, tzinfo=UTC)
    segments = 1
    while not org_report.collect(common, "org", moment, store, clock, budget=budget):
        segments += 1
        assert segments < 50
    return segments, store.load("2024-05-01T060000Z")


def bound(fake: FakeOrganization) -> int:
    rule_scopes = sum(1 for evaluated, _ in fake.per_rule() if evaluated) * len(fake.scopes)
    return org_collect.lower_bound(len(fake.scopes) * fake.resources, rule_scopes, len(fake.scopes))


def test_counts_are_exact_and_calls_within_a_tenth_of_the_lower_bound(world):
    fake = organization()
    fake.attach(world.aws.client("config"))
    totals = reporting.handler(EVENT, lambda_context("r", "reporting"))["totals"]
    expected = fake.expected()
    assert totals["compliant"] == sum(c for c, _ in expected.values())
    assert totals["nonCompliant"] == sum(n for _, n in expected.values())
    calls = sum(fake.calls.values())
    # 900 scopes x 12 resources over 3 batches of 200 accounts and one of 50: 108 pages at
    # least, one partial page a batch more.
    assert bound(fake) <= calls <= 1.1 * bound(fake)
    assert "GetAggregateComplianceDetailsByConfigRule" not in fake.calls


def test_throttling_costs_waits_and_retries_but_no_result(world):
    clock = VirtualClock()
    fake = organization(clock=clock, latency=0.1, rate=2.0, burst=5)
    fake.attach(world.aws.client("config"))
    _, collection = collect_all(world, clock, budget=840)
    assert sum(fake.throttled.values()) > 0
    assert collection.throttled == sum(fake.throttled.values())
    # Successful calls are those of an unthrottled run: a throttled call repeats nothing.
    assert collection.calls - collection.throttled <= 1.1 * bound(fake)
    # At most 2 calls a second for each API after its burst: the run took the time the rate
    # allows (real CPU time included, as the bucket refills on it), not a busy loop.
    select = (
        fake.calls["SelectAggregateResourceConfig"]
        - fake.throttled["SelectAggregateResourceConfig"]
    )
    assert clock.monotonic() >= (select - 5) / 2.0
    common = reporting.load_settings(__import__("os").environ).common
    moment = datetime(2024, 5, 1, 6, tzinfo=UTC)
    totals = org_report.report(common, "org", moment, collection)["totals"]
    assert totals["nonCompliant"] == sum(n for _, n in fake.expected().values())


def test_a_small_budget_takes_several_segments_and_the_same_calls(world):
    clock = VirtualClock()
    fake = organization(clock=clock, latency=1.0)
    fake.attach(world.aws.client("config"))
    segments, collection = collect_all(world, clock, budget=30)
    assert segments >= 4 and collection.segments == segments
    assert collection.calls <= 1.1 * bound(fake)
