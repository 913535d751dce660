"""What changed since the previous run: every transition of the violations state (violations.py)."""

from __future__ import annotations

import gzip
import io
import json
import logging
import random
import tracemalloc
from datetime import UTC, datetime, timedelta

import collect
import pytest
import render
import score_changes
import tally
import violations
from conftest import ACCOUNT, BUCKET, REGION, load_app

load_app("reporting")
MOMENT = datetime(2024, 5, 1, 6, 0, tzinfo=UTC)
RUN = "2024-05-01T060000Z"
PREVIOUS_RUN = "2024-04-30T060000Z"
GENERATED = "2024-05-01T06:00:05.000Z"
RULE = "compliance-encrypted-volumes"
OTHER_RULE = "compliance-desired-instance-type"
KIND = "AWS::EC2::Volume"
PREVIOUS_KEY = f"reports/tables/violations/dt=2024-04-30/{PREVIOUS_RUN}.json.gz"


def iso(days_ago: float) -> str:
    return violations.keys.iso_time(MOMENT - timedelta(days=days_ago))


def result(resource: str, rule: str = RULE) -> collect.Result:
    return collect.Result(
        rule, ACCOUNT, REGION, KIND, resource, "NON_COMPLIANT", "not encrypted", iso(0.5)
    )


def row(resource: str, state: str, first_days_ago: float, fixed_days_ago=None, rule=RULE):
    return {
        "run_id": PREVIOUS_RUN,
        "generated_at": iso(1),
        "rule_name": rule,
        "rule_identifier": "ENCRYPTED_VOLUMES",
        "account": ACCOUNT,
        "region": REGION,
        "resource_type": KIND,
        "resource_id": resource,
        "state": state,
        "change": "none",
        "first_seen": iso(first_days_ago),
        "fixed_at": iso(fixed_days_ago) if fixed_days_ago is not None else None,
        "exemption": "ex-1" if state == "exempt" else None,
        "annotation": "was not encrypted",
        "recorded": iso(1.5),
    }


def gzip_rows(rows) -> bytes:
    return gzip.compress(b"".join(violations.json_line(r) for r in rows), mtime=0)


def stored_previous(world, rows=None, *, raw=None):
    """The previous run's summary, its violations file stored in the bucket."""
    world.s3.put_object(
        Bucket=BUCKET, Key=PREVIOUS_KEY, Body=raw if raw is not None else gzip_rows(rows or [])
    )
    return {"runId": PREVIOUS_RUN, "artifacts": {"violations": f"s3://{BUCKET}/{PREVIOUS_KEY}"}}


def track(world, previous, observed, found=(RULE, OTHER_RULE)):
    """Run a tracker: ``observed`` are (result, exemption) pairs; the changes and rows written."""
    with violations.start(world.s3, BUCKET, previous, RUN, GENERATED, MOMENT) as tracker:
        for observed_result, exemption in observed:
            tracker.observe(observed_result, "ENCRYPTED_VOLUMES", exemption)
        changes = tracker.finish(set(found))
        written = gzip.decompress(tracker.file.read())
    rows = [json.loads(line) for line in written.splitlines()]
    return changes, {r["resource_id"]: r for r in rows}, written


def counts(changes):
    return {k: changes[k] for k in ("new", "fixed", "regressed", "stillOpen")}


def test_a_violation_not_tracked_before_is_new_from_this_run(world):
    changes, rows, _ = track(world, stored_previous(world, []), [(result("vol-1"), None)])
    assert changes["previousRunId"] == PREVIOUS_RUN
    assert counts(changes) == {"new": 1, "fixed": 0, "regressed": 0, "stillOpen": 0}
    assert rows["vol-1"]["state"] == "open" and rows["vol-1"]["change"] == "new"
    assert rows["vol-1"]["first_seen"] == "2024-05-01T06:00:00.000Z"
    assert rows["vol-1"]["run_id"] == RUN and rows["vol-1"]["generated_at"] == GENERATED
    assert rows["vol-1"]["annotation"] == "not encrypted"
    [sample] = changes["samples"]["new"]
    assert sample == {
        "ruleName": RULE,
        "ruleIdentifier": "ENCRYPTED_VOLUMES",
        "account": ACCOUNT,
        "region": REGION,
        "resourceType": KIND,
        "resourceId": "vol-1",
        "firstSeen": "2024-05-01T06:00:00.000Z",
        "ageDays": 0,
        "fixedAt": None,
    }


