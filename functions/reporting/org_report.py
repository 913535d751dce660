"""The organization report: collect from the aggregator in segments, then report.

Three ways in (docs/organization.md, "Which path runs when"):

- ``phase`` absent (a scheduled event, one invocation): collect, then report. When the
  collection does not finish in the invocation's time, its state is saved and the invocation
  fails with ``CollectionIncomplete``; Lambda's retry of the asynchronous invocation continues
  from the saved page.
- ``phase: collect`` (a Step Functions segment): collect until done or out of time and say
  which phase comes next, ``collect`` or ``report``.
- ``phase: report``: the report of the finished collection.
"""

from __future__ import annotations

import gzip
import json
import os
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any

import aws
import exemptions
import html_report
import observability
import org_collect as oc
import org_run
import publish
import report_store
import settings
import tables
import tally
import validation as v
from collect import Result
from scores import score

logger = observability.get_logger("reporting.org")

PHASES = ("collect", "report")
# Seconds kept back from a segment's time for the checkpoint and the answer.
SAFETY_SECONDS = 60.0
# Without a Lambda context (a local run): the budget of one 15-minute invocation.
DEFAULT_BUDGET_SECONDS = 900.0
# Rule x scope pairs up to which the summary lists each rule's counts per account and region
# (beyond, they are in the rule_results table only and the summary stays small).
SUMMARY_PAIRS_MAX = 2_000
READ_WORKERS = 8
# Account-regions the summary lists (the most non-compliant); all are in rule_results.
SUMMARY_ACCOUNTS_MAX = 1_000


class CollectionIncomplete(Exception):
    """The collection needs another segment; its state is saved and a retry continues it."""


def phase_of(event: Any, aggregator: str) -> str | None:
    event = v.require_object(event, "event")
    if event.get("phase") is None:
        return None
    phase = v.choice(event, "phase", "event", PHASES)
    if not aggregator:
        raise v.ValidationError(
            "event.phase", phase, "no phase: a report of one account runs in one invocation"
        )
    return phase


def _budget(context: Any) -> float:
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    seconds = remaining() / 1000 if callable(remaining) else DEFAULT_BUDGET_SECONDS
    return max(0.0, seconds - SAFETY_SECONDS)


def run(
    common: settings.CommonSettings,
    aggregator: str,
    moment: datetime,
    phase: str | None,
    context: Any,
    clock: oc.Clock | None = None,
) -> dict[str, Any]:
    clock = clock or oc.SystemClock()
    store = org_run.Store(aws.client("s3"), common.bucket)
    run_id = report_store.run_id(moment)
    time_text = f"{moment:%Y-%m-%dT%H:%M:%SZ}"
    if phase != "report":
        done = collect(common, aggregator, moment, store, clock, _budget(context))
        if phase == "collect":
            return {"time": time_text, "phase": "report" if done else "collect"}
        if not done:
            raise CollectionIncomplete(
                f"run {run_id}: the aggregator's results did not fit one invocation; the state is "
                "saved and a retry continues it (an organization this size needs the report "
                "state machine: docs/organization.md)"
            )
    collection = store.load(run_id)
    if collection is None or not collection.done:
        raise CollectionIncomplete(f"run {run_id}: no finished collection to report")
    return report(common, aggregator, moment, collection)


def collect(
    common: settings.CommonSettings,
    aggregator: str,
    moment: datetime,
    store: org_run.Store,
    clock: oc.Clock,
    budget: float,
) -> bool:
    """One segment of the run's collection; True when the collection is complete."""
    run_id = report_store.run_id(moment)
    call = oc.Caller(clock, clock.monotonic() + budget)
    collection = store.load(run_id)
    if collection is None:
        try:
            collection = org_run.plan(call, aws.client("config"), aggregator, run_id, _day(moment))
        except oc.OutOfTime:
            return False
    if collection.done:
        return True
    exempt = exemptions.load(os.environ, lambda: aws.client("ssm"))
    day = moment.date()

    def exempt_of(result: Result, identifier: str) -> str | None:
        found = exempt.match(
            result.account, result.region, identifier, result.resource_type, result.resource_id, day
        )
        return found.id if found is not None else None

    collector = org_run.Collector(
        collection,
        call,
        aws.client("config"),
        aggregator,
        store,
        lambda rule: publish.framework_lists([rule], common)[rule],
        exempt_of,
        common.identifier_of,
    )
    done = collector.run()
    logger.info(
        "collection segment",
        extra=observability.fields(
            run=run_id,
            done=done,
            batch=collection.batch,
            batches=len(collection.batches),
            calls=collection.calls,
            throttled=collection.throttled,
            segment=collection.segments,
        ),
    )
    return done


def _day(moment: datetime) -> str:
    return f"{moment:%Y-%m-%d}"


