"""The reporting function: moto S3/SNS, Config's compliance APIs from an in-memory fake."""

from __future__ import annotations

import csv
import io
import json
import math
from html.parser import HTMLParser

import collect
import html_report
import pytest
import render
import tally
from conftest import ACCOUNT, REGION, emf_metrics, lambda_context, load_app, stdout_documents
from function_fakes import FakeConfig

reporting = load_app("reporting")
SCHEDULED = {
    "version": "0",
    "id": "89d1a02d-5ec7-412e-82f5-13505f849b41",
    "detail-type": "Scheduled Event",
    "source": "aws.events",
    "account": ACCOUNT,
    "time": "2024-05-01T06:00:00Z",
    "region": REGION,
    "resources": [f"arn:aws:events:{REGION}:{ACCOUNT}:rule/compliance-report"],
    "detail": {},
}


@pytest.fixture
def config(world):
    fake = FakeConfig()
    fake.attach(world.aws.client("config"))
    return fake


def run(event=None, request_id="req-1"):
    return reporting.handler(
        SCHEDULED if event is None else event, lambda_context(request_id, "reporting")
    )


def artifacts(world, prefix):
    summary = world.read_json(f"{prefix}summary.json")
    rows = list(csv.reader(io.StringIO(world.read(f"{prefix}details.csv").decode())))
    html = world.read(f"{prefix}report.html").decode()
    return summary, rows, html


class Html(HTMLParser):
    """Collects what a browser would fetch or follow."""

    def __init__(self, text):
        super().__init__()
        self.tags, self.fetching, self.links, self.svgs = [], [], [], 0
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        attributes = dict(attrs)
        self.svgs += tag == "svg"
        # An inline script (no src) is the page's own, admitted by its hash in the CSP.
        if tag in ("img", "link", "iframe", "object", "embed", "source", "image", "use"):
            self.fetching.append((tag, attributes))
        for name in ("src", "srcset", "data", "xlink:href", "background", "poster"):
            if name in attributes:
                self.fetching.append((tag, attributes))
        if tag == "a":
            self.links.append(attributes.get("href"))


def assert_self_contained(html):
    page = Html(html)
    assert page.fetching == []
    assert "url(" not in html and "@import" not in html
    assert "default-src 'none'" in html
    assert all(link.startswith("docs/runbooks/") or link == "details.csv" for link in page.links)
    assert "details.csv" in page.links
    assert "http://" not in html and "https://" not in html
    return page


def test_an_empty_account_still_gets_a_complete_readable_report(world, config, capsys):
    for rule in (
        "compliance-desired-instance-type",
        "compliance-s3-bucket-server-side-encryption-enabled",
    ):
        config.add(rule, 0, 0)
    result = run()

    prefix = "reports/2024-05-01T060000Z/"
    assert result["prefix"] == prefix
    summary, rows, html = artifacts(world, prefix)
    assert summary["totals"]["evaluated"] == 0
    assert rows == [list(tally.CSV_COLUMNS)]
    page = assert_self_contained(html)
    assert page.svgs == len(summary["rules"]) + 2  # a bar per rule, the trend and the score
    assert '<div class="big">n/a</div>' in html and "<p>None.</p>" in html
    [note] = world.notifications()
    assert note["subject"] == "Compliance report 2024-05-01: 0 non-compliant of 0 resources"
    assert f"Report:  s3://compliance-reports-test/{prefix}report.html" in note["message"]
    assert "not found" not in note["message"] and "Frameworks" not in note["message"]
    assert summary["frameworks"] == []
    assert note["attributes"] == {
        "notificationType": "compliance-report",
        "hasNonCompliant": "false",
    }
    metrics = emf_metrics(capsys.readouterr().out)
    assert sorted(m["RuleName"] for m in metrics) == [
        "compliance-desired-instance-type",
        "compliance-s3-bucket-server-side-encryption-enabled",
    ]
    assert all((m["CompliantResources"], m["NonCompliantResources"]) == (0, 0) for m in metrics)


def test_a_region_without_any_of_the_stacks_rules_gets_an_empty_report(world, config):
    """The template leaves out every rule AWS does not offer in the region; where that is all
    of them, Config lists none of ours and the scheduled report still runs instead of failing
    every time."""
    config.other_rules += ["other-desired-instance-type", "compliance-x-encrypted-volumes"]
    result = run()

    summary, rows, _ = artifacts(world, result["prefix"])
    assert summary["rules"] == [] and summary["totals"]["evaluated"] == 0
    assert rows == [list(tally.CSV_COLUMNS)]
    [note] = world.notifications()
    assert note["subject"] == "Compliance report 2024-05-01: 0 non-compliant of 0 resources"