def test_a_violation_still_open_keeps_when_it_was_first_seen(world):
    previous = stored_previous(world, [row("vol-1", "open", 30)])
    changes, rows, _ = track(world, previous, [(result("vol-1"), None)])
    assert counts(changes) == {"new": 0, "fixed": 0, "regressed": 0, "stillOpen": 1}
    assert rows["vol-1"]["change"] == "still-open" and rows["vol-1"]["first_seen"] == iso(30)
    assert changes["samples"]["stillOpen"][0]["ageDays"] == 30
    assert changes["openByAge"] == {"0-6": 0, "7-29": 0, "30-89": 1, "90+": 0}


def test_an_open_violation_not_seen_again_is_fixed_and_then_carried(world):
    previous = stored_previous(world, [row("vol-1", "open", 12)])
    changes, rows, _ = track(world, previous, [])
    assert counts(changes) == {"new": 0, "fixed": 1, "regressed": 0, "stillOpen": 0}
    fixed = rows["vol-1"]
    assert (fixed["state"], fixed["change"]) == ("fixed", "fixed")
    assert fixed["fixed_at"] == "2024-05-01T06:00:00.000Z" and fixed["first_seen"] == iso(12)
    assert fixed["exemption"] is None and fixed["rule_identifier"] == "ENCRYPTED_VOLUMES"
    [sample] = changes["samples"]["fixed"]
    assert sample["fixedAt"] == "2024-05-01T06:00:00.000Z" and sample["ageDays"] == 12
    assert changes["openByAge"] == {"0-6": 0, "7-29": 0, "30-89": 0, "90+": 0}


def test_a_fixed_violation_is_carried_for_90_days_without_counting(world):
    previous = stored_previous(
        world, [row("vol-recent", "fixed", 40, 10), row("vol-old", "fixed", 200, 91)]
    )
    changes, rows, _ = track(world, previous, [])
    assert counts(changes) == {"new": 0, "fixed": 0, "regressed": 0, "stillOpen": 0}
    assert set(rows) == {"vol-recent"}
    carried = rows["vol-recent"]
    assert (carried["state"], carried["change"], carried["fixed_at"]) == ("fixed", "none", iso(10))


@pytest.mark.parametrize(
    ("fixed_days_ago", "change"), [(1, "regressed"), (90, "regressed"), (90.01, "new")]
)
def test_a_fixed_violation_open_again_regressed_within_90_days_only(world, fixed_days_ago, change):
    previous = stored_previous(world, [row("vol-1", "fixed", 120, fixed_days_ago)])
    changes, rows, _ = track(world, previous, [(result("vol-1"), None)])
    key = {"regressed": "regressed", "new": "new"}[change]
    assert changes[key] == 1 and changes["stillOpen"] == changes["fixed"] == 0
    # Either way the open episode starts again at this run.
    assert rows["vol-1"]["change"] == change and rows["vol-1"]["first_seen"] == iso(0)
    assert rows["vol-1"]["fixed_at"] is None


def test_exempt_both_ways(world):
    previous = stored_previous(
        world, [row("vol-now-exempt", "open", 20), row("vol-was-exempt", "exempt", 50)]
    )
    changes, rows, _ = track(
        world,
        previous,
        [(result("vol-now-exempt"), "ex-7"), (result("vol-was-exempt"), None)],
    )
    # Open -> exempt is not fixed; exempt -> open (the exemption ended) is new.
    assert counts(changes) == {"new": 1, "fixed": 0, "regressed": 0, "stillOpen": 0}
    exempt = rows["vol-now-exempt"]
    assert (exempt["state"], exempt["change"], exempt["exemption"]) == ("exempt", "none", "ex-7")
    assert exempt["first_seen"] == iso(20)
    reopened = rows["vol-was-exempt"]
    assert (reopened["change"], reopened["first_seen"]) == ("new", iso(0))


def test_an_exempt_violation_no_longer_reported_is_dropped_not_fixed(world):
    changes, rows, _ = track(world, stored_previous(world, [row("vol-1", "exempt", 5)]), [])
    assert changes["fixed"] == 0 and rows == {}


