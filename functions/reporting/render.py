"""The report's three faces: summary.json, the self-contained report.html, the SNS summary.

Pure functions of the tally and the trend. The HTML loads nothing from anywhere (inline CSS and
SVG, a Content-Security-Policy that forbids fetching), so it reads the same from a download, an
e-mail attachment or an air-gapped laptop.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape
from typing import Any

import chat
import rulebook
import score_changes
import scores
import violations
from tally import CSV_COLUMNS, Tally

TREND_RUNS = 30
_GREEN, _RED, _GREY = "#2e7d32", "#c62828", "#9e9e9e"


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
    lines = [
        f"Compliance report for {scope_text(document['scope'])}, run {document['runId']}.",
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


def _bar(compliant: int, non_compliant: int, label: str) -> str:
    width, height = 480, 28
    total = compliant + non_compliant
    green = round(width * compliant / total) if total else 0
    parts = [
        f'<svg class="bar" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'role="img" aria-label="{escape(label)}">',
        f'<rect x="0" y="0" width="{width}" height="{height}" fill="{_GREY}"/>'
        if not total
        else "",
        f'<rect x="0" y="0" width="{green}" height="{height}" fill="{_GREEN}"/>' if total else "",
        f'<rect x="{green}" y="0" width="{width - green}" height="{height}" fill="{_RED}"/>'
        if non_compliant
        else "",
        f'<text x="6" y="19" fill="#fff">{compliant} compliant</text>' if compliant else "",
        f'<text x="{width - 6}" y="19" fill="#fff" text-anchor="end">'
        f"{non_compliant} non-compliant</text>"
        if non_compliant
        else "",
        '<text x="6" y="19" fill="#fff">no evaluated resources</text>' if not total else "",
        "</svg>",
    ]
    return "".join(parts)


def _trend_chart(points: Sequence[Mapping[str, Any]]) -> str:
    width, height, pad = 640, 200, 36
    peak = max([1] + [max(p["compliant"], p["nonCompliant"]) for p in points])
    step = (width - 2 * pad) / max(1, len(points) - 1)

    def xy(index: int, value: int) -> str:
        x = pad + index * step if len(points) > 1 else width / 2
        y = height - pad - (height - 2 * pad) * value / peak
        return f"{x:.1f},{y:.1f}"

    series = []
    for key, colour in (("compliant", _GREEN), ("nonCompliant", _RED)):
        coords = [xy(i, p[key]) for i, p in enumerate(points)]
        series.append(
            f'<polyline fill="none" stroke="{colour}" stroke-width="2" '
            f'points="{" ".join(coords)}"/>'
        )
        series.extend(
            f'<circle cx="{c.split(",")[0]}" cy="{c.split(",")[1]}" r="3" fill="{colour}"/>'
            for c in coords
        )
    first, last = escape(points[0]["runId"]), escape(points[-1]["runId"])
    return (
        f'<svg class="trend" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'role="img" aria-label="Compliant and non-compliant resources over the last '
        f'{len(points)} runs">'
        f'<line x1="{pad}" y1="{height - pad}" x2="{width - pad}" y2="{height - pad}" '
        f'stroke="#555"/>'
        f'<line x1="{pad}" y1="{pad}" x2="{pad}" y2="{height - pad}" stroke="#555"/>'
        f'<text x="{pad - 6}" y="{pad + 4}" text-anchor="end">{peak}</text>'
        f'<text x="{pad - 6}" y="{height - pad + 4}" text-anchor="end">0</text>'
        f'<text x="{pad}" y="{height - 10}">{first}</text>'
        f'<text x="{width - pad}" y="{height - 10}" text-anchor="end">{last}</text>'
        + "".join(series)
        + "</svg>"
    )


_STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:2rem;color:#222}
h1{margin-bottom:.2rem}.muted{color:#666}.totals{display:flex;gap:2rem;margin:1rem 0}
.totals div{font-size:1.4rem}.ok{color:#2e7d32}.bad{color:#c62828}
.rule{margin:1rem 0;padding:.6rem 1rem;border:1px solid #ddd;border-radius:6px}
.rule h3{margin:.2rem 0}svg text{font-size:12px;font-family:inherit}
table{border-collapse:collapse;width:100%;font-size:.9rem}
th,td{border:1px solid #ddd;padding:.3rem .5rem;text-align:left;vertical-align:top}
th{background:#f3f3f3}td.id{font-family:ui-monospace,monospace;word-break:break-all}
tr.soon td{background:#fff3cd}.exempt{color:#8a6d00}
"""


def _html_rule_rows(results: Sequence[Mapping[str, Any]]) -> list[str]:
    return [
        f"<tr><td>{escape(r['ruleName'])}</td><td>{escape(r['ruleIdentifier'])}</td>"
        f'<td class="{_STATUS_CLASS.get(r["status"], "")}">{escape(r["status"])}</td>'
        f"<td>{r['compliant']}</td><td>{r['nonCompliant']}</td></tr>"
        for r in results
    ]


_STATUS_CLASS = {"compliant": "ok", "non-compliant": "bad"}
_RULE_HEADER = (
    "<table><thead><tr><th>Rule</th><th>Identifier</th><th>Status</th><th>Compliant</th>"
    "<th>Non-compliant</th></tr></thead><tbody>"
)


