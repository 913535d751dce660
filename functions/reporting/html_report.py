"""report.html: one self-contained page a person reads in a browser or prints to PDF.

Sections in reading order: the headline score, what changed since the last run, the trend, the
frameworks, the accounts and regions (aggregator reports), the rules and the non-compliant
resources. The page fetches nothing: its style and its one script are inline and its
Content-Security-Policy admits exactly those two by their SHA-256 hashes, so it reads the same
from a download, an e-mail attachment or an air-gapped laptop. Without the script every table
still reads; the script only adds sorting and filtering.

Fields a summary written before the score and "what changed" existed lacks are shown as absent,
so an older summary.json still renders.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterable, Mapping, Sequence
from html import escape
from pathlib import Path
from typing import Any

import charts
from render import scope_text, score_text
from tally import CSV_COLUMNS

TABLE_ROWS = 1000
SCRIPT = Path(__file__).with_name("report_script.js").read_text(encoding="utf-8")
# The non-compliant table: (CSV column, header, filter select?)
_TABLE_COLUMNS = (
    ("ruleName", "Rule", True),
    ("account", "Account", True),
    ("region", "Region", True),
    ("resourceType", "Resource type", True),
    ("resourceId", "Resource id", False),
    ("annotation", "Annotation", False),
    ("resultRecordedTime", "Recorded", False),
)
# Long ids and free text may break anywhere, so a narrow page or A4 never overflows.
_CELL_CLASS = {
    "resourceId": ' class="id"',
    "annotation": ' class="text"',
    # An account id or a region code reads as one word: never "eu-west-" over "1".
    "account": ' class="nw"',
    "region": ' class="nw"',
}
_CHANGE_KINDS = (
    ("new", "New", "open now, not open in the previous run"),
    ("regressed", "Regressed", "open again within 90 days of being fixed"),
    ("fixed", "Fixed", "open in the previous run, compliant now"),
    ("stillOpen", "Still open", "open in both runs"),
)
_AGES = ("0-6", "7-29", "30-89", "90+")
# Rows of each "what changed" list on the page: enough to act on, short enough that the page
# (and its print) stays a report. summary.json keeps 100 of each, the violations table all.
CHANGE_ROWS = 20

STYLE = """
:root{color-scheme:light}
*{box-sizing:border-box}
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0 auto;
padding:1rem;max-width:72rem;color:#1a1a1a;line-height:1.4;overflow-wrap:break-word}
h1{margin:.2rem 0}h2{margin:2rem 0 .5rem;border-bottom:2px solid #ddd}h3{margin:1.2rem 0 .3rem}
.muted{color:#555}.nw{white-space:nowrap}.num{text-align:right;white-space:nowrap;overflow-wrap:normal}
th.num{white-space:normal}
.headline{display:flex;flex-wrap:wrap;gap:1rem 2.5rem;align-items:flex-end}
.big{font-size:3rem;font-weight:700;line-height:1}
.counts{display:flex;flex-wrap:wrap;gap:.5rem 1.5rem;margin:0;padding:0}
.counts div{min-width:6rem}.counts dt{color:#555;font-size:.85rem}
.counts dd{margin:0;font-size:1.5rem;font-weight:600}
.up{color:#00603d}.down{color:#a33a00}
.table-wrap{overflow-x:auto;max-width:100%}
table{border-collapse:collapse;width:100%;font-size:.9rem;margin:.4rem 0}
th,td{border:1px solid #ccc;padding:.25rem .45rem;text-align:left;vertical-align:top}
thead th{background:#f0f0f0}tbody th{background:#fafafa;font-weight:600}
td.id{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:.85rem;
overflow-wrap:anywhere}
td.text{overflow-wrap:anywhere}
tr.soon td{background:#fff3cd}tr.soon td:first-child{border-left:4px solid #E69F00}
.warning{border-left:4px solid #a33a00;padding-left:.75rem;margin-bottom:1.5rem}
.bar-cell{min-width:5rem;width:12%}svg{display:block;max-width:100%;height:auto}
svg.bar{height:10px}svg.chart{margin:.5rem 0}svg text{fill:#1a1a1a}
th button{font:inherit;font-weight:600;background:none;border:0;padding:0;color:inherit;
cursor:pointer;text-align:inherit;overflow-wrap:normal}
th[aria-sort=ascending] button::after{content:" \\25B2"}
th[aria-sort=descending] button::after{content:" \\25BC"}
.no-js .controls{display:none}.no-js th button{cursor:text}
.controls{display:flex;flex-wrap:wrap;gap:.5rem 1rem;margin:.5rem 0}
.controls label{display:flex;flex-direction:column;font-size:.85rem;max-width:100%}
.controls input,.controls select{font:inherit;max-width:100%;min-width:0}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(9rem,1fr));gap:.5rem}
.card{border:1px solid #ccc;border-radius:6px;padding:.5rem .75rem}
.card strong{display:block;font-size:1.6rem}
@media (max-width:40rem){.bar-cell{display:none}}
@page{size:A4;margin:12mm}
@media print{
body{max-width:none;padding:0;font-size:10pt}
.controls,th button::after{display:none}
.table-wrap{overflow:visible}
table{font-size:8pt}
/* Anything may break so that no table is wider than the page, but the first column (the rule,
   the exemption, the run) keeps a readable width instead of one letter a line. */
td,th{overflow-wrap:anywhere}
td:first-child,th:first-child{min-width:8rem}
td.id{font-size:.95em}
thead{display:table-header-group}
tr,.card,.headline,svg,h2,h3{break-inside:avoid}
h2,h3{break-after:avoid}
a{color:inherit}
}
"""


def _sha256(text: str) -> str:
    return base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii")


def content_security_policy() -> str:
    """Nothing from anywhere; the inline style and script only by their hashes."""
    return (
        f"default-src 'none'; style-src 'sha256-{_sha256(STYLE)}'; "
        f"script-src 'sha256-{_sha256(SCRIPT)}'; img-src data:"
    )


def page(document: Mapping[str, Any], table_rows: Sequence[Sequence[str]]) -> str:
    """The whole page for a summary document and the first non-compliant rows (tally rows in
    CSV_COLUMNS order, at most TABLE_ROWS)."""
    _check_rows(table_rows)
    run = escape(document["runId"])
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en" class="no-js"><head><meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{content_security_policy()}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>Compliance report {run}</title>",
        f"<style>{STYLE}</style></head><body>",
        "<header><h1>Compliance report</h1>",
        f'<p class="muted">Scope: {escape(scope_text(document["scope"]))}. Generated '
        f"{escape(document['generatedAt'])}, run {run}.</p></header><main>",
        *_coverage(document),
        *_score(document),
        *_changes(document),
        *_trend(document["trend"]),
        *_frameworks(document["frameworks"]),
        *_accounts(document),
        *_rules(document["rules"]),
        *_noncompliant(document["totals"]["nonCompliant"], table_rows),
        f"</main><script>{SCRIPT}</script></body></html>",
    ]
    return "\n".join(parts) + "\n"


def _check_rows(rows: Sequence[Sequence[str]]) -> None:
    if len(rows) > TABLE_ROWS:
        raise ValueError(f"table_rows has {len(rows)} rows; allowed: at most {TABLE_ROWS}")
    for number, row in enumerate(rows):
        if len(row) != len(CSV_COLUMNS):
            raise ValueError(
                f"table_rows[{number}] has {len(row)} cells; allowed: {len(CSV_COLUMNS)} "
                f"({', '.join(CSV_COLUMNS)})"
            )


def _time(value: str | None) -> str:
    """An ISO time that may wrap between its date and its time on a narrow page."""
    return escape(value or "").replace("T", "T<wbr>", 1)


def _count(value: int) -> str:
    return f"{value:,}"


def _percent(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}%"


def _signed(value: float | None, unit: str = "", digits: int = 2) -> str:
    if value is None:
        return "n/a"
    sign = "+" if value > 0 else "\u2212" if value < 0 else "\u00b1"
    return f"{sign}{abs(value):,.{digits}f}{unit}"


def _score_change(document: Mapping[str, Any]) -> str:
    totals = document["totals"]
    changes = document.get("changes") or {}
    points = document["trend"]
    previous_run = changes.get("previousRunId") or (
        points[-2]["runId"] if len(points) > 1 else None
    )
    if previous_run is None:
        return "first run"
    since = escape(previous_run[:10])
    change = totals.get("scoreChange")
    if change is None:
        return f"no score to compare with {since}"
    css = "up" if change > 0 else "down" if change < 0 else ""
    return f'<span class="{css}">{_signed(change, " points")}</span> since {since}'


def _score(document: Mapping[str, Any]) -> list[str]:
    totals = document["totals"]
    counts = (
        ("Non-compliant", totals["nonCompliant"]),
        ("Compliant", totals["compliant"]),
        ("Exempt", totals["exempt"]),
        ("Rules", totals["rules"]),
    )
    return [
        '<section id="score" class="headline" aria-label="Compliance score">',
        '<div><div class="muted">Compliance score</div>',
        f'<div class="big">{_percent(totals.get("score"))}</div>',
        f'<div id="score-change">{_score_change(document)}</div></div>',
        '<dl class="counts">',
        *(f"<div><dt>{name}</dt><dd>{_count(value)}</dd></div>" for name, value in counts),
        "</dl>",
        '<p class="muted">The score is the share of compliant results among the compliant and '
        "non-compliant results of every rule and resource; exempt results are in neither.</p>",
        "</section>",
    ]


def _table(
    headers: Sequence[tuple[str, str, str]],
    rows: Iterable[str],
    *,
    table_id: str = "",
    caption: str = "",
    sortable: bool = False,
) -> list[str]:
    """A table in a horizontal scroll box (only narrow screens ever scroll it). ``headers`` are
    (label, sort key, kind: text, number or bar); a sortable table's headers are buttons the
    script wires. Narrow screens drop the bar column, whose numbers are in the row anyway."""
    cells = []
    for label, key, kind in headers:
        css = {"number": ' class="num"', "bar": ' class="bar-cell"'}.get(kind, "")
        if sortable and key:
            cells.append(
                f'<th scope="col"{css} data-sort-key="{key}" data-sort-type="{kind}" '
                f'aria-sort="none"><button type="button">{label}</button></th>'
            )
        else:
            cells.append(f'<th scope="col"{css}>{label}</th>')
    attributes = (f' id="{table_id}"' if table_id else "") + (
        ' class="sortable"' if sortable else ""
    )
    return [
        # Focusable, so a keyboard can scroll a table wider than a phone.
        f'<div class="table-wrap" tabindex="0"><table{attributes}>',
        *([f"<caption>{caption}</caption>"] if caption else []),
        f"<thead><tr>{''.join(cells)}</tr></thead><tbody>",
        *rows,
        "</tbody></table></div>",
    ]


def _num(value: float | None, text: str | None = None) -> str:
    shown = text if text is not None else ("n/a" if value is None else _count(int(value)))
    data = "" if value is None else f' data-value="{value}"'
    return f'<td class="num"{data}>{shown}</td>'


def _changes(document: Mapping[str, Any]) -> list[str]:
    changes = document.get("changes")
    out = ['<section id="changes">', "<h2>What changed since the last run</h2>"]
    if not changes:
        out.append("<p>This summary has no record of changes between runs.</p>")
    else:
        previous = changes["previousRunId"]
        out.append(
            f"<p>Compared with run {escape(previous)}.</p>"
            if previous
            else "<p>This run is the baseline: there is no previous run to compare with, so "
            "every open violation counts as still open and its age starts today.</p>"
        )
        out.append('<div class="cards">')
        out += [
            f'<div class="card" id="changes-{key}">{label}<strong>{_count(changes[key])}</strong>'
            f'<span class="muted">{meaning}</span></div>'
            for key, label, meaning in _CHANGE_KINDS
        ]
        out.append("</div><h3>Open violations by age (days)</h3>")
        ages = changes["openByAge"]
        out += _table(
            [(f"{span} days", "", "number") for span in _AGES],
            ["<tr>" + "".join(_num(ages[span]) for span in _AGES) + "</tr>"],
        )
        for key, label, _ in _CHANGE_KINDS:
            out += _samples(label, changes[key], changes["samples"][key], key)
    out += _exemptions(document.get("exemptions") or [], document.get("expiringSoon") or [])
    out.append("</section>")
    return out


def _samples(label: str, count: int, samples: Sequence[Mapping[str, Any]], key: str) -> list[str]:
    if not samples:
        return []
    title = "Oldest still open" if key == "stillOpen" else label
    samples = samples[:CHANGE_ROWS]
    note = f" (the first {len(samples):,} of {count:,})" if count > len(samples) else ""
    last = ("Fixed at", "", "text") if key == "fixed" else ("Age (days)", "", "number")
    rows = [
        "<tr>"
        + f"<td>{escape(s['ruleName'])}</td>"
        + "".join(f'<td class="nw">{escape(str(s[field]))}</td>' for field in ("account", "region"))
        + f'<td>{escape(s["resourceType"])}</td><td class="id">{escape(s["resourceId"])}</td>'
        + f"<td>{_time(s['firstSeen'])}</td>"
        + (f"<td>{_time(s['fixedAt'])}</td>" if key == "fixed" else _num(s["ageDays"]))
        + "</tr>"
        for s in samples
    ]
    headers = [
        (h, "", "text")
        for h in ("Rule", "Account", "Region", "Resource type", "Resource id", "Open since")
    ]
    return [
        f"<h3>{title}{note}</h3>",
        *_table([*headers, last], rows),
    ]


def _exemptions(
    listed: Sequence[Mapping[str, Any]], soon: Sequence[Mapping[str, Any]]
) -> list[str]:
    """Every exemption; those expiring within 14 days highlighted (and named so in text)."""
    if not listed:
        return []
    expiring = {e["id"] for e in soon}
    headers = ("Exemption", "Status", "Expires", "Owner", "Rules", "Resources", "Matched", "Reason")
    rows = []
    for e in listed:
        status = escape(e["status"]) + (" (expires soon)" if e["id"] in expiring else "")
        cells = (
            f"<td>{escape(e['id'])}</td>",
            f"<td>{status}</td>",
            f"<td>{escape(e['expires'])}</td>",
            f'<td class="text">{escape(e["owner"])}</td>',
            f'<td class="text">{escape(", ".join(e["rules"]))}</td>',
            f'<td class="id">{escape(", ".join(e["resources"]))}</td>',
            _num(e["matched"]),
            f'<td class="text">{escape(e["reason"])}</td>',
        )
        row_class = ' class="soon"' if e["id"] in expiring else ""
        rows.append(f"<tr{row_class}>{''.join(cells)}</tr>")
    return [
        '<div id="exemptions"><h3>Exemptions</h3>',
        f'<p class="muted">{len(soon)} expiring within 14 days (highlighted). Exempt '
        "resources are counted apart from the non-compliant ones.</p>",
        *_table([(h, "", "text") for h in headers], rows),
        "</div>",
    ]


def _trend(points: Sequence[Mapping[str, Any]]) -> list[str]:
    with_exempt = any(p.get("exempt") for p in points)
    headers = [("Run", "run", "text"), ("Score", "score", "number")]
    headers += [("Compliant", "compliant", "number"), ("Non-compliant", "nonCompliant", "number")]
    headers += [("Exempt", "exempt", "number")] if with_exempt else []
    rows = [
        f"<tr><td>{escape(p['runId'])}</td>"
        + _num(p.get("score"), _percent(p.get("score")))
        + _num(p["compliant"])
        + _num(p["nonCompliant"])
        + (_num(p.get("exempt") or 0) if with_exempt else "")
        + "</tr>"
        for p in reversed(points)
    ]
    runs = f"{len(points)} run{'s' if len(points) != 1 else ''}"
    return [
        '<section id="trend">',
        f"<h2>Trend over the last {runs}</h2>",
        charts.trend_chart(points),
        charts.score_chart(points),
        '<div id="trend-data"><h3>The runs (newest first)</h3>',
        *_table(headers, rows, sortable=True),
        "</div></section>",
    ]


def _frameworks(frameworks: Sequence[Mapping[str, Any]]) -> list[str]:
    """Per framework its score, its change and its rules, grouped by control when it has them."""
    out = ['<section id="frameworks">', "<h2>Frameworks</h2>"]
    if not frameworks:
        out.append("<p>No framework is enabled in this stack.</p>")
    for framework in frameworks:
        previous = framework.get("previousScore")
        change = None if previous is None or framework["score"] is None else framework["score"]
        change = None if change is None else round(change - previous, 2)
        label = (
            f"{framework['framework']}: {framework['compliant']:,} compliant, "
            f"{framework['nonCompliant']:,} non-compliant rule-resource results"
        )
        out += [
            f'<h3 id="framework-{escape(framework["framework"])}">{escape(framework["title"])} '
            f"({escape(framework['framework'])}): {escape(score_text(framework))}</h3>",
            f'<p class="muted">Change since the last run: {_signed(change, " points")}. '
            f"{len(framework['nonCompliantRules'])} of {framework['rules']} rules "
            f"non-compliant, {framework['nonCompliant']:,} non-compliant resources, "
            f"{len(framework['manualRules'])} manual (a person records their result), "
            f"{framework['rules'] - framework['rulesDeployed']} not deployed.</p>",
            charts.bar(framework["compliant"], framework["nonCompliant"], label),
            *_framework_rules(framework),
        ]
    out.append("</section>")
    return out


def _framework_rules(framework: Mapping[str, Any]) -> list[str]:
    headers = [
        ("Rule", "", "text"),
        ("Identifier", "", "text"),
        ("Status", "", "text"),
        ("Compliant", "", "number"),
        ("Non-compliant", "", "number"),
    ]

    def rows(results: Iterable[Mapping[str, Any]]) -> list[str]:
        return [
            f"<tr><td>{escape(r['ruleName'])}</td><td>{escape(r['ruleIdentifier'])}</td>"
            f"<td>{escape(r['status'])}</td>{_num(r['compliant'])}{_num(r['nonCompliant'])}</tr>"
            for r in results
        ]

    if not framework["controls"]:
        return _table(headers, rows(framework["ruleResults"]))
    by_name = {r["ruleName"]: r for r in framework["ruleResults"]}
    body = []
    for control in framework["controls"]:
        # A row naming the control heads its rules: one table, not a table per control.
        body.append(
            f'<tr class="control"><th scope="rowgroup" colspan="5">'
            f"{escape(control['control'])} {escape(control['title'])}: "
            f"{escape(control['status'])}</th></tr>"
        )
        body += rows(by_name[name] for name in control["rules"] if name in by_name)
    return _table(headers, body)


# An organization of thousands of accounts lists its worst account-regions here; every one is
# in the summary's "accounts" and in the rule_results table.
ACCOUNT_ROWS = 500


def _coverage(document: Mapping[str, Any]) -> list[str]:
    """A partial report says so first, with each missing account and region and why."""
    coverage = document.get("coverage")
    if not coverage or coverage["complete"]:
        return []
    missing = coverage["missing"]
    rows = [
        f"<tr><td>{escape(m['account'])}</td><td>{escape(m['region'])}</td>"
        f"<td>{escape(m['reason'])}</td></tr>"
        for m in missing[:ACCOUNT_ROWS]
    ]
    more = len(missing) - len(rows)
    return [
        '<section id="coverage" class="warning">',
        f"<h2>Partial report: {len(missing):,} of {coverage['accountRegions']:,} account-regions "
        "missing or not current</h2>",
        *_table([("Account", "", "text"), ("Region", "", "text"), ("Reason", "", "text")], rows),
        *([f"<p>{more:,} more in summary.json (coverage.missing).</p>"] if more > 0 else []),
        "</section>",
    ]


def _accounts(document: Mapping[str, Any]) -> list[str]:
    accounts = document.get("accounts") or []
    if not (document["scope"].get("aggregator") or len(accounts) > 1):
        return []
    note = []
    total = len(accounts) + document.get("accountsOmitted", 0)
    if total > ACCOUNT_ROWS:
        note = [
            f"<p>The {min(ACCOUNT_ROWS, len(accounts)):,} with the most non-compliant resources "
            f"of {total:,}; every one is in the rule_results table.</p>"
        ]
        accounts = sorted(accounts, key=lambda a: (-a["nonCompliant"], a["account"], a["region"]))
        accounts = accounts[:ACCOUNT_ROWS]
    headers = [
        ("Account", "account", "text"),
        ("Region", "region", "text"),
        ("Score", "score", "number"),
        ("Compliant", "compliant", "number"),
        ("Non-compliant", "nonCompliant", "number"),
        ("Exempt", "exempt", "number"),
        ("Share", "", "bar"),
    ]
    rows = [
        f"<tr><td>{escape(a['account'])}</td><td>{escape(a['region'])}</td>"
        + _num(a["score"], _percent(a["score"]))
        + _num(a["compliant"])
        + _num(a["nonCompliant"])
        + _num(a["exempt"])
        + '<td class="bar-cell">'
        + charts.bar(
            a["compliant"],
            a["nonCompliant"],
            f"{a['account']} {a['region']}: {a['compliant']:,} compliant, "
            f"{a['nonCompliant']:,} non-compliant",
        )
        + "</td></tr>"
        for a in accounts
    ]
    return [
        '<section id="accounts">',
        "<h2>Accounts and regions</h2>",
        *note,
        *(_table(headers, rows, sortable=True) if rows else ["<p>No results in any account.</p>"]),
        "</section>",
    ]


def _rule_change(rule: Mapping[str, Any]) -> str:
    previous = rule.get("previousNonCompliant")
    if previous is None:
        return '<td class="num">n/a</td>'
    change = rule["nonCompliant"] - previous
    return f'<td class="num" data-value="{change}">{_signed(change, digits=0)}</td>'


def _runbook(url: str) -> str:
    # Runbook links are the only links out of the page, so only web or relative addresses.
    scheme = url.split(":", 1)[0].lower() if ":" in url.split("/", 1)[0] else ""
    if scheme not in ("", "http", "https"):
        return escape(url)
    return f'<a href="{escape(url)}">runbook</a>'


def _rules(rules: Sequence[Mapping[str, Any]]) -> list[str]:
    """One compact row per rule, the rules with the most non-compliant resources first."""
    headers = [
        ("Rule", "rule", "text"),
        ("Score", "score", "number"),
        ("Non-compliant", "nonCompliant", "number"),
        ("Change", "change", "number"),
        ("Compliant", "compliant", "number"),
        ("Exempt", "exempt", "number"),
        ("Share", "", "bar"),
        ("Runbook", "", "text"),
    ]
    ordered = sorted(rules, key=lambda r: (-r["nonCompliant"], r["ruleName"]))
    rows = []
    for rule in ordered:
        missing = "" if rule["found"] else " <em>(rule not found: not deployed here?)</em>"
        label = (
            f"{rule['ruleName']}: {rule['compliant']:,} compliant, "
            f"{rule['nonCompliant']:,} non-compliant"
        )
        rows.append(
            f'<tr><td data-value="{escape(rule["ruleName"])}">'
            f"<strong>{escape(rule['ruleName'])}</strong>{missing}<br>"
            f'<span class="muted">{escape(rule["ruleIdentifier"])}: '
            f"{escape(rule['description'])}</span></td>"
            + _num(rule.get("score"), _percent(rule.get("score")))
            + _num(rule["nonCompliant"])
            + _rule_change(rule)
            + _num(rule["compliant"])
            + _num(rule["exempt"])
            + f'<td class="bar-cell">{charts.bar(rule["compliant"], rule["nonCompliant"], label)}'
            + f"</td><td>{_runbook(rule['runbook'])}</td></tr>"
        )
    return [
        '<section id="rules">',
        f"<h2>Rules ({len(rules)})</h2>",
        '<p class="muted">Change: non-compliant resources now minus in the previous run.</p>',
        *(_table(headers, rows, sortable=True) if rows else ["<p>No rule was found.</p>"]),
        "</section>",
    ]


def _noncompliant(total: int, table_rows: Sequence[Sequence[str]]) -> list[str]:
    shown = len(table_rows)
    index = [CSV_COLUMNS.index(column) for column, _, _ in _TABLE_COLUMNS]
    # The page holds at most TABLE_ROWS rows so it stays fast at any size; the CSV has them all.
    bounded = f"Showing the first {_count(shown)} of {_count(total)}; " if shown < total else ""
    out = [
        '<section id="noncompliant">',
        "<h2>Non-compliant resources</h2>",
        f'<p id="table-note">{bounded}<a id="details-link" href="details.csv">details.csv</a> '
        f"has all {_count(total)}, and the exempt resources too.</p>",
    ]
    if not table_rows:
        out += ["<p>None.</p>", "</section>"]
        return out
    selects = []
    for position, (column, header, filtered) in enumerate(_TABLE_COLUMNS):
        if not filtered:
            continue
        values = sorted({row[CSV_COLUMNS.index(column)] for row in table_rows})
        options = "".join(f'<option value="{escape(v)}">{escape(v)}</option>' for v in values)
        selects.append(
            f'<label>{header}<select class="filter-column" data-column="{position}">'
            f'<option value="">all</option>{options}</select></label>'
        )
    out += [
        '<div class="controls">',
        '<label>Filter<input id="filter" type="search" placeholder="any text"></label>',
        *selects,
        "</div>",
        f'<p id="row-count" aria-live="polite">{_count(shown)} of {_count(shown)} rows shown</p>',
    ]
    rows = []
    for row in table_rows:
        cells = [
            _time(row[i]) if column == "resultRecordedTime" else escape(row[i])
            for i, (column, _, _) in zip(index, _TABLE_COLUMNS, strict=True)
        ]
        rows.append(
            "<tr>"
            + "".join(
                f"<td{_CELL_CLASS.get(column, '')}>{c}</td>"
                for c, (column, _, _) in zip(cells, _TABLE_COLUMNS, strict=True)
            )
            + "</tr>"
        )
    headers = [(header, column, "text") for column, header, _ in _TABLE_COLUMNS]
    out += _table(headers, rows, table_id="noncompliant-table", sortable=True)
    out.append("</section>")
    return out
