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

import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import aws
import collect
import html_report
import observability
import org_report as organization
import publish
import settings
import tables
import tally
import validation as v

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
    try:
        moment = run_time(event)
        phase = organization.phase_of(event, config.aggregator)
    except v.ValidationError as error:
        logger.error(
            "rejected malformed reporting event",
            extra=observability.fields(
                error=str(error), field=error.field, event=repr(event)[:20_000]
            ),
        )
        observability.emit_metrics(config.common.namespace, {"MalformedEvent": 1}, {})
        return {"status": "rejected", "error": str(error)}
    if config.aggregator:
        return organization.run(config.common, config.aggregator, moment, phase, context)
    return single_account(config.common, moment, context)


def single_account(
    common: settings.CommonSettings, moment: datetime, context: Any
) -> dict[str, Any]:
    """This account's rules in this region, read rule by rule in one invocation."""
    run = publish.start(common, moment)
    client = aws.client("config")
    region = os.environ.get("AWS_REGION", "")
    arn = getattr(context, "invoked_function_arn", "")
    account = arn.split(":")[4] if isinstance(arn, str) and arn.count(":") >= 5 else ""
    rules = publish.stack_rules(collect.account_rule_names(client), common)

    def own(rule: str) -> Iterable[collect.Result]:
        return collect.account_results(client, rule, account, region)

    with publish.Details(run) as details:
        counted = tally.build(
            rules,
            own,
            details.write_row,
            table_limit=html_report.TABLE_ROWS,
            frameworks=publish.framework_labels(rules, common),
            exempt_of=publish.exempt_of(run),
            track=details.tracker.observe,
        )
        rows = tables.rule_results_rows(
            run.run, run.generated_at, counted, publish.framework_lists(rules, common)
        )
        return publish.finish(run, {"account": account, "region": region}, counted, details, rows)
