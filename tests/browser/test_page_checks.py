"""Each browser check fails on a page broken in the way it looks for, and passes on the same
page fixed: a check that could not fail would prove nothing about the report."""

from __future__ import annotations

import page_checks
import pytest

from compliance_template.local import browser

CSP = "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'"
# The smallest page with the contract's table hooks (#noncompliant-table, #filter,
# select.filter-column, #row-count), sorting and filtering as the report must.
TABLE = """
<input id="filter"><select class="filter-column" name="region"><option value="">all</option>
<option>eu-west-1</option><option>us-east-1</option></select><p id="row-count"></p>
<table id="noncompliant-table"><thead><tr>
<th data-sort-key="rule"><button>Rule</button></th>
<th data-sort-key="region"><button>Region</button></th></tr></thead><tbody>
<tr><td>b-rule</td><td>us-east-1</td></tr><tr><td>a-rule</td><td>eu-west-1</td></tr>
<tr><td>c-rule</td><td>eu-west-1</td></tr></tbody></table>
<script>
const table = document.getElementById('noncompliant-table');
const body = table.tBodies[0], rows = [...body.rows];
const text = document.getElementById('filter'), pick = document.querySelector('select');
function apply() {
  let shown = 0;
  for (const row of rows) {
    const ok = (BROKEN_FILTER || row.textContent.toLowerCase().includes(text.value.toLowerCase()))
      && (!pick.value || row.cells[1].textContent === pick.value);
    row.hidden = !ok; shown += ok;
  }
  document.getElementById('row-count').textContent = shown + ' of ' + rows.length + ' rows shown';
}
text.addEventListener('input', apply); pick.addEventListener('change', apply); apply();
table.querySelectorAll('th button').forEach((button, column) => {
  let up = false;
  button.addEventListener('click', () => {
    up = BROKEN_SORT ? true : !up;
    rows.sort((a, b) => (a.cells[column].textContent < b.cells[column].textContent ? -1 : 1)
      * (up ? 1 : -1));
    rows.forEach(r => body.appendChild(r));
  });
});
</script>
"""
CHART = """<section id="trend"><figure>
<svg class="chart" width="300" height="100" viewBox="0 0 300 100"><title>Trend</title>
<text x="LABEL_X" y="50">76188</text><text x="OTHER_X" y="50">0</text></svg>
LEGEND</figure></section>"""


def html(body: str, csp: str = CSP) -> str:
    return (
        f'<!DOCTYPE html><html><head><meta http-equiv="Content-Security-Policy" content="{csp}">'
        f"</head><body>{body}</body></html>"
    )


@pytest.fixture
def load(page, tmp_path):
    def open_page(text: str):
        path = tmp_path / "page.html"
        path.write_text(text, encoding="utf-8")
        browser.open_file(page, path)
        return page

    return open_page


def test_a_script_error_and_a_blocked_fetch_are_found(load):
    broken = load(html('<img src="https://example.com/x.png"><script>undefined_call()</script>'))
    errors = page_checks.console_errors(broken)
    assert any("undefined_call" in e for e in errors), errors
    assert page_checks.csp_violations(broken), "the blocked image is a CSP violation"
    fine = load(html("<p>fine</p>"))
    assert page_checks.console_errors(fine) == [] and page_checks.csp_violations(fine) == []


def test_a_page_wider_than_the_viewport_is_found(load):
    browser.set_viewport(load(html("<p>x</p>")), 375)
    assert page_checks.document_overflow(load(html('<div style="width:600px">x</div>')))
    assert page_checks.document_overflow(load(html('<div style="max-width:100%">x</div>'))) == []


def test_an_overflowing_cell_is_found_unless_it_scrolls(load):
    word = "x" * 200
    cell = f'<table style="table-layout:fixed;width:200px"><tr><td>{word}</td></tr></table>'
    [problem] = page_checks.box_overflow(load(html(cell)))
    assert problem.startswith("td content")
    scrolls = f'<div style="overflow-x:auto;width:200px"><p style="width:2000px">{word}</p></div>'
    assert page_checks.box_overflow(load(html(scrolls))) == []
    wraps = cell.replace("<td>", '<td style="overflow-wrap:anywhere">')
    assert page_checks.box_overflow(load(html(wraps))) == []