def test_several_rules_with_mixed_results_across_pages(world, config, capsys):
    config.add("compliance-s3-bucket-server-side-encryption-enabled", 210, 40)
    config.add("compliance-encrypted-volumes", 0, 99)
    config.add("compliance-db-instance-backup-enabled", 100, 0)
    config.add("compliance-desired-instance-type", 301, 30)
    # Listed by Config but not the stack's: a suffix no stack deploys, another prefix.
    config.other_rules += ["compliance-x-encrypted-volumes", "other-encrypted-volumes"]
    result = run()

    summary, rows, html = artifacts(world, result["prefix"])
    by_rule = {r["ruleName"]: r for r in summary["rules"]}
    assert (
        by_rule["compliance-s3-bucket-server-side-encryption-enabled"]["compliant"],
        by_rule["compliance-s3-bucket-server-side-encryption-enabled"]["nonCompliant"],
    ) == (210, 40)
    assert by_rule["compliance-encrypted-volumes"]["nonCompliant"] == 99
    assert by_rule["compliance-db-instance-backup-enabled"]["nonCompliant"] == 0
    assert set(by_rule) == set(config.rules)
    assert summary["totals"] == {
        "compliant": 611,
        "nonCompliant": 169,
        "exempt": 0,
        "evaluated": 780,
        "rules": 4,
        "rulesNotFound": 0,
        "rulesWithNonCompliant": 3,
        "score": 78.33,  # 611 / 780
        "previousScore": None,
        "scoreChange": None,
    }
    assert by_rule["compliance-s3-bucket-server-side-encryption-enabled"]["byAccountRegion"] == [
        {"account": ACCOUNT, "region": REGION, "compliant": 210, "nonCompliant": 40, "exempt": 0}
    ]
    header, *data = rows
    assert header == list(tally.CSV_COLUMNS)
    assert len(data) == 169 and {row[6] for row in data} == {"NON_COMPLIANT"}
    assert {row[1] for row in data} == {
        "S3_BUCKET_SERVER_SIDE_ENCRYPTION_ENABLED",
        "ENCRYPTED_VOLUMES",
        "DESIRED_INSTANCE_TYPE",
    }
    # Pages of 100, ceil(N/100) calls per rule, and one page of the rules.
    assert set(config.limits) == {100}
    expected = sum(math.ceil(n / 100) for n in (250, 99, 100, 331))
    assert config.calls == {"GetComplianceDetailsByConfigRule": expected, "DescribeConfigRules": 1}
    page = assert_self_contained(html)
    assert page.svgs == 6  # one bar per rule, the trend and the score
    table = html[html.index('id="noncompliant-table"') :]
    assert table[: table.index("</table>")].count("<tr><td>compliance-") == 169
    assert "Found &lt;b&gt;&amp;&lt;/b&gt; flagged." in html and "<b>&</b>" not in html
    metrics = {m["RuleName"]: m for m in emf_metrics(capsys.readouterr().out)}
    assert set(metrics) == set(by_rule)
    assert (
        metrics["compliance-s3-bucket-server-side-encryption-enabled"]["NonCompliantResources"]
        == 40
    )
    assert (
        metrics["compliance-s3-bucket-server-side-encryption-enabled"]["CompliantResources"] == 210
    )
    directive = metrics["compliance-s3-bucket-server-side-encryption-enabled"]["_aws"][
        "CloudWatchMetrics"
    ][0]
    assert directive["Dimensions"] == [["RuleName"]]
    assert directive["Metrics"] == [
        {"Name": "CompliantResources", "Unit": "Count"},
        {"Name": "NonCompliantResources", "Unit": "Count"},
    ]


def test_the_trend_follows_the_runs_found_in_the_bucket(world, config):
    config.add("compliance-s3-bucket-server-side-encryption-enabled", 5, 5)
    run({**SCHEDULED, "time": "2024-04-29T06:00:00Z"})
    config.rules["compliance-s3-bucket-server-side-encryption-enabled"] = [(ACCOUNT, REGION, 8, 2)]
    run({**SCHEDULED, "time": "2024-04-30T06:00:00Z"})
    config.rules["compliance-s3-bucket-server-side-encryption-enabled"] = [(ACCOUNT, REGION, 10, 0)]
    run()
    run()  # a retry of the same scheduled run overwrites it, without adding a trend point

    summary, _, html = artifacts(world, "reports/2024-05-01T060000Z/")
    assert [(p["runId"], p["nonCompliant"]) for p in summary["trend"]] == [
        ("2024-04-29T060000Z", 5),
        ("2024-04-30T060000Z", 2),
        ("2024-05-01T060000Z", 0),
    ]
    # Per run: details.csv, report.html, manifest.json, summary.json and two table objects.
    assert len(world.keys("reports/")) == 18
    assert "Trend over the last 3 runs" in html
    assert "0 non-compliant of 10 resources" in world.notifications()[-1]["subject"]
    assert "(previous run: 2)" in world.notifications()[-1]["message"]


