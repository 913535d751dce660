"""Writing a run's report once its results are counted: the same files, tables, notification and
metrics whether the results came from one account or from an organization's aggregator.

``start`` gathers what a run needs before counting (exemptions, the previous summary); the
``Details`` context streams non-compliant rows to a temporary CSV and the violations tracker;
``finish`` writes everything else, the summary last (its presence marks a complete run).
"""

from __future__ import annotations

import csv
import io
import os
import tempfile
from collections.abc import Container, Iterable, Mapping, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from types import TracebackType
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
import violations

logger = observability.get_logger("reporting")


@dataclass
class Run:
    common: settings.CommonSettings
    moment: datetime
    day: date
    run: str
    prefix: str
    generated_at: str
    s3: Any
    exempt: exemptions.Exemptions
    previous: dict[str, Any] | None
    uris: dict[str, str]
    rule_results_key: str
    violations_key: str
    written: list[manifest.Entry] = field(default_factory=list)

    @property
    def bucket(self) -> str:
        return self.common.bucket

    def put(self, key: str, body: bytes | IO[bytes], content_type: str) -> None:
        self.written.append(report_store.put(self.s3, self.bucket, key, body, content_type))


def start(common: settings.CommonSettings, moment: datetime, *, details_uri: str = "") -> Run:
    # Raises when the exemptions cannot be read: the run fails and is retried, rather than
    # counting exempt resources as non-compliant.
    exempt = exemptions.load(os.environ, lambda: aws.client("ssm"))
    run = report_store.run_id(moment)
    prefix = report_store.run_prefix(run)
    bucket = common.bucket
    s3 = aws.client("s3")
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
    if details_uri:
        uris["results"] = details_uri
    return Run(
        common,
        moment,
        moment.astimezone(UTC).date(),
        run,
        prefix,
        keys.iso_time(datetime.now(UTC)),
        s3,
        exempt,
        # Read first: the violations of the previous run are the state this run's results are
        # compared with as they stream past.
        report_store.previous_summary(s3, bucket, run, moment),
        uris,
        rule_results_key,
        violations_key,
    )


class Details:
    """Non-compliant rows go to a temporary file as they stream in and are uploaded from it:
    memory holds the counts, the HTML table's first rows, the previous violations in compact
    form and bounded samples, never the whole result set."""

    def __init__(self, run: Run) -> None:
        self.run = run
        self._stack = ExitStack()
        # Closed by the stack on exit, like the tracker.
        self._file = self._stack.enter_context(tempfile.TemporaryFile())  # noqa: SIM115
        self._text = io.TextIOWrapper(self._file, encoding="utf-8", newline="")
        self._writer = csv.writer(self._text, lineterminator="\n")
        self._writer.writerow(tally.CSV_COLUMNS)
        self.tracker = self._stack.enter_context(
            violations.start(
                run.s3, run.bucket, run.previous, run.run, run.generated_at, run.moment
            )
        )

    def write_row(self, row: Sequence[str]) -> None:
        self._writer.writerow(row)

    def file(self) -> IO[bytes]:
        self._text.flush()
        self._text.detach()
        self._file.seek(0)
        return self._file

    def __enter__(self) -> Details:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self._stack.__exit__(kind, error, trace)