def _html_frameworks(frameworks: Sequence[Mapping[str, Any]]) -> list[str]:
    """Per framework its score and rules; grouped by control where the framework has them."""
    if not frameworks:
        return []
    out = ["<h2>Frameworks</h2>"]
    for framework in frameworks:
        label = (
            f"{framework['framework']}: {framework['compliant']} compliant, "
            f"{framework['nonCompliant']} non-compliant rule-resource results"
        )
        out += [
            '<section class="rule">',
            f"<h3>{escape(framework['title'])} ({escape(framework['framework'])}): "
            f"{escape(score_text(framework))}</h3>",
            f'<p class="muted">{len(framework["nonCompliantRules"])} of {framework["rules"]} '
            f"rules non-compliant, {framework['nonCompliant']} non-compliant resources, "
            f"{len(framework['manualRules'])} manual (a person records their result), "
            f"{framework['rules'] - framework['rulesDeployed']} not deployed.</p>",
            _bar(framework["compliant"], framework["nonCompliant"], label),
        ]
        by_name = {r["ruleName"]: r for r in framework["ruleResults"]}
        if framework["controls"]:
            for control in framework["controls"]:
                out.append(
                    f"<h4>{escape(control['control'])} {escape(control['title'])}: "
                    f"{escape(control['status'])}</h4>"
                )
                results = [by_name[name] for name in control["rules"] if name in by_name]
                out += [_RULE_HEADER, *_html_rule_rows(results), "</tbody></table>"]
        else:
            out += [_RULE_HEADER, *_html_rule_rows(framework["ruleResults"]), "</tbody></table>"]
        out.append("</section>")
    return out


def _html_exemptions(
    listed: Sequence[Mapping[str, Any]], soon: Sequence[Mapping[str, Any]]
) -> list[str]:
    """Every exemption; those expiring within 14 days highlighted."""
    if not listed:
        return []
    expiring = {e["id"] for e in soon}
    headers = ("Exemption", "Status", "Expires", "Owner", "Rules", "Resources", "Matched", "Reason")
    out = [
        "<h2>Exemptions</h2>",
        f'<p class="muted">{len(soon)} expiring within 14 days (highlighted). Exempt '
        "resources are counted apart from the non-compliant ones.</p>",
        "<table><thead><tr>" + "".join(f"<th>{h}</th>" for h in headers) + "</tr></thead><tbody>",
    ]
    for e in listed:
        cells = (
            escape(e["id"]),
            escape(e["status"]),
            escape(e["expires"]),
            escape(e["owner"]),
            escape(", ".join(e["rules"])),
            escape(", ".join(e["resources"])),
            str(e["matched"]),
            escape(e["reason"]),
        )
        row_class = ' class="soon"' if e["id"] in expiring else ""
        out.append(f"<tr{row_class}>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    out.append("</tbody></table>")
    return out


def html_report(document: Mapping[str, Any], table: Sequence[Sequence[str]]) -> str:
    totals = document["totals"]
    out = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta http-equiv="Content-Security-Policy" '
        "content=\"default-src 'none'; style-src 'unsafe-inline'\">",
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>Compliance report {escape(document['runId'])}</title>",
        f"<style>{_STYLE}</style></head><body>",
        "<h1>Compliance report</h1>",
        f'<p class="muted">{escape(scope_text(document["scope"]))}. Generated '
        f"{escape(document['generatedAt'])} (run {escape(document['runId'])}).</p>",
        '<div class="totals">',
        f'<div class="bad">{totals["nonCompliant"]} non-compliant</div>',
        f'<div class="ok">{totals["compliant"]} compliant</div>',
        *([f'<div class="exempt">{totals["exempt"]} exempt</div>'] if totals["exempt"] else []),
        f"<div>{totals['rules']} rules</div></div>",
        *_html_frameworks(document["frameworks"]),
        *_html_exemptions(document.get("exemptions") or [], document.get("expiringSoon") or []),
        "<h2>Rules</h2>",
    ]
    for rule in document["rules"]:
        status = "" if rule["found"] else " <em>(rule not found: not deployed here?)</em>"
        label = (
            f"{rule['ruleName']}: {rule['compliant']} compliant, "
            f"{rule['nonCompliant']} non-compliant"
        )
        out += [
            '<section class="rule">',
            f"<h3>{escape(rule['ruleName'])}{status}</h3>",
            f'<p class="muted">{escape(rule["ruleIdentifier"])}: {escape(rule["description"])} '
            f'Runbook: <a href="{escape(rule["runbook"])}">{escape(rule["runbook"])}</a></p>',
            _bar(rule["compliant"], rule["nonCompliant"], label),
            "</section>",
        ]
    points = document["trend"]
    out += [
        f"<h2>Trend over the last {len(points)} run{'s' if len(points) != 1 else ''}</h2>",
        _trend_chart(points),
        "<table><thead><tr><th>Run</th><th>Compliant</th><th>Non-compliant</th></tr></thead>",
        "<tbody>",
        *(
            f"<tr><td>{escape(p['runId'])}</td><td>{p['compliant']}</td>"
            f"<td>{p['nonCompliant']}</td></tr>"
            for p in reversed(points)
        ),
        "</tbody></table>",
        "<h2>Non-compliant resources</h2>",
    ]
    if len(table) < totals["nonCompliant"]:
        out.append(
            f'<p class="muted">The first {len(table)} of {totals["nonCompliant"]} in sorted '
            f"order; details.csv next to this report lists them all.</p>"
        )
    if not table:
        out.append("<p>None.</p>")
    else:
        shown = ("ruleName", "account", "region", "resourceType", "resourceId", "annotation")
        index = [CSV_COLUMNS.index(name) for name in shown]
        headers = ("Rule", "Account", "Region", "Resource type", "Resource id", "Annotation")
        out.append("<table><thead><tr>" + "".join(f"<th>{h}</th>" for h in headers))
        out.append("</tr></thead><tbody>")
        for row in table:
            cells = [escape(row[i]) for i in index]
            cells[4] = f'<span class="id">{cells[4]}</span>'
            out.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
        out.append("</tbody></table>")
    out.append("</body></html>")
    return "\n".join(out) + "\n"
