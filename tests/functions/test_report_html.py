"""report.html from contract documents: its sections, hooks, escaping, CSP and row bound."""

from __future__ import annotations

import base64
import hashlib
import re
import zipfile
from html.parser import HTMLParser

import html_report
import pytest
import report_documents as docs
from conftest import FUNCTIONS

from compliance_template.packaging import build_zip

URL_ATTRIBUTES = {"src", "href", "srcset", "data", "xlink:href", "action", "formaction", "poster"}


class Page(HTMLParser):
    """What the tests read from the page: elements with their attributes and the ids of the
    sections in order, the inline script and style, every URL-bearing attribute, and text by
    element id."""

    def __init__(self, text):
        super().__init__(convert_charrefs=True)
        self.elements, self.sections, self.urls = [], [], []
        self.script = self.style = ""
        self._raw, self._open_ids, self.text = None, [], {}
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        self.elements.append((tag, attributes))
        if tag in ("section", "header"):
            self.sections.append(attributes.get("id", tag))
        if tag in ("script", "style"):
            self._raw = tag
        self.urls += [(tag, name, value) for name, value in attrs if name in URL_ATTRIBUTES]
        if "id" in attributes:
            self.text[attributes["id"]] = ""
            self._open_ids.append((tag, attributes["id"]))
        elif self._open_ids and tag == self._open_ids[-1][0]:
            self._open_ids.append((tag, None))

    def handle_endtag(self, tag):
        self._raw = None
        if self._open_ids and self._open_ids[-1][0] == tag:
            self._open_ids.pop()

    def handle_data(self, data):
        if self._raw == "script":
            self.script += data
        elif self._raw == "style":
            self.style += data
        for _, ident in self._open_ids:
            if ident:
                self.text[ident] += data

    def all(self, tag, **wanted):
        return [
            a
            for t, a in self.elements
            if t == tag and all(a.get(k.replace("_", "-")) == v for k, v in wanted.items())
        ]


def render(document=None, rows=()):
    return html_report.page(document if document is not None else docs.document(), list(rows))


def sha256(text):
    return base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()


def big_report():
    rules, framework = docs.framework_rules()
    document = docs.document(rules, frameworks=[framework], trend=docs.trend_points())
    document["totals"]["nonCompliant"] = 100_000
    return document, docs.rows(1000)


def test_the_sections_come_in_reading_order():
    page = Page(render(docs.aggregator(), docs.rows(10)))
    assert page.sections == [
        "header",
        "score",
        "changes",
        "trend",
        "frameworks",
        "accounts",
        "rules",
        "noncompliant",
    ]


def test_accounts_only_for_an_aggregator_or_more_than_one_account_or_region():
    assert "accounts" not in Page(render()).sections
    assert "accounts" in Page(render(docs.document(scope={"aggregator": "a"}))).sections
    two = docs.aggregator(accounts=1, regions=2)
    two["scope"] = {"account": "123456789012", "region": "eu-west-1"}
    assert "accounts" in Page(render(two)).sections


def test_the_accounts_table_has_a_row_and_score_per_account_and_region():
    page = Page(render(docs.aggregator()))
    table = page.text["accounts"]
    assert "Accounts and regions" in table
    html = render(docs.aggregator())
    section = html[html.index('<section id="accounts">') : html.index('<section id="rules">')]
    assert section.count("<tr><td>1000000000") == 200
    assert '<td class="num" data-value="100.0">100.00%</td>' in section


def test_the_headline_shows_the_score_its_change_and_the_counts():
    document = docs.document()
    document["totals"].update(score=93.41, previousScore=92.16, scoreChange=1.25)
    page = Page(render(document))
    assert "93.41%" in page.text["score"]
    assert page.text["score-change"] == "+1.25 points since 2026-12-01"
    for label in ("Non-compliant", "Compliant", "Exempt", "Rules"):
        assert label in page.text["score"]
    document["totals"]["scoreChange"] = -0.5
    assert Page(render(document)).text["score-change"] == "\u22120.50 points since 2026-12-01"


def test_the_first_run_says_so():
    document = docs.document(
        what_changed=docs.changes(baseline=True), previous_score=None, trend=[docs.point(1, 1, 1)]
    )
    page = Page(render(document))
    assert page.text["score-change"] == "first run"
    assert "This run is the baseline" in page.text["changes"]