def test_violations_of_a_rule_not_found_are_neither_fixed_nor_carried(world):
    previous = stored_previous(
        world,
        [row("vol-gone", "open", 3, rule=OTHER_RULE), row("vol-fixed", "fixed", 9, 2, OTHER_RULE)],
    )
    changes, rows, _ = track(world, previous, [], found=(RULE,))
    assert counts(changes) == {"new": 0, "fixed": 0, "regressed": 0, "stillOpen": 0}
    assert rows == {}


def test_without_a_previous_run_this_run_is_the_baseline(world):
    changes, rows, _ = track(world, None, [(result("vol-1"), None), (result("vol-2"), None)])
    assert changes["previousRunId"] is None
    assert counts(changes) == {"new": 0, "fixed": 0, "regressed": 0, "stillOpen": 2}
    assert changes["openByAge"] == {"0-6": 2, "7-29": 0, "30-89": 0, "90+": 0}
    assert {r["change"] for r in rows.values()} == {"still-open"}
    assert {r["first_seen"] for r in rows.values()} == {iso(0)}


@pytest.mark.parametrize(
    ("raw", "error"),
    [
        (b"not gzip at all", "Not a gzipped file"),
        (gzip.compress(b"{broken\n", mtime=0), "Expecting property name"),
        (gzip.compress(b"[1]\n", mtime=0), "line 1: expected a JSON object, got list"),
        (gzip.compress(b'{"a": 1}', mtime=0)[:-5], "end-of-stream"),
    ],
)
def test_a_damaged_previous_file_makes_a_baseline_with_a_warning(world, caplog, raw, error):
    caplog.set_level(logging.WARNING)
    changes, rows, _ = track(world, stored_previous(world, raw=raw), [(result("vol-1"), None)])
    assert changes["previousRunId"] is None and changes["stillOpen"] == 1
    assert rows["vol-1"]["change"] == "still-open"
    [record] = [r for r in caplog.records if "damaged" in r.getMessage()]
    assert error in record.fields["error"]


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        (
            "state",
            "closed",
            "line 2: state is 'closed', expected one of ['open', 'exempt', 'fixed']",
        ),
        ("resource_id", None, "line 2: resource_id is None, expected a string"),
        ("first_seen", "yesterday", "line 2: first_seen is 'yesterday', expected an ISO 8601"),
        ("first_seen", "2024-04-01T00:00:00", "line 2: first_seen is '2024-04-01T00:00:00'"),
    ],
)
def test_a_previous_row_with_a_bad_field_names_line_field_and_value(
    world, caplog, field, value, message
):
    caplog.set_level(logging.WARNING)
    bad = {**row("vol-2", "open", 3), field: value}
    previous = stored_previous(world, [row("vol-1", "open", 3), bad])
    changes, _, _ = track(world, previous, [])
    # Nothing of a damaged file is used: vol-1 is not reported fixed.
    assert changes["previousRunId"] is None and changes["fixed"] == 0
    [record] = [r for r in caplog.records if "damaged" in r.getMessage()]
    assert message in record.fields["error"]


def test_a_fixed_row_without_fixed_at_is_damage(world, caplog):
    caplog.set_level(logging.WARNING)
    previous = stored_previous(world, [row("vol-1", "fixed", 3)])
    changes, _, _ = track(world, previous, [(result("vol-1"), None)])
    assert changes["previousRunId"] is None
    assert any(
        "line 1: fixed_at is None" in getattr(r, "fields", {}).get("error", "")
        for r in caplog.records
    )


@pytest.mark.parametrize(
    "previous",
    [
        {"runId": PREVIOUS_RUN, "artifacts": {}},  # a summary from before the table existed
        {"runId": PREVIOUS_RUN, "artifacts": {"violations": "s3://another-bucket/x.json.gz"}},
        {"runId": PREVIOUS_RUN, "artifacts": {"violations": f"s3://{BUCKET}/missing.json.gz"}},
    ],
)
def test_a_previous_run_without_a_usable_violations_file_makes_a_baseline(world, caplog, previous):
    caplog.set_level(logging.WARNING)
    changes, _, _ = track(world, previous, [(result("vol-1"), None)])
    assert changes["previousRunId"] is None and changes["stillOpen"] == 1
    assert any("baseline" in r.getMessage() for r in caplog.records)