def test_a_damaged_earlier_summary_restarts_the_trend_instead_of_failing(world, config):
    config.add("compliance-s3-bucket-server-side-encryption-enabled", 1, 1)
    world.s3.put_object(
        Bucket="compliance-reports-test",
        Key="reports/2024-04-30T060000Z/summary.json",
        Body=b"{broken",
    )
    summary, _, _ = artifacts(world, run()["prefix"])
    assert [p["runId"] for p in summary["trend"]] == ["2024-05-01T060000Z"]


def test_an_earlier_run_without_a_readable_summary_is_passed_over(world, config):
    config.add("compliance-s3-bucket-server-side-encryption-enabled", 3, 1)
    run({**SCHEDULED, "time": "2024-04-29T06:00:00Z"})
    # An interrupted run: artifacts but no summary.json, and a summary S3 refuses to serve.
    world.s3.put_object(
        Bucket="compliance-reports-test", Key="reports/2024-04-30T060000Z/details.csv", Body=b""
    )
    world.s3.put_object(
        Bucket="compliance-reports-test", Key="reports/2024-04-30T120000Z/summary.json", Body=b"{}"
    )
    world.fail("s3", "GetObject", code="AccessDenied")
    summary, _, _ = artifacts(world, run()["prefix"])
    assert [p["runId"] for p in summary["trend"]] == ["2024-04-29T060000Z", "2024-05-01T060000Z"]


def test_the_html_table_is_capped_while_the_csv_keeps_every_row():
    results = [
        collect.Result(
            "rule", ACCOUNT, REGION, "AWS::S3::Bucket", f"b-{i:04d}", "NON_COMPLIANT", "", ""
        )
        for i in reversed(range(50))
    ]
    written = []
    counted = tally.build(
        {"rule": "S3_BUCKET_SERVER_SIDE_ENCRYPTION_ENABLED"},
        lambda _: iter(results),
        written.append,
        table_limit=7,
    )
    assert len(written) == 50
    assert [row[5] for row in counted.table_rows()] == [f"b-{i:04d}" for i in range(7)]
    assert len(counted.table) == 7


def test_the_table_note_points_to_the_csv_when_capped(world, config, monkeypatch):
    # The handler keeps html_report.TABLE_ROWS rows for the page.
    monkeypatch.setattr(html_report, "TABLE_ROWS", 3)
    config.add("compliance-s3-bucket-server-side-encryption-enabled", 0, 10)
    _, rows, html = artifacts(world, run()["prefix"])
    assert len(rows) == 11
    assert (
        'Showing the first 3 of 10; <a id="details-link" href="details.csv">details.csv</a> '
        "has all 10" in html
    )


@pytest.mark.parametrize(
    ("event", "field"),
    [
        (["not", "an", "object"], "event"),
        ({"time": "at six"}, "time"),
        ({"time": 1714543200}, "time"),
    ],
)
def test_malformed_events_are_rejected(world, config, capsys, event, field):
    result = run(event)
    assert result["status"] == "rejected" and result["error"].startswith(f"{field}: expected")
    assert world.keys("reports/") == []
    documents = stdout_documents(capsys.readouterr().out)
    assert [d["MalformedEvent"] for d in documents if "_aws" in d] == [1]


def test_a_manual_invocation_without_time_reports_now(world, config):
    config.add("compliance-s3-bucket-server-side-encryption-enabled", 1, 0)
    result = run({})
    assert result["status"] == "reported"
    assert json.loads(world.read(result["prefix"] + "summary.json"))["totals"]["compliant"] == 1


def test_config_errors_are_raised_so_the_run_is_retried(world, config):
    config.failures.append("AccessDeniedException")
    config.add("compliance-s3-bucket-server-side-encryption-enabled", 1, 0)
    from botocore.exceptions import ClientError

    with pytest.raises(ClientError):
        run()
    assert world.keys("reports/") == []


def open_ids(rows):
    return {row[5] for row in rows[1:] if row[6] == "NON_COMPLIANT"}