def test_what_changed_counts_ages_and_samples():
    document = docs.document(what_changed=docs.changes(new=250, still_open=3))
    html = render(document)
    page = Page(html)
    assert page.text["changes-new"].startswith("New250")
    assert page.text["changes-stillOpen"].startswith("Still open3")
    changes = page.text["changes"]
    # summary.json keeps 100 samples; the page shows the first CHANGE_ROWS of them.
    assert f"New (the first {html_report.CHANGE_ROWS} of 250)" in changes
    shown = document["changes"]["samples"]["new"]
    assert len(shown) > html_report.CHANGE_ROWS
    assert shown[html_report.CHANGE_ROWS - 1]["resourceId"] in html
    assert shown[html_report.CHANGE_ROWS]["resourceId"] not in html
    assert "Oldest still open" in changes and "Regressed" in changes and "Fixed at" in changes
    assert "Open violations by age" in changes and "90+ days" in changes


def test_exemptions_are_listed_with_those_expiring_soon_highlighted():
    html = render(docs.with_exemptions())
    page = Page(html)
    assert "exemptions" in page.text and "1 expiring within 14 days" in page.text["exemptions"]
    assert html.count('<tr class="soon">') == 1
    assert '<tr class="soon"><td>build-volumes</td><td>active (expires soon)</td>' in html
    assert 'id="exemptions"' not in render()


def test_hostile_text_is_escaped_everywhere():
    document = docs.with_exemptions()
    document["rules"][0]["description"] = docs.HOSTILE
    document["scope"] = {"account": docs.HOSTILE, "region": docs.HOSTILE}
    document["changes"]["samples"]["new"][0]["resourceId"] = docs.HOSTILE
    page = Page(render(document, docs.rows(20)))
    assert [tag for tag, _ in page.elements].count("script") == 1
    assert page.all("img") == []
    assert not any(name.startswith("on") for _, a in page.elements for name in a)
    assert not any("style" in a for _, a in page.elements)
    assert docs.HOSTILE in page.text["noncompliant"]  # shown as text, not markup


def test_the_csp_admits_exactly_the_inline_script_and_style_by_hash():
    html = render(docs.aggregator(), docs.rows(5))
    page = Page(html)
    [meta] = page.all("meta", http_equiv="Content-Security-Policy")
    policy = dict(part.strip().split(" ", 1) for part in meta["content"].split(";"))
    assert policy == {
        "default-src": "'none'",
        "style-src": f"'sha256-{sha256(page.style)}'",
        "script-src": f"'sha256-{sha256(page.script)}'",
        "img-src": "data:",
    }
    assert page.script == html_report.SCRIPT and "</script" not in html_report.SCRIPT.lower()


def test_nothing_is_fetched_and_only_runbooks_and_the_csv_are_linked():
    document, rows = big_report()
    document["rules"][0]["runbook"] = "https://runbooks.example.com/R.md"
    document["rules"][1]["runbook"] = "javascript:alert(1)"
    html = render(document, rows)
    page = Page(html)
    allowed = {r["runbook"] for r in document["rules"][:1]} | {"details.csv"}
    for tag, name, value in page.urls:
        assert tag == "a" and name == "href", (tag, name, value)
        assert value in allowed or re.fullmatch(r"docs/runbooks/\w+\.md", value), value
    assert "url(" not in page.style and "@import" not in page.style
    assert "javascript:alert(1)</td>" in html  # shown, never a link
    assert re.findall(r"https?://", html) == ["https://"]


def test_the_table_is_bounded_with_a_note_and_a_link_to_the_csv():
    document, rows = big_report()
    page = Page(render(document, rows))
    note = page.text["table-note"]
    assert note == (
        "Showing the first 1,000 of 100,000; details.csv has all 100,000, and the exempt "
        "resources too."
    )
    assert page.all("a", id="details-link", href="details.csv")
    assert page.text["row-count"] == "1,000 of 1,000 rows shown"
    html = render(document, rows)
    table = html[html.index('id="noncompliant-table"') :]
    assert table[: table.index("</tbody>")].count("<tr>") == 1001  # the header row and 1,000
    small = Page(render(docs.document(), docs.rows(5)))
    assert small.text["table-note"].startswith("details.csv has all 5")


def test_more_rows_than_the_bound_or_a_short_row_is_refused():
    with pytest.raises(ValueError, match=r"table_rows has 1001 rows; allowed: at most 1000"):
        render(docs.document(), docs.rows(1001))
    with pytest.raises(ValueError, match=r"table_rows\[0\] has 2 cells; allowed: 11 \(ruleName"):
        render(docs.document(), [("a", "b")])


