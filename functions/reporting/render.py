"""The report's summary.json, the SNS summary and the chat card (report.html is html_report's).

Pure functions of the tally and the trend.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import chat
import rulebook
import score_changes
import scores
import violations
from tally import Tally

TREND_RUNS = 30


def trend_point(run_id: str, generated_at: str, tally: Tally) -> dict[str, Any]:
    return {
        "runId": run_id,
        "generatedAt": generated_at,
        "compliant": tally.compliant,
        "nonCompliant": tally.non_compliant,
        "exempt": tally.exempt,
        "score": scores.score(tally.compliant, tally.non_compliant),
    }


def trend(previous: Mapping[str, Any] | None, current: dict[str, Any]) -> list[dict[str, Any]]:
    """The last runs, oldest first: the previous run's trend plus this run."""
    points = previous.get("trend") if isinstance(previous, Mapping) else None
    kept = [
        point
        for point in (points if isinstance(points, list) else [])
        if isinstance(point, dict)
        and isinstance(point.get("runId"), str)
        and point["runId"] < current["runId"]
        and isinstance(point.get("compliant"), int)
        and isinstance(point.get("nonCompliant"), int)
    ]
    return [*(score_changes.trend_point(p) for p in kept[-(TREND_RUNS - 1) :]), current]


def summary(
    run_id: str,
    generated_at: str,
    scope: Mapping[str, str],
    tally: Tally,
    points: list[dict[str, Any]],
    artifacts: Mapping[str, str],
    runbook_base_url: str,
    frameworks: Sequence[Mapping[str, Any]],
    exemptions: Sequence[Mapping[str, Any]] = (),
    expiring: Sequence[Mapping[str, Any]] = (),
    *,
    previous: Mapping[str, Any] | None = None,
    changes: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """``previous``: the previous complete run's summary (None: none), for the score changes;
    ``changes``: the tracker's what-changed section (None: this run is the baseline)."""
    before = score_changes.previous_non_compliant(previous)
    rules = []
    for rule in sorted(tally.rules.values(), key=lambda r: r.name):
        text = rulebook.text(rule.identifier)
        rules.append(
            {
                "ruleName": rule.name,
                "ruleIdentifier": rule.identifier,
                "description": text.description,
                "found": rule.found,
                "compliant": rule.compliant,
                "nonCompliant": rule.non_compliant,
                "exempt": rule.exempt,
                "evaluated": rule.evaluated,
                "score": scores.score(rule.compliant, rule.non_compliant),
                "previousNonCompliant": before.get(rule.name),
                "runbook": rulebook.runbook_url(runbook_base_url, rule.identifier),
                "byAccountRegion": [
                    {"account": a, "region": r, "compliant": c, "nonCompliant": n, "exempt": e}
                    for (a, r), (c, n, e) in sorted(rule.scopes.items())
                ],
            }
        )
    return {
        "schemaVersion": 1,
        "kind": "compliance-report",
        "runId": run_id,
        "generatedAt": generated_at,
        "scope": dict(scope),
        "totals": {
            "compliant": tally.compliant,
            "nonCompliant": tally.non_compliant,
            # NON_COMPLIANT results an active exemption covers: in neither count above.
            "exempt": tally.exempt,
            "evaluated": tally.compliant + tally.non_compliant,
            "rules": len(rules),
            "rulesNotFound": sum(1 for r in rules if not r["found"]),
            "rulesWithNonCompliant": sum(1 for r in rules if r["nonCompliant"]),
            **score_changes.totals(tally, previous),
        },
        "rules": rules,
        "frameworks": score_changes.frameworks(frameworks, previous),
        "accounts": score_changes.accounts(tally),
        "changes": dict(changes) if changes is not None else violations.empty(tally.non_compliant),
        "exemptions": [dict(e) for e in exemptions],
        "expiringSoon": [dict(e) for e in expiring],
        "trend": points,
        "artifacts": dict(artifacts),
    }


def scope_text(scope: Mapping[str, str]) -> str:
    if scope.get("aggregator"):
        return f"all accounts and regions of aggregator {scope['aggregator']}"
    return f"account {scope.get('account') or '(unknown)'} in {scope.get('region') or '(unknown)'}"


def message(document: Mapping[str, Any]) -> tuple[str, str, dict[str, str]]:
    totals = document["totals"]
    points = document["trend"]
    previous = points[-2]["nonCompliant"] if len(points) > 1 else None
    subject = (
        f"Compliance report {document['runId'][:10]}: {totals['nonCompliant']} non-compliant "
        f"of {totals['evaluated']} resources"
    )
    coverage = document.get("coverage")
    partial = bool(coverage) and not coverage["complete"]
    if partial:
        subject = f"[partial] {subject}"
    lines = [
        f"Compliance report for {scope_text(document['scope'])}, run {document['runId']}.",
        *(_partial_lines(coverage) if partial else []),
        "",
        score_changes.headline(totals),
        f"What changed: {score_changes.changes_text(document['changes'])}",
        "",
        f"Non-compliant resources: {totals['nonCompliant']}"
        + (f" (previous run: {previous})" if previous is not None else ""),
        f"Compliant resources:     {totals['compliant']}",
        *_exemption_lines(document),
        f"Rules:                   {totals['rules']}"
        + (f" ({totals['rulesNotFound']} not found)" if totals["rulesNotFound"] else ""),
        *_framework_lines(document["frameworks"]),
        "",
        "Per rule (non-compliant / evaluated):",
    ]
    for rule in sorted(document["rules"], key=lambda r: (-r["nonCompliant"], r["ruleName"])):
        counts = f"{rule['nonCompliant']} / {rule['evaluated']}" if rule["found"] else "not found"
        lines.append(f"  {rule['ruleName']} ({rule['ruleIdentifier']}): {counts}")
    artifacts = document["artifacts"]
    lines += [
        "",
        f"Report:  {artifacts['report']}",
        f"Details: {artifacts['details']}",
        f"Summary: {artifacts['summary']}",
    ]
    attributes = {
        "notificationType": "compliance-report",
        "hasNonCompliant": "true" if totals["nonCompliant"] else "false",
    }
    return subject, "\n".join(lines) + "\n", attributes


def _partial_lines(coverage: Mapping[str, Any], shown: int = 10) -> list[str]:
    missing = coverage["missing"]
    lines = [
        "",
        f"PARTIAL REPORT: {len(missing)} of {coverage['accountRegions']} account-regions are "
        "missing or not current:",
        *(f"  {m['account']} {m['region']}: {m['reason']}" for m in missing[:shown]),
    ]
    if len(missing) > shown:
        lines.append(f"  ... and {len(missing) - shown} more (summary.json, coverage.missing)")
    return lines


def _exemption_lines(document: Mapping[str, Any]) -> list[str]:
    listed = document.get("exemptions") or []
    if not listed:
        return []
    active = sum(1 for e in listed if e["status"] == "active")
    soon = document.get("expiringSoon") or []
    lines = [
        f"Exempt resources:        {document['totals']['exempt']}",
        f"Exemptions:              {active} active of {len(listed)}, {len(soon)} expiring "
        "within 14 days",
    ]
    lines += [f"  expiring {e['expires']}: {e['id']} (owner {e['owner']})" for e in soon]
    return lines


def card(document: Mapping[str, Any], top: int = 5) -> dict[str, Any]:
    """The chat card of a report: the totals and the rules with the most non-compliant
    resources; the e-mail and the report files have every rule."""
    totals = document["totals"]
    worst = sorted(
        (r for r in document["rules"] if r["nonCompliant"]),
        key=lambda r: (-r["nonCompliant"], r["ruleName"]),
    )[:top]
    fields = [
        ("Scope", scope_text(document["scope"])),
        ("Score", score_changes.headline(totals).removeprefix("Score ")),
        ("What changed", score_changes.changes_text(document["changes"])),
        ("Non-compliant resources", f"{totals['nonCompliant']} of {totals['evaluated']}"),
        ("Rules", f"{totals['rulesWithNonCompliant']} of {totals['rules']} with findings"),
        *((r["ruleName"], _rule_line(r)) for r in worst),
        *((f["framework"], score_text(f)) for f in document["frameworks"]),
        ("Report", document["artifacts"]["report"]),
    ]
    icon = ":warning:" if totals["nonCompliant"] else ":white_check_mark:"
    return chat.card(
        f"{icon} Compliance report {document['runId'][:10]}: {totals['nonCompliant']} "
        "non-compliant",
        fields,
        [f"Open the runbook of {r['ruleName']}: {r['runbook']}" for r in worst],
        ["compliance-report", "non-compliant" if totals["nonCompliant"] else "compliant"],
    )


def _rule_line(rule: Mapping[str, Any]) -> str:
    runbook = chat.link(rule["runbook"], "runbook")
    return f"{rule['nonCompliant']} / {rule['evaluated']} non-compliant ({runbook})"


def score_text(framework: Mapping[str, Any]) -> str:
    value = framework["score"]
    return "no results (INSUFFICIENT_DATA)" if value is None else f"{value:.2f}%"


def _framework_lines(frameworks: Sequence[Mapping[str, Any]]) -> list[str]:
    if not frameworks:
        return []
    lines = ["", "Frameworks (score: compliant share of rule-resource results):"]
    for framework in frameworks:
        lines.append(
            f"  {framework['framework']} ({framework['title']}): {score_text(framework)}; "
            f"{len(framework['nonCompliantRules'])} of {framework['rules']} rules "
            f"non-compliant, {framework['nonCompliant']} non-compliant resources, "
            f"{len(framework['manualRules'])} manual, "
            f"{framework['rules'] - framework['rulesDeployed']} not deployed"
        )
        failing = [c["control"] for c in framework["controls"] if c["status"] == "non-compliant"]
        if failing:
            lines.append(f"    non-compliant controls: {', '.join(failing)}")
    return lines
