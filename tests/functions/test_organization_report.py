"""The organization report: the aggregator read by advanced query, in resumable segments.

moto S3/SNS; Config's aggregator APIs from the in-memory FakeConfig (explicit per-scope counts).
"""

from __future__ import annotations

import csv
import gzip
import io
import json
from datetime import UTC, datetime
from types import SimpleNamespace

import org_collect
import org_report
import pytest
from conftest import lambda_context, load_app
from function_fakes import FakeConfig

reporting = load_app("reporting")
AGGREGATOR = "org-aggregator"
S3_RULE = "compliance-s3-bucket-server-side-encryption-enabled"
DB_RULE = "compliance-db-instance-backup-enabled"
TIME = "2024-05-01T06:00:00Z"
SCHEDULED = {"detail-type": "Scheduled Event", "source": "aws.events", "time": TIME}
A, B = "111111111111", "222222222222"


class StepClock:
    """Each Config call takes ``step`` seconds; sleeping is only counted."""

    def __init__(self, step: float = 1.0) -> None:
        self.now = 0.0
        self.step = step
        self.slept: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds

    def attach(self, client) -> None:
        client.meta.events.register("before-parameter-build.config-service.*", self._tick)

    def _tick(self, **_) -> None:
        self.now += self.step


@pytest.fixture
def config(world, monkeypatch):
    monkeypatch.setenv("AGGREGATOR_NAME", AGGREGATOR)
    fake = FakeConfig()
    fake.add(S3_RULE, 120, 30, account=A, region="eu-west-1")
    fake.add(S3_RULE, 10, 5, account=B, region="us-east-1")
    fake.add(DB_RULE, 0, 1, account=B, region="us-east-1")
    fake.attach(world.aws.client("config"))
    return fake


def run(event=None):
    return reporting.handler(
        SCHEDULED if event is None else event, lambda_context("r", "reporting")
    )


def summary_of(world, prefix):
    return world.read_json(f"{prefix}summary.json")


def rule(summary, name):
    return next(r for r in summary["rules"] if r["ruleName"] == name)


def test_an_aggregator_report_reads_by_query_with_no_per_rule_calls(world, config):
    result = run()
    summary = summary_of(world, result["prefix"])
    assert summary["scope"] == {"aggregator": AGGREGATOR}
    s3 = rule(summary, S3_RULE)
    assert (s3["compliant"], s3["nonCompliant"]) == (130, 35)
    assert [(s["account"], s["region"], s["nonCompliant"]) for s in s3["byAccountRegion"]] == [
        (A, "eu-west-1", 30),
        (B, "us-east-1", 5),
    ]
    assert (rule(summary, DB_RULE)["nonCompliant"]) == 1
    assert "not-ours" not in {r["ruleName"] for r in summary["rules"]}
    # 150 resources in one scope and 15 in the other, one batch: ceil(165 / 100) pages.
    assert config.calls["SelectAggregateResourceConfig"] == 2
    assert config.calls["DescribeAggregateComplianceByConfigRules"] == 1
    assert config.calls["DescribeConfigurationAggregatorSourcesStatus"] == 1
    assert "GetAggregateComplianceDetailsByConfigRule" not in config.calls
    coverage = summary["coverage"]
    assert coverage["complete"] is True and coverage["missing"] == []
    assert coverage["resources"] == 165 and coverage["calls"] == 4
    assert coverage["lowerBound"] == org_collect.lower_bound(165, 3, 2) == 4

    rows = list(csv.reader(io.StringIO(world.read(f"{result['prefix']}details.csv").decode())))
    assert len(rows) == 1 + 36
    assert {(row[2], row[3]) for row in rows[1:]} == {(A, "eu-west-1"), (B, "us-east-1")}


def test_each_scope_s_results_are_an_object_partitioned_by_date_account_and_region(world, config):
    result = run()
    key = f"reports/tables/results/dt=2024-05-01/2024-05-01T060000Z_{B}_us-east-1.json.gz"
    rows = [json.loads(line) for line in gzip.decompress(world.read(key)).splitlines()]
    assert sorted((r["rule_name"], r["compliance_type"]) for r in rows) == sorted(
        [(S3_RULE, "NON_COMPLIANT")] * 5 + [(DB_RULE, "NON_COMPLIANT")]
    )
    manifest = world.read_json(f"{result['prefix']}manifest.json")
    assert key in {entry["key"] for entry in manifest["files"]}
    counts = [
        json.loads(line)
        for line in gzip.decompress(
            world.read("reports/tables/rule_results/dt=2024-05-01/2024-05-01T060000Z.json.gz")
        ).splitlines()
    ]
    assert [(r["rule_name"], r["account"], r["non_compliant"]) for r in counts] == [
        (S3_RULE, A, 30),
        (DB_RULE, B, 1),
        (S3_RULE, B, 5),
    ]


