"""Reporting function: a scheduled compliance report of every rule the stack manages.

The rules are discovered, not configured: those Config lists (or the aggregator returns) whose
names are the stack's (``<RULE_NAME_PREFIX>-<suffix>`` with a suffix of the rulebook), so the
configuration does not grow with the number of rules.

Entry point ``app.handler``, invoked by a schedule. Writes ``details.csv``, ``report.html``,
``manifest.json`` (the SHA-256 of every file written) and ``summary.json`` under
``reports/<run id>/``, the run's rows of the ``rule_results`` and ``violations`` tables under
``reports/tables/``, and publishes a short summary. The run id comes from
the scheduled event's ``time``, so a retried run overwrites its own artifacts.
"""

from __future__ import annotations

import csv
import io
import os
import re
import tempfile
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import IO, Any

import aws
import collect
import exemption_report
import exemptions
import html_report
import keys
import manifest
import observability
import render
import report_store
import rulebook
import scores
import settings
import tables
import tally
import validation as v
import violations

logger = observability.get_logger("reporting")
_AGGREGATOR = re.compile(r"[\w-]{1,256}")


@dataclass(frozen=True)
class ReportingSettings:
    common: settings.CommonSettings
    aggregator: str


def load_settings(env: Mapping[str, str]) -> ReportingSettings:
    aggregator = settings.optional(env, "AGGREGATOR_NAME", "")
    if aggregator and not _AGGREGATOR.fullmatch(aggregator):
        raise settings.invalid(
            "AGGREGATOR_NAME",
            aggregator,
            "empty or a Config aggregator name (letters, digits, _ -)",
        )
    return ReportingSettings(settings.common(env), aggregator)


def run_time(event: Any) -> datetime:
    """The scheduled time of the run (``time`` of a scheduled event), else now."""
    event = v.require_object(event, "event")
    moment = v.timestamp(event, "time", "") if event.get("time") is not None else datetime.now(UTC)
    return moment.replace(microsecond=0)


def handler(event: Any, context: Any) -> dict[str, Any]:
    observability.configure(settings.log_level(os.environ), context)
    try:
        config = load_settings(os.environ)
    except settings.ConfigurationError as error:
        logger.error("invalid configuration", extra=observability.fields(error=str(error)))
        raise
    namespace = config.common.namespace
    try:
        moment = run_time(event)
    except v.ValidationError as error:
        logger.error(
            "rejected malformed reporting event",
            extra=observability.fields(
                error=str(error), field=error.field, event=repr(event)[:20_000]
            ),
        )
        observability.emit_metrics(namespace, {"MalformedEvent": 1}, {})
        return {"status": "rejected", "error": str(error)}

    # Raises when the exemptions cannot be read: the run fails and is retried, rather than
    # counting exempt resources as non-compliant.
    exempt = exemptions.load(os.environ, lambda: aws.client("ssm"))
    day = moment.astimezone(UTC).date()
    run = report_store.run_id(moment)
    prefix = report_store.run_prefix(run)
    bucket = config.common.bucket
    s3 = aws.client("s3")
    scope, rules, results_of = _source(config, context)
    common = config.common
    rule_results_key = tables.table_key("rule_results", run, moment)
    violations_key = tables.table_key("violations", run, moment)
    uris = {
        name: f"s3://{bucket}/{key}"
        for name, key in (
            ("summary", f"{prefix}summary.json"),
            ("details", f"{prefix}details.csv"),
            ("report", f"{prefix}report.html"),
            ("manifest", f"{prefix}manifest.json"),
            ("violations", violations_key),
            ("ruleResults", rule_results_key),
        )
    }
    generated_at = keys.iso_time(datetime.now(UTC))
    # Read first: the violations of the previous run are the state this run's results are
    # compared with as they stream past.
    previous = report_store.previous_summary(s3, bucket, run, moment)
    written: list[manifest.Entry] = []

    def put(key: str, body: bytes | IO[bytes], content_type: str) -> None:
        written.append(report_store.put(s3, bucket, key, body, content_type))

    # Non-compliant rows go to temporary files as they stream in and are uploaded from them:
    # memory holds the counts, the HTML table's first rows, the previous violations in compact
    # form and bounded samples, never the whole result set.
    with (
        tempfile.TemporaryFile() as details,
        violations.start(s3, bucket, previous, run, generated_at, moment) as tracker,
    ):
        text = io.TextIOWrapper(details, encoding="utf-8", newline="")
        writer = csv.writer(text, lineterminator="\n")
        writer.writerow(tally.CSV_COLUMNS)
        counted = tally.build(
            rules,
            results_of,
            writer.writerow,
            table_limit=html_report.TABLE_ROWS,
            frameworks=_framework_labels(rules, common),
            exempt_of=_exempt_of(exempt, day),
            track=tracker.observe,
        )
        text.flush()
        text.detach()
        details.seek(0)
        changed = tracker.finish({name for name, rule in counted.rules.items() if rule.found})
        points = render.trend(previous, render.trend_point(run, generated_at, counted))
        frameworks = scores.framework_scores(
            counted.rules, common.rule_name_prefix, common.frameworks
        )
        listed = exemption_report.entries(exempt, counted.matched, day)
        document = render.summary(
            run,
            generated_at,
            scope,
            counted,
            points,
            uris,
            common.runbook_base_url,
            frameworks,
            listed,
            exemption_report.expiring_soon(listed),
            previous=previous,
            changes=changed,
        )
        put(f"{prefix}details.csv", details, "text/csv; charset=utf-8")
        rows = tables.rule_results_rows(run, generated_at, counted, _framework_lists(rules, common))
        put(rule_results_key, tables.gzip_lines(rows), tables.CONTENT_TYPE)
        put(violations_key, tracker.file, tables.CONTENT_TYPE)
    html = html_report.page(document, counted.table_rows())
    put(f"{prefix}report.html", html.encode("utf-8"), "text/html; charset=utf-8")
    summary_body = aws.canonical_json(document).encode("utf-8")
    summary_key = f"{prefix}summary.json"
    evidence = manifest.document(
        run,
        generated_at,
        [*written, manifest.entry(summary_key, summary_body, "application/json")],
    )
    report_store.put(
        s3,
        bucket,
        f"{prefix}manifest.json",
        aws.canonical_json(evidence).encode("utf-8"),
        manifest.CONTENT_TYPE,
    )
    # The summary goes last: its presence marks a complete run for the next run's trend and
    # what-changed state.
    report_store.put(s3, bucket, summary_key, summary_body, "application/json")
    subject, body, attributes = render.message(document)
    card = render.card(document) if common.chat_notifications else None
    aws.publish(aws.client("sns"), common.topic_arn, subject, body, attributes, card)
    for rule in document["rules"]:
        if rule["found"]:
            # Exempt results are not in NonCompliantResources: a rule whose only failures are
            # exempt does not raise its alarm. ExemptResources only in a stack with exemptions,
            # so a stack without them pays for no extra metric series.
            counts = {
                "NonCompliantResources": rule["nonCompliant"],
                "CompliantResources": rule["compliant"],
                **({"ExemptResources": rule["exempt"]} if len(exempt) else {}),
            }
            observability.emit_metrics(namespace, counts, {"RuleName": rule["ruleName"]})
    _framework_metrics(namespace, document["frameworks"])
    logger.info(
        "compliance report written", extra=observability.fields(prefix=prefix, **document["totals"])
    )
    return {"status": "reported", "prefix": prefix, "totals": document["totals"]}