def test_three_runs_track_what_changed_and_how_the_score_moved(world, config):
    """Runs on three days, results changing between them: what changed and the score follow."""
    rule = "compliance-s3-bucket-server-side-encryption-enabled"
    config.add(rule, 5, 5)
    run({**SCHEDULED, "time": "2024-04-29T06:00:00Z"})
    config.rules[rule] = [(ACCOUNT, REGION, 8, 2)]
    run({**SCHEDULED, "time": "2024-04-30T06:00:00Z"})
    config.rules[rule] = [(ACCOUNT, REGION, 4, 6)]
    run()

    first, second, third = (
        artifacts(world, f"reports/{day}T060000Z/")
        for day in ("2024-04-29", "2024-04-30", "2024-05-01")
    )
    one, two, three = (open_ids(rows) for _, rows, _ in (first, second, third))
    # The fake spreads the non-compliant results over the ids: every kind of change occurs.
    assert (len(one), len(two), len(three)) == (5, 2, 6)
    assert (len(two - one), len(one - two), len(one & two)) == (1, 4, 1)
    assert (len(three & (one - two)), len(three - one - two), len(three & two)) == (2, 2, 2)

    baseline = first[0]["changes"]
    assert baseline["previousRunId"] is None and baseline["stillOpen"] == 5
    assert first[0]["totals"]["score"] == 50.0 and first[0]["totals"]["previousScore"] is None

    changed = second[0]["changes"]
    assert changed["previousRunId"] == "2024-04-29T060000Z"
    assert (changed["new"], changed["fixed"], changed["stillOpen"], changed["regressed"]) == (
        len(two - one),
        len(one - two),
        len(one & two),
        0,
    )
    assert {s["resourceId"] for s in changed["samples"]["fixed"]} == one - two
    assert {s["firstSeen"] for s in changed["samples"]["stillOpen"]} == {"2024-04-29T06:00:00.000Z"}
    totals = second[0]["totals"]
    assert (totals["score"], totals["previousScore"], totals["scoreChange"]) == (80.0, 50.0, 30.0)
    [rule_entry] = second[0]["rules"]
    assert (rule_entry["score"], rule_entry["previousNonCompliant"]) == (80.0, 5)

    last = third[0]["changes"]
    fixed_once = one - two
    assert last["regressed"] == len(three & fixed_once)
    assert last["new"] == len(three - one - two)
    assert last["stillOpen"] == len(three & two)
    assert last["fixed"] == len(two - three)
    for sample in last["samples"]["stillOpen"]:
        # Open since the first run when it was open in all three.
        first_seen = "2024-04-29" if sample["resourceId"] in one else "2024-04-30"
        assert sample["firstSeen"].startswith(first_seen)
        assert sample["ageDays"] == {"2024-04-29": 2, "2024-04-30": 1}[first_seen]
    assert {s["resourceId"] for s in last["samples"]["regressed"]} == three & fixed_once
    assert sum(last["openByAge"].values()) == len(three) == third[0]["totals"]["nonCompliant"]
    totals = third[0]["totals"]
    assert (totals["score"], totals["previousScore"], totals["scoreChange"]) == (40.0, 80.0, -40.0)
    assert [p["score"] for p in third[0]["trend"]] == [50.0, 80.0, 40.0]
    assert [p["exempt"] for p in third[0]["trend"]] == [0, 0, 0]
    message = world.notifications()[-1]["message"]
    assert "Score 40.00% (-40.00 since the last run)" in message
    assert f"What changed: {last['new']} new, {last['regressed']} regressed" in message
    assert third[0]["accounts"] == [
        {
            "account": ACCOUNT,
            "region": REGION,
            "compliant": 4,
            "nonCompliant": 6,
            "exempt": 0,
            "score": 40.0,
        }
    ]


def test_a_summary_from_before_the_score_gives_the_previous_score_from_its_counts(world, config):
    rule = "compliance-s3-bucket-server-side-encryption-enabled"
    config.add(rule, 3, 1)
    world.s3.put_object(
        Bucket="compliance-reports-test",
        Key="reports/2024-04-30T060000Z/summary.json",
        Body=json.dumps(
            {
                "runId": "2024-04-30T060000Z",
                "totals": {"compliant": 1, "nonCompliant": 3},
                "rules": [{"ruleName": rule, "nonCompliant": 3}],
                "frameworks": [{"framework": "cis", "score": 12.5}],
                "trend": [{"runId": "2024-04-30T060000Z", "compliant": 1, "nonCompliant": 3}],
                "artifacts": {},
            }
        ).encode(),
    )
    summary, _, _ = artifacts(world, run()["prefix"])
    totals = summary["totals"]
    assert (totals["score"], totals["previousScore"], totals["scoreChange"]) == (75.0, 25.0, 50.0)
    assert summary["rules"][0]["previousNonCompliant"] == 3
    # The old point gains its score and an exempt count; no violations file: the baseline.
    assert summary["trend"][0] == {
        "runId": "2024-04-30T060000Z",
        "compliant": 1,
        "nonCompliant": 3,
        "score": 25.0,
        "exempt": 0,
    }
    assert summary["changes"]["previousRunId"] is None
    card = render.card(summary)["content"]["description"]
    assert "*Score:* 75.00% (+50.00 since the last run)" in card
    assert "*What changed:* first tracked run: 1 open" in card