def test_a_failed_source_makes_a_partial_report_that_names_it(world, config):
    config.failed_sources[(A, "eu-west-1")] = ("AccessDeniedException", "not authorized")
    summary = summary_of(world, run()["prefix"])
    assert summary["coverage"]["complete"] is False
    assert summary["coverage"]["missing"] == [
        {
            "account": A,
            "region": "eu-west-1",
            "reason": "aggregation failed: AccessDeniedException: not authorized",
        }
    ]


def test_a_scope_without_resource_compliance_items_is_read_rule_by_rule(world, config):
    config.unrecorded.add((B, "us-east-1"))
    summary = summary_of(world, run()["prefix"])
    assert (rule(summary, S3_RULE)["nonCompliant"], rule(summary, DB_RULE)["nonCompliant"]) == (
        35,
        1,
    )
    assert summary["coverage"]["fallbackScopes"] == [{"account": B, "region": "us-east-1"}]
    # One filtered rule-state read and one pagination per rule, only in that scope.
    assert config.calls["GetAggregateComplianceDetailsByConfigRule"] == 2
    assert config.calls["DescribeAggregateComplianceByConfigRules"] == 2


def _collect(world, clock, budget):
    common = reporting.load_settings(__import__("os").environ).common
    store = org_report.org_run.Store(world.aws.client("s3"), common.bucket)
    moment = datetime(2024, 5, 1, 6, tzinfo=UTC)
    return org_report.collect(common, AGGREGATOR, moment, store, clock, budget)


def test_segments_resume_from_the_saved_page_and_count_each_result_once(world, config):
    config.add(S3_RULE, 400, 100, account=A, region="us-east-1")
    clock = StepClock()
    clock.attach(world.aws.client("config"))
    segments = 1
    while not _collect(world, clock, budget=2.5):
        segments += 1
        assert segments < 20
    assert segments > 2
    summary = summary_of(world, run({"time": TIME, "phase": "report"})["prefix"])
    assert rule(summary, S3_RULE)["nonCompliant"] == 135
    assert summary["coverage"]["segments"] == segments
    # Pages read once: the resumed segments repeat no call that succeeded.
    assert summary["coverage"]["calls"] == summary["coverage"]["lowerBound"]


def test_throttling_backs_off_and_the_report_is_complete(world, config):
    config.failures = ["ThrottlingException", "ThrottlingException"]
    summary = summary_of(world, run()["prefix"])
    assert rule(summary, S3_RULE)["nonCompliant"] == 35
    assert (summary["coverage"]["throttled"], summary["coverage"]["calls"]) == (2, 4)


def test_a_page_token_config_no_longer_accepts_restarts_the_batch(world, config):
    config.add(S3_RULE, 400, 100, account=A, region="us-east-1")
    clock = StepClock()
    clock.attach(world.aws.client("config"))
    assert not _collect(world, clock, budget=4.5)
    config.failures = ["InvalidNextTokenException"]
    assert _collect(world, clock, budget=100)
    summary = summary_of(world, run({"time": TIME, "phase": "report"})["prefix"])
    assert (rule(summary, S3_RULE)["compliant"], rule(summary, S3_RULE)["nonCompliant"]) == (
        530,
        135,
    )


def test_one_invocation_out_of_time_fails_and_its_retry_continues(world, config, monkeypatch):
    context = SimpleNamespace(
        aws_request_id="r",
        invoked_function_arn="arn:aws:lambda:us-east-1:123456789012:function:compliance-reporting",
        get_remaining_time_in_millis=lambda: 60_000,  # all of it is the safety margin
    )
    with pytest.raises(org_report.CollectionIncomplete, match="retry continues it"):
        reporting.handler(SCHEDULED, context)
    assert run()["status"] == "reported"


def test_the_engine_phases_answer_what_comes_next(world, config):
    assert run({"time": TIME, "phase": "collect"}) == {"time": TIME, "phase": "report"}
    assert run({"time": TIME, "phase": "collect"}) == {"time": TIME, "phase": "report"}
    assert run({"time": TIME, "phase": "report"})["status"] == "reported"


@pytest.mark.parametrize(
    ("event", "field"),
    [
        ({"time": TIME, "phase": "merge"}, "event.phase"),
        ({"time": TIME, "phase": 3}, "event.phase"),
    ],
)
def test_a_bad_phase_is_rejected_with_its_field(world, config, event, field):
    result = run(event)
    assert result["status"] == "rejected" and field in result["error"]