def finish(
    run: Run,
    scope: Mapping[str, str],
    counted: tally.Tally,
    details: Details,
    rule_rows: Iterable[Mapping[str, Any]],
    *,
    extra_entries: Sequence[manifest.Entry] = (),
    extra: Mapping[str, Any] | None = None,
    accounts_limit: int | None = None,
    unread: Container[tuple[str, str]] = (),
) -> dict[str, Any]:
    """``extra``: sections added to the summary (an organization's coverage and regions);
    ``accounts_limit``: at most this many account-regions in the summary, the most
    non-compliant first (the rest are counted in ``accountsOmitted`` and listed in the
    rule_results table), so an organization's summary stays small; ``unread``: scopes the run
    could not read, whose previous violations are not taken as fixed."""
    """Every file of the run, the notification and the metrics; the handler's answer."""
    common = run.common
    changed = details.tracker.finish(
        {name for name, rule in counted.rules.items() if rule.found}, unread
    )
    points = render.trend(run.previous, render.trend_point(run.run, run.generated_at, counted))
    frameworks = scores.framework_scores(counted.rules, common.rule_name_prefix, common.frameworks)
    listed = exemption_report.entries(run.exempt, counted.matched, run.day)
    document = render.summary(
        run.run,
        run.generated_at,
        scope,
        counted,
        points,
        run.uris,
        common.runbook_base_url,
        frameworks,
        listed,
        exemption_report.expiring_soon(listed),
        previous=run.previous,
        changes=changed,
    )
    document.update(extra or {})
    accounts = document["accounts"]
    if accounts_limit is not None and len(accounts) > accounts_limit:
        ranked = sorted(accounts, key=lambda a: (-a["nonCompliant"], a["account"], a["region"]))
        kept = {(a["account"], a["region"]) for a in ranked[:accounts_limit]}
        document["accounts"] = [a for a in accounts if (a["account"], a["region"]) in kept]
        document["accountsOmitted"] = len(accounts) - accounts_limit
    run.put(f"{run.prefix}details.csv", details.file(), "text/csv; charset=utf-8")
    run.put(run.rule_results_key, tables.gzip_lines(rule_rows), tables.CONTENT_TYPE)
    run.put(run.violations_key, details.tracker.file, tables.CONTENT_TYPE)
    html = html_report.page(document, counted.table_rows())
    run.put(f"{run.prefix}report.html", html.encode("utf-8"), "text/html; charset=utf-8")
    summary_body = aws.canonical_json(document).encode("utf-8")
    summary_key = f"{run.prefix}summary.json"
    evidence = manifest.document(
        run.run,
        run.generated_at,
        [
            *run.written,
            *extra_entries,
            manifest.entry(summary_key, summary_body, "application/json"),
        ],
    )
    report_store.put(
        run.s3,
        run.bucket,
        f"{run.prefix}manifest.json",
        aws.canonical_json(evidence).encode("utf-8"),
        manifest.CONTENT_TYPE,
    )
    # The summary goes last: its presence marks a complete run for the next run's trend and
    # what-changed state.
    report_store.put(run.s3, run.bucket, summary_key, summary_body, "application/json")
    subject, body, attributes = render.message(document)
    card = render.card(document) if common.chat_notifications else None
    aws.publish(aws.client("sns"), common.topic_arn, subject, body, attributes, card)
    _rule_metrics(common.namespace, document["rules"], has_exemptions=bool(len(run.exempt)))
    _framework_metrics(common.namespace, document["frameworks"])
    logger.info(
        "compliance report written",
        extra=observability.fields(prefix=run.prefix, **document["totals"]),
    )
    return {"status": "reported", "prefix": run.prefix, "totals": document["totals"]}


def _rule_metrics(
    namespace: str, rules: Iterable[Mapping[str, Any]], *, has_exemptions: bool
) -> None:
    for rule in rules:
        if rule["found"]:
            # Exempt results are not in NonCompliantResources: a rule whose only failures are
            # exempt does not raise its alarm. ExemptResources only in a stack with exemptions,
            # so a stack without them pays for no extra metric series.
            counts = {
                "NonCompliantResources": rule["nonCompliant"],
                "CompliantResources": rule["compliant"],
                **({"ExemptResources": rule["exempt"]} if has_exemptions else {}),
            }
            observability.emit_metrics(namespace, counts, {"RuleName": rule["ruleName"]})


def exempt_of(run: Run) -> tally.ExemptOf:
    exempt, day = run.exempt, run.day

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


def framework_lists(rules: Iterable[str], common: settings.CommonSettings) -> dict[str, list[str]]:
    """Each rule's enabled frameworks."""
    prefix = common.rule_name_prefix
    return {
        name: list(rulebook.frameworks_of(rulebook.suffix(prefix, name) or "", common.frameworks))
        for name in rules
    }


def framework_labels(rules: Iterable[str], common: settings.CommonSettings) -> dict[str, str]:
    """Each rule's enabled frameworks, as the CSV's last column shows them."""
    return {name: ";".join(listed) for name, listed in framework_lists(rules, common).items()}


def stack_rules(names: Iterable[str], common: settings.CommonSettings) -> dict[str, str]:
    """The stack's rules among ``names``, by name, with their identifiers."""
    found = {name: common.identifier_of(name) for name in names}
    return {name: ident for name, ident in sorted(found.items()) if ident is not None}