def test_ages_fall_into_their_buckets_at_the_bucket_edges(world):
    ages = {"a": 0, "b": 6.99, "c": 7, "d": 29.99, "e": 30, "f": 89.99, "g": 90, "h": 400}
    previous = stored_previous(world, [row(name, "open", days) for name, days in ages.items()])
    changes, _, _ = track(world, previous, [(result(name), None) for name in ages])
    assert changes["openByAge"] == {"0-6": 2, "7-29": 2, "30-89": 2, "90+": 2}
    by_id = {s["resourceId"]: s["ageDays"] for s in changes["samples"]["stillOpen"]}
    assert by_id == {"a": 0, "b": 6, "c": 7, "d": 29, "e": 30, "f": 89, "g": 90, "h": 400}
    # Oldest first.
    assert [s["resourceId"] for s in changes["samples"]["stillOpen"]] == list("hgfedcba")


def test_samples_are_bounded_and_ordered(world):
    names = [f"vol-{i:04d}" for i in range(250)]
    shuffled = random.Random(7).sample(names, len(names))
    # Half were open before (ages spread out), half are new; 250 fixed ones too.
    previous = stored_previous(
        world,
        [row(name, "open", (i * 37) % 300) for i, name in enumerate(shuffled[:125])]
        + [row(f"gone-{i:04d}", "open", 1) for i in range(250)],
    )
    changes, rows, _ = track(world, previous, [(result(name), None) for name in shuffled])
    assert counts(changes) == {"new": 125, "fixed": 250, "regressed": 0, "stillOpen": 125}
    samples = changes["samples"]
    assert all(len(samples[k]) == violations.CHANGE_SAMPLES for k in ("new", "fixed", "stillOpen"))
    assert [s["resourceId"] for s in samples["new"]] == sorted(shuffled[125:])[:100]
    assert [s["resourceId"] for s in samples["fixed"]] == [f"gone-{i:04d}" for i in range(100)]
    first_seen = [s["firstSeen"] for s in samples["stillOpen"]]
    assert first_seen == sorted(first_seen) and samples["stillOpen"][0]["ageDays"] == max(
        (i * 37) % 300 for i in range(125)
    )
    assert len(rows) == 500


def test_the_same_input_writes_the_same_bytes(world):
    previous = stored_previous(world, [row("vol-1", "open", 3), row("vol-2", "open", 4)])
    _, _, first = track(world, previous, [(result("vol-1"), None), (result("vol-3"), "ex-1")])
    _, _, second = track(world, previous, [(result("vol-1"), None), (result("vol-3"), "ex-1")])
    assert first == second


@pytest.mark.scale  # about 20 s under tracemalloc: left out of `make test-fast`
def test_the_previous_state_of_100000_violations_stays_small():
    """The figure docs/functions.md gives: the index of 100,000 tracked violations."""
    template = row("", "open", 3)
    resource = f"arn:aws:ec2:{REGION}:{ACCOUNT}:volume/vol-"
    body = gzip.compress(
        b"".join(
            violations.json_line({**template, "resource_id": f"{resource}{i:017x}"})
            for i in range(100_000)
        ),
        mtime=0,
    )
    tracemalloc.start()
    try:
        states = violations._index(io.BytesIO(body))
        size, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(states) == 100_000
    # Measured: 13.3 MB held (about 135 bytes a violation), 15.0 MB at the peak.
    assert size < 16_000_000 and peak < 18_000_000, (size, peak)


def test_a_summary_built_without_a_tracker_has_the_baselines_changes():
    counted = tally.build(
        {RULE: "ENCRYPTED_VOLUMES"},
        lambda _: iter([result("vol-1"), result("vol-2")]),
        lambda _: None,
    )
    document = render.summary(RUN, GENERATED, {}, counted, [], {}, "", [])
    assert document["changes"] == {
        "previousRunId": None,
        "new": 0,
        "fixed": 0,
        "regressed": 0,
        "stillOpen": 2,
        "openByAge": {"0-6": 2, "7-29": 0, "30-89": 0, "90+": 0},
        "samples": {"new": [], "regressed": [], "fixed": [], "stillOpen": []},
    }


@pytest.mark.parametrize(
    ("score", "change", "line"),
    [
        (93.41, 1.25, "Score 93.41% (+1.25 since the last run)"),
        (50.0, -0.5, "Score 50.00% (-0.50 since the last run)"),
        (100.0, 0.0, "Score 100.00% (+0.00 since the last run)"),
        (75.0, None, "Score 75.00%"),  # no previous score
        (None, None, "Score n/a (no evaluated resources)"),
    ],
)
def test_the_score_line(score, change, line):
    assert score_changes.headline({"score": score, "scoreChange": change}) == line