def _exempt_of(exempt: exemptions.Exemptions, day: date) -> tally.ExemptOf:
    def exemption_id(result: collect.Result, identifier: str) -> str | None:
        found = exempt.match(
            result.account,
            result.region,
            identifier,
            result.resource_type,
            result.resource_id,
            day,
        )
        return found.id if found is not None else None

    return exemption_id


def _framework_metrics(namespace: str, frameworks: Iterable[Mapping[str, Any]]) -> None:
    """Per framework, so the stack alarms per framework rather than per rule. One EMF document
    each (two metrics, one dimension: far inside EMF's 100 metrics and 30 dimensions). A
    framework without results has no score, and its ComplianceScore is left out rather than
    reported as 0 or 100."""
    for framework in frameworks:
        metrics: dict[str, float] = {"NonCompliantResources": framework["nonCompliant"]}
        if framework["score"] is not None:
            metrics["ComplianceScore"] = framework["score"]
        observability.emit_metrics(
            namespace,
            metrics,
            {"Framework": framework["framework"]},
            units={"ComplianceScore": "Percent"},
        )


def _framework_lists(
    rules: Mapping[str, str], common: settings.CommonSettings
) -> dict[str, list[str]]:
    """Each rule's enabled frameworks."""
    prefix = common.rule_name_prefix
    return {
        name: list(rulebook.frameworks_of(rulebook.suffix(prefix, name) or "", common.frameworks))
        for name in rules
    }


def _framework_labels(rules: Mapping[str, str], common: settings.CommonSettings) -> dict[str, str]:
    """Each rule's enabled frameworks, as the CSV's last column shows them."""
    return {name: ";".join(listed) for name, listed in _framework_lists(rules, common).items()}


def _stack_rules(names: Iterable[str], common: settings.CommonSettings) -> dict[str, str]:
    """The stack's rules among ``names``, by name, with their identifiers."""
    found = {name: common.identifier_of(name) for name in names}
    return {name: ident for name, ident in sorted(found.items()) if ident is not None}


ResultsOf = Callable[[str], Iterable[collect.Result]]


def _source(
    config: ReportingSettings, context: Any
) -> tuple[dict[str, str], dict[str, str], ResultsOf]:
    """The report's scope, the stack's rules found there and how to read a rule's results."""
    client = aws.client("config")
    common = config.common
    if config.aggregator:
        sources = collect.aggregate_sources(
            client, config.aggregator, lambda name: common.identifier_of(name) is not None
        )

        def aggregated(rule: str) -> Iterable[collect.Result]:
            return collect.aggregate_results(client, config.aggregator, rule, sources.get(rule, []))

        return {"aggregator": config.aggregator}, _stack_rules(sources, common), aggregated
    region = os.environ.get("AWS_REGION", "")
    arn = getattr(context, "invoked_function_arn", "")
    account = arn.split(":")[4] if isinstance(arn, str) and arn.count(":") >= 5 else ""

    def own(rule: str) -> Iterable[collect.Result]:
        return collect.account_results(client, rule, account, region)

    rules = _stack_rules(collect.account_rule_names(client), common)
    return {"account": account, "region": region}, rules, own