def counted(collection: org_run.Collection, limit: int) -> tally.Tally:
    """The collection's counts in the shape the summary and the HTML report read."""
    totals = collection.rule_totals()
    rules = {
        name: tally.RuleTally(name, collection.identifiers[name], True, *totals[name])
        for name in collection.rules
    }
    pairs = list(_pairs(collection, SUMMARY_PAIRS_MAX + 1))
    if len(pairs) <= SUMMARY_PAIRS_MAX:
        for scope, rule, counts in pairs:
            rules[rule].scopes[scope] = list(counts)
    result = tally.Tally(rules, limit, matched=collection.matched_totals())
    result.scope_totals = collection.scope_totals()
    return result


def _pairs(collection: org_run.Collection, most: int) -> Iterator[tuple[Any, str, Any]]:
    for count, pair in enumerate(collection.scope_counts()):
        if count >= most:
            return
        yield pair


def coverage(collection: org_run.Collection) -> dict[str, Any]:
    """What the report covers and what it lacks: never a silent gap."""
    sources_count = len(collection.scopes)
    rule_scopes = sum(e[0] for e in collection.expected)
    bound = oc.lower_bound(collection.resources, rule_scopes, sources_count)
    return {
        "complete": not collection.missing,
        "accountRegions": sources_count,
        "missing": [
            {"account": m.account, "region": m.region, "reason": m.reason}
            for m in collection.missing
        ],
        "resources": collection.resources,
        "ruleScopes": rule_scopes,
        "fallbackScopes": [{"account": a, "region": r} for a, r in collection.fallback],
        # Calls Config answered; throttled attempts (retried after a wait) apart.
        "calls": collection.calls - collection.throttled,
        "throttled": collection.throttled,
        "lowerBound": bound,
        "segments": collection.segments,
        "detailObjects": len(collection.written),
    }


def regions(tallied: tally.Tally) -> list[dict[str, Any]]:
    """Per region, summed over accounts and rules."""
    summed: dict[str, list[int]] = {}
    for (_, region), counts in (tallied.scope_totals or {}).items():
        total = summed.setdefault(region, [0, 0, 0])
        for index, value in enumerate(counts):
            total[index] += value
    return [
        {"region": region, "compliant": c, "nonCompliant": n, "exempt": e, "score": score(c, n)}
        for region, (c, n, e) in sorted(summed.items())
    ]


def report(
    common: settings.CommonSettings,
    aggregator: str,
    moment: datetime,
    collection: org_run.Collection,
) -> dict[str, Any]:
    prefix = f"s3://{common.bucket}/{report_store.PREFIX}tables/results/dt={collection.day}/"
    run = publish.start(common, moment, details_uri=prefix)
    tallied = counted(collection, html_report.TABLE_ROWS)
    labels = {
        rule: ";".join(f) for rule, f in publish.framework_lists(collection.rules, common).items()
    }
    with publish.Details(run) as details:
        for row in _detail_rows(run.s3, common.bucket, collection):
            result = Result(
                row["rule_name"],
                row["account"],
                row["region"],
                row["resource_type"],
                row["resource_id"],
                "NON_COMPLIANT",
                row["annotation"],
                row["result_recorded_time"],
            )
            exemption = row["exemption"] or None
            csv_row = tally.csv_row(
                result, row["rule_identifier"], labels.get(result.rule_name, ""), exemption
            )
            details.write_row(csv_row)
            details.tracker.observe(result, row["rule_identifier"], exemption)
            if exemption is None:
                tallied.offer(csv_row)
        rows = _rule_rows(run, collection, publish.framework_lists(collection.rules, common))
        return publish.finish(
            run,
            {"aggregator": aggregator},
            tallied,
            details,
            rows,
            extra_entries=org_run.entries(collection),
            extra={"coverage": coverage(collection), "regions": regions(tallied)},
            accounts_limit=SUMMARY_ACCOUNTS_MAX,
            unread={(m.account, m.region) for m in collection.missing},
        )


def _detail_rows(s3: Any, bucket: str, collection: org_run.Collection) -> Iterator[dict[str, Any]]:
    """Every detail object's rows, read a few at a time in parallel and taken in key order (so
    the report's files are the same bytes for the same results)."""
    keys_ = [entry.key for entry in org_run.entries(collection)]

    def read(key: str) -> bytes:
        return gzip.decompress(s3.get_object(Bucket=bucket, Key=key)["Body"].read())

    with ThreadPoolExecutor(max_workers=READ_WORKERS) as pool:
        for body in pool.map(read, keys_):
            for line in body.splitlines():
                yield json.loads(line)


def _rule_rows(
    run: publish.Run, collection: org_run.Collection, frameworks: Mapping[str, list[str]]
) -> Iterator[dict[str, Any]]:
    for (account, region), rule, (compliant, non_compliant, exempt) in collection.scope_counts():
        yield tables.rule_results_row(
            run.run,
            run.generated_at,
            rule,
            collection.identifiers[rule],
            account,
            region,
            (compliant, non_compliant, exempt),
            frameworks.get(rule, []),
        )