def test_the_table_has_sort_buttons_and_filters_per_column():
    page = Page(render(docs.document(), docs.rows(40)))
    [table] = page.all("table", id="noncompliant-table")
    assert table["class"] == "sortable"
    keys = [a["data-sort-key"] for t, a in page.elements if t == "th" and "data-sort-key" in a]
    assert keys[-7:] == [
        "ruleName",
        "account",
        "region",
        "resourceType",
        "resourceId",
        "annotation",
        "resultRecordedTime",
    ]
    html = render(docs.document(), docs.rows(40))
    head = html[html.index('id="noncompliant-table"') :]
    head = head[: head.index("</thead>")]
    assert head.count("<button") == 7 and head.count("data-sort-key") == 7
    selects = page.all("select")
    assert [s["class"] for s in selects] == ["filter-column"] * 4
    assert [s["data-column"] for s in selects] == ["0", "1", "2", "3"]
    assert page.all("input", id="filter")
    regions = html[html.index('data-column="2"') :]
    regions = regions[: regions.index("</select>")]
    assert re.findall(r'<option value="([^"]*)"', regions) == [
        "",
        "ap-southeast-2",
        "eu-west-1",
        "sa-east-1",
        "us-east-1",
    ]


def test_without_the_script_the_controls_are_hidden_and_the_tables_still_read():
    page = Page(render(docs.document(), docs.rows(3)))
    [root] = page.all("html")
    assert root["class"] == "no-js"
    assert ".no-js .controls{display:none}" in page.style
    assert 'classList.remove("no-js")' in html_report.SCRIPT


def test_print_styles_fit_a4_hide_the_controls_and_repeat_table_headers():
    style = html_report.STYLE
    assert "@page{size:A4;margin:12mm}" in style
    printed = style[style.index("@media print{") :]
    assert ".controls" in printed and "display:none" in printed
    assert "thead{display:table-header-group}" in printed
    assert "break-inside:avoid" in printed and "overflow-wrap:anywhere" in printed


def test_130_rules_read_as_one_compact_table_worst_first():
    document, _ = big_report()
    html = render(document)
    section = html[html.index('<section id="rules">') : html.index('<section id="noncompliant">')]
    assert section.count("<table") == 1
    names = re.findall(r'<tr><td data-value="([^"]+)"', section)
    assert len(names) == 130
    worst = sorted(document["rules"], key=lambda r: (-r["nonCompliant"], r["ruleName"]))
    assert names == [r["ruleName"] for r in worst]
    # The change column: non-compliant now minus in the previous run.
    for name, shown in (("004", "+1"), ("003", "\u00b10"), ("005", "+2")):
        rule = next(r for r in document["rules"] if r["ruleName"] == f"compliance-rule-{name}")
        change = rule["nonCompliant"] - rule["previousNonCompliant"]
        row = section[section.index(f'data-value="compliance-rule-{name}"') :]
        assert f'<td class="num" data-value="{change}">{shown}</td>' in row[: row.index("</tr>")]


def test_frameworks_show_score_change_and_rules_grouped_by_control():
    document, _ = big_report()
    html = render(document)
    section = html[html.index('<section id="frameworks">') : html.index('<section id="rules">')]
    assert "CIS AWS Foundations Benchmark 3.0 (cis-aws-3.0): 97.69%" in section
    assert "Change since the last run: +7.69 points." in section
    assert section.count('<tr class="control">') == 26
    assert '<th scope="rowgroup" colspan="5">1.1 Ensure group 1: non-compliant</th>' in section
    assert "No framework is enabled" in render()


def test_the_trend_has_both_charts_and_their_data_as_a_table():
    document, rows = big_report()
    page = Page(render(document, rows))
    charts_ = page.all("svg", **{"class": "chart"})
    assert len(charts_) == 2
    html = render(document, rows)
    trend = html[html.index('<section id="trend">') : html.index('<section id="frameworks">')]
    assert trend.count('<g class="legend">') == 2 and trend.count("<title>") == 2
    assert "76,188" in page.text["trend-data"] and "Trend over the last 30 runs" in trend


def test_a_summary_without_the_newer_fields_still_renders():
    document = docs.document()
    del document["changes"], document["accounts"]
    for field in ("score", "previousScore", "scoreChange"):
        del document["totals"][field]
    for rule in document["rules"]:
        del rule["score"], rule["previousNonCompliant"]
    for point in document["trend"]:
        del point["score"], point["exempt"]
    page = Page(render(document, docs.rows(2)))
    assert "n/a" in page.text["score"]
    assert "no record of changes" in page.text["changes"]


def test_the_page_is_deterministic():
    document, rows = big_report()
    assert render(document, rows) == render(document, rows)


def test_the_reporting_package_carries_the_script(tmp_path):
    path = tmp_path / "reporting.zip"
    path.write_bytes(build_zip(FUNCTIONS / "reporting"))
    with zipfile.ZipFile(path) as archive:
        assert archive.read("report_script.js").decode() == html_report.SCRIPT
