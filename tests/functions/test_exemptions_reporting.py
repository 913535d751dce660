"""The report with exemptions: exempt results counted apart, in the CSV as EXEMPT with their id,
out of NonCompliantResources and the scores; every exemption listed, those expiring soon too."""

from __future__ import annotations

import csv
import io

import pytest
import scores
import tally
from botocore.exceptions import ClientError
from conftest import ACCOUNT, REGION, emf_metrics, lambda_context, load_app
from exemption_helpers import exemption, store
from function_fakes import FakeConfig

reporting = load_app("reporting")
SCHEDULED = {"time": "2024-05-01T06:00:00Z", "detail-type": "Scheduled Event"}
VOLUMES = "compliance-encrypted-volumes"
BUCKETS = "compliance-s3-bucket-server-side-encryption-enabled"


@pytest.fixture
def config(world):
    fake = FakeConfig()
    fake.attach(world.aws.client("config"))
    return fake


def run():
    return reporting.handler(SCHEDULED, lambda_context("req-r", "reporting"))


def artifacts(world, prefix):
    summary = world.read_json(f"{prefix}summary.json")
    rows = list(csv.reader(io.StringIO(world.read(f"{prefix}details.csv").decode())))
    return summary, rows, world.read(f"{prefix}report.html").decode()


def every_volume(**fields):
    # FakeConfig names resources <account>-<region>-resource-<index>.
    return exemption(resources=[f"{ACCOUNT}-{REGION}-resource-*"], **fields)


def test_exempt_results_are_counted_apart_and_listed(world, config, capsys):
    config.add(VOLUMES, 6, 4)  # every failure exempt
    config.add(BUCKETS, 5, 5)
    store(
        world,
        every_volume(expires="2024-05-10"),  # active, expiring within 14 days
        exemption(id="old", expires="2024-03-01"),  # expired: matches nothing
        exemption(id="future", granted="2024-06-01", expires="2024-09-01"),  # pending
    )
    result = run()
    summary, rows, html = artifacts(world, result["prefix"])
    by_rule = {r["ruleName"]: r for r in summary["rules"]}
    assert by_rule[VOLUMES]["nonCompliant"] == 0 and by_rule[VOLUMES]["exempt"] == 4
    assert by_rule[VOLUMES]["byAccountRegion"] == [
        {"account": ACCOUNT, "region": REGION, "compliant": 6, "nonCompliant": 0, "exempt": 4}
    ]
    assert by_rule[BUCKETS]["nonCompliant"] == 5 and by_rule[BUCKETS]["exempt"] == 0
    totals = summary["totals"]
    assert (totals["nonCompliant"], totals["exempt"], totals["rulesWithNonCompliant"]) == (5, 4, 1)
    assert [(e["id"], e["status"], e["matched"]) for e in summary["exemptions"]] == [
        ("build-volumes", "active", 4),
        ("old", "expired", 0),
        ("future", "pending", 0),
    ]
    assert [e["id"] for e in summary["expiringSoon"]] == ["build-volumes"]
    assert summary["expiringSoon"][0]["daysLeft"] == 9
    header, *data = rows
    assert header[-1] == "exemption"
    exempt_rows = [r for r in data if r[-1]]
    assert len(exempt_rows) == 4 and {r[6] for r in exempt_rows} == {"EXEMPT"}
    assert {r[-1] for r in exempt_rows} == {"build-volumes"}
    assert {r[6] for r in data if not r[-1]} == {"NON_COMPLIANT"}
    assert '<tr class="soon"><td>build-volumes</td><td>active (expires soon)</td>' in html
    assert "<dt>Exempt</dt><dd>4</dd>" in html and html.count("(expires soon)") == 1
    metrics = {m["RuleName"]: m for m in emf_metrics(capsys.readouterr().out) if "RuleName" in m}
    assert metrics[VOLUMES]["NonCompliantResources"] == 0
    assert metrics[VOLUMES]["ExemptResources"] == 4
    [note] = world.notifications()
    assert "Exempt resources:        4" in note["message"]
    assert "Exemptions:              1 active of 3, 1 expiring within 14 days" in note["message"]
    assert "expiring 2024-05-10: build-volumes (owner build-infra@example.com)" in note["message"]


def test_an_expired_exemption_counts_nothing(world, config):
    config.add(VOLUMES, 6, 4)
    store(world, every_volume(expires="2024-05-01"))  # expires on the run's day
    summary, rows, _ = artifacts(world, run()["prefix"])
    assert summary["totals"]["nonCompliant"] == 4 and summary["totals"]["exempt"] == 0
    assert summary["expiringSoon"] == [] and summary["exemptions"][0]["status"] == "expired"
    assert {row[6] for row in rows[1:]} == {"NON_COMPLIANT"} and {r[-1] for r in rows[1:]} == {""}


def test_without_exemptions_the_summary_lists_none(world, config):
    config.add(VOLUMES, 1, 1)
    summary, _, html = artifacts(world, run()["prefix"])
    assert summary["exemptions"] == [] and summary["expiringSoon"] == []
    assert 'id="exemptions"' not in html and "Exemptions</h3>" not in html


def test_unreadable_exemptions_fail_the_run_and_write_nothing(world, config):
    config.add(VOLUMES, 1, 1)
    store(world, every_volume())
    world.fail("ssm", "GetParameters", "ThrottlingException", times=1)
    with pytest.raises(ClientError):
        run()
    assert world.keys("reports/") == [] and world.notifications() == []


def test_scores_leave_exempt_results_out_and_an_exempt_only_rule_is_compliant():
    rule = tally.RuleTally("compliance-encrypted-volumes", "ENCRYPTED_VOLUMES", True, 6, 0, 4)
    assert scores.rule_status(rule, manual=False) == "compliant"
    assert scores.score(rule.compliant, rule.non_compliant) == 100.0
    only_exempt = tally.RuleTally("r", "ENCRYPTED_VOLUMES", True, 0, 0, 3)
    assert scores.rule_status(only_exempt, manual=False) == "no results"