def test_a_phase_needs_an_aggregator(world, monkeypatch):
    monkeypatch.delenv("AGGREGATOR_NAME", raising=False)
    result = run({"time": TIME, "phase": "collect"})
    assert result["status"] == "rejected" and "one invocation" in result["error"]


def test_a_partial_report_says_so_in_its_message_and_page(world, config):
    config.failed_sources[(A, "eu-west-1")] = ("OrganizationAccessDeniedException", "no access")
    prefix = run()["prefix"]
    html = world.read(f"{prefix}report.html").decode()
    assert "Partial report: 1 of 2 account-regions missing" in html
    assert "OrganizationAccessDeniedException" in html
    sent = world.notifications()[-1]
    assert sent["subject"].startswith("[partial] Compliance report")
    assert "PARTIAL REPORT: 1 of 2 account-regions" in sent["message"]
    assert (
        f"{A} eu-west-1: aggregation failed: OrganizationAccessDeniedException" in sent["message"]
    )


def test_each_batch_expression_fits_the_limit():
    accounts = [f"{n:012d}" for n in range(org_collect.BATCH_ACCOUNTS)]
    text = org_collect.expression(accounts)
    assert len(text) <= org_collect.EXPRESSION_MAX
    assert text.startswith("SELECT accountId, awsRegion, configuration, ")
    assert text.endswith(f"'{accounts[-1]}') ORDER BY accountId, awsRegion")
    with pytest.raises(ValueError, match="characters"):
        org_collect.expression([f"{n:012d}" for n in range(300)])


def test_a_large_organization_s_summary_keeps_its_worst_account_regions(world, config, monkeypatch):
    monkeypatch.setattr(org_report, "SUMMARY_ACCOUNTS_MAX", 1)
    prefix = run()["prefix"]
    summary = summary_of(world, prefix)
    assert [(a["account"], a["region"]) for a in summary["accounts"]] == [(A, "eu-west-1")]
    assert summary["accountsOmitted"] == 1
    assert [(r["region"], r["nonCompliant"]) for r in summary["regions"]] == [
        ("eu-west-1", 30),
        ("us-east-1", 6),
    ]


def test_a_segment_that_fails_keeps_what_it_read_for_the_next(world, config):
    config.add(S3_RULE, 400, 100, account=A, region="us-east-1")
    clock = StepClock()
    clock.attach(world.aws.client("config"))
    assert not _collect(world, clock, budget=4.5)
    config.failures = ["AccessDeniedException"]
    with pytest.raises(org_collect.ClientError):
        _collect(world, clock, budget=100)
    assert _collect(world, clock, budget=100)
    summary = summary_of(world, run({"time": TIME, "phase": "report"})["prefix"])
    assert rule(summary, S3_RULE)["nonCompliant"] == 135
    # The refused call is the only one made twice.
    assert summary["coverage"]["calls"] == summary["coverage"]["lowerBound"] + 1


def test_a_missing_source_s_violations_are_not_taken_as_fixed(world, config):
    first = summary_of(world, run()["prefix"])
    assert first["changes"]["stillOpen"] == 36
    config.failed_sources[(A, "eu-west-1")] = ("AccessDeniedException", "not authorized")
    later = {**SCHEDULED, "time": "2024-05-02T06:00:00Z"}
    summary = summary_of(world, run(later)["prefix"])
    # A's 30 were not read: neither fixed nor open; B's 6 are still open.
    assert (summary["changes"]["fixed"], summary["changes"]["stillOpen"]) == (0, 6)


def test_a_failure_inside_a_page_keeps_the_last_checkpoint(world, config, monkeypatch):
    config.add(S3_RULE, 400, 100, account=A, region="us-east-1")
    clock = StepClock()
    clock.attach(world.aws.client("config"))
    assert not _collect(world, clock, budget=4.5)
    taken = org_report.org_run.Collector._take
    seen = []

    def failing(self, row):
        seen.append(row)
        if len(seen) == 50:
            raise RuntimeError("failed halfway through a page")
        taken(self, row)

    monkeypatch.setattr(org_report.org_run.Collector, "_take", failing)
    with pytest.raises(RuntimeError):
        _collect(world, clock, budget=100)
    monkeypatch.setattr(org_report.org_run.Collector, "_take", taken)
    assert _collect(world, clock, budget=100)
    summary = summary_of(world, run({"time": TIME, "phase": "report"})["prefix"])
    # The half-counted page was not saved: each result counted once by the query, so no
    # account-region disagreed with its rule states and needed the per-rule reads.
    s3 = rule(summary, S3_RULE)
    assert (s3["compliant"], s3["nonCompliant"]) == (530, 135)
    assert summary["coverage"]["fallbackScopes"] == []
    assert "GetAggregateComplianceDetailsByConfigRule" not in config.calls