def chart(label_x: int, other_x: int = 10, legend: str = '<p class="legend">compliant</p>'):
    return html(
        CHART.replace("LABEL_X", str(label_x))
        .replace("OTHER_X", str(other_x))
        .replace("LEGEND", legend)
    )


def test_a_clipped_or_overlapping_svg_label_is_found(load):
    [clipped] = page_checks.svg_labels(load(chart(280, other_x=10)))
    assert "76188" in clipped and "outside" in clipped
    [overlap] = page_checks.svg_labels(load(chart(100, other_x=105)))
    assert "overlap" in overlap
    assert page_checks.svg_labels(load(chart(100))) == []


def test_a_chart_without_legend_or_title_is_found(load):
    assert page_checks.chart_legends(load(chart(100))) == []
    assert page_checks.chart_legends(load(chart(100, legend=""))) == ["chart 0: no visible .legend"]
    hidden = '<p class="legend" hidden>compliant</p>'
    assert page_checks.chart_legends(load(chart(100, legend=hidden)))
    untitled = chart(100).replace("<title>Trend</title>", "")
    assert page_checks.chart_legends(load(untitled)) == ["chart 0: no <title>"]
    assert page_checks.chart_legends(load(html("<p>no chart</p>"))) == ["no svg.chart in #trend"]


def table_page(sort: bool = True, filters: bool = True) -> str:
    script = TABLE.replace("BROKEN_SORT", "false" if sort else "true")
    return html(script.replace("BROKEN_FILTER", "false" if filters else "true"))


def test_sorting_is_checked_against_pythons_sort(load):
    assert page_checks.sorting(load(table_page())) == []
    problems = page_checks.sorting(load(table_page(sort=False)))
    assert problems and all("did not reverse" in p for p in problems), problems


def test_filtering_is_checked_against_the_rows_and_the_row_count(load):
    assert page_checks.filtering(load(table_page()), "A-RULE") == []
    problems = page_checks.filtering(load(table_page(filters=False)), "a-rule")
    assert problems and "filter 'a-rule'" in problems[0], problems


def test_print_layout_wider_than_a4_or_showing_the_filters_is_found(load):
    wide = html('<input id="filter"><div style="width:900px">wide</div>')
    problems = page_checks.print_layout(load(wide))
    assert any("document is" in p for p in problems), problems
    assert any("filter control filter" in p for p in problems), problems
    fitted = html(
        '<style>@media print{#filter{display:none}}</style><input id="filter">'
        '<div style="max-width:100%">fits</div>'
    )
    assert page_checks.print_layout(load(fitted)) == []


def test_the_pdf_pages_are_read_from_their_media_boxes(load):
    a4 = load(html("<style>@page{size:A4;margin:12mm}</style><p>a4</p>"))
    assert page_checks.pdf_pages(browser.print_pdf(a4), most=1) == []
    letter = load(html("<style>@page{size:letter}</style><p>letter</p>"))
    [problem] = page_checks.pdf_pages(browser.print_pdf(letter), most=1)
    assert "(612, 792)" in problem
    long = load(html("<style>@page{size:A4}</style>" + "<p>line</p>" * 400))
    assert "pages, expected 1 to 1" in page_checks.pdf_pages(browser.print_pdf(long), most=1)[0]


def test_a_full_page_screenshot_covers_more_than_the_viewport(load):
    tall = load(html('<div style="height:3000px">tall</div>'))
    png = browser.full_page_png(tall)
    assert png.startswith(b"\x89PNG")
    height = int.from_bytes(png[20:24], "big")  # the IHDR chunk's height
    assert height >= 3000
    top = browser.full_page_png(tall, height=500)
    assert int.from_bytes(top[20:24], "big") == 500


def test_without_the_browser_ci_fails_and_elsewhere_the_tests_skip(monkeypatch):
    from browser_required import need_browser

    def missing():
        raise browser.BrowserMissing("chromium not found: run sudo scripts/install-browser.sh")

    monkeypatch.setattr(browser, "find", missing)
    monkeypatch.delenv("REQUIRE_BROWSER", raising=False)
    with pytest.raises(pytest.skip.Exception, match=r"install-browser\.sh"):
        need_browser()
    monkeypatch.setenv("REQUIRE_BROWSER", "1")
    with pytest.raises(pytest.fail.Exception, match="REQUIRE_BROWSER=1 but chromium not found"):
        need_browser()
