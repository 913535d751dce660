"""report.html as a person sees it, in headless Chromium without network, for the reports of
tests/browser/report_fixtures.py (a small account, an aggregator with exemptions, 100,000
results): nothing fails or is blocked, nothing overflows, every chart label is readable, the
table sorts and filters, and the page prints on A4."""

from __future__ import annotations

import page_checks
import pytest
from report_fixtures import LARGE_PEAK

from compliance_template.local import browser

NAMES = ("small", "aggregator", "large")
WIDTHS = (1280, 800, 375)
# Pages a printed report may take: the large one holds the table's 1,000 rows.
MOST_PAGES = {"small": 10, "aggregator": 60, "large": 400}


@pytest.fixture(params=NAMES)
def report(request, reports):
    return reports[request.param]


@pytest.fixture
def loaded(page, report):
    browser.open_file(page, report.html)
    return page


def test_the_page_loads_without_errors_or_blocked_content(loaded):
    assert page_checks.console_errors(loaded) == []
    assert page_checks.csp_violations(loaded) == []


@pytest.mark.parametrize("width", WIDTHS)
def test_nothing_is_wider_than_the_window(page, report, width):
    browser.set_viewport(page, width)
    browser.open_file(page, report.html)
    assert page_checks.document_overflow(page) == []
    assert page_checks.box_overflow(page) == []


@pytest.mark.parametrize("width", WIDTHS)
def test_every_chart_label_is_inside_its_chart_and_clear_of_the_others(page, report, width):
    browser.set_viewport(page, width)
    browser.open_file(page, report.html)
    assert page_checks.svg_labels(page) == []


def test_every_chart_has_a_title_and_a_legend(loaded):
    assert page_checks.chart_legends(loaded) == []


def test_the_large_reports_trend_shows_its_peak(page, reports):
    """The old chart printed a peak of 76,188 as "6188": the axis now reaches past the peak with
    whole labels (their clipping is checked above), and the run table beside it gives the exact
    figure."""
    browser.open_file(page, reports["large"].html)
    labels = page.execute_script(
        "return [...document.querySelectorAll('#trend svg.chart text')].map(t => t.textContent)"
    )
    counts = [int(label.replace(",", "")) for label in labels if label.replace(",", "").isdigit()]
    assert max(counts) >= LARGE_PEAK
    assert f"{LARGE_PEAK:,}" in page.find_element("css selector", "#trend").text


def test_the_headline_hooks_are_there(loaded, report):
    for hook in ("#score", "#changes", "#trend", "#frameworks", "#rules", "#noncompliant"):
        assert loaded.find_elements("css selector", hook), hook
    if report.name == "aggregator":
        assert loaded.find_elements("css selector", "#accounts")
        assert loaded.find_elements("css selector", "#exemptions")
    link = loaded.find_element("css selector", "a#details-link")
    assert link.get_attribute("href").endswith("/details.csv")


def test_the_table_sorts_by_each_column(loaded, report):
    if report.summary["totals"]["nonCompliant"] == 0:
        pytest.skip("no rows to sort")
    assert page_checks.sorting(loaded) == []


def test_the_table_filters_by_text_and_by_column(loaded, report):
    table = page_checks.read_table(loaded)
    assert table["rows"], "the fixtures' reports all have non-compliant rows"
    middle = table["rows"][len(table["rows"]) // 2]["cells"]
    # Part of a resource id (the longest cell), in capitals: the filter ignores case.
    token = max(middle, key=len)[-9:].upper()
    assert page_checks.filtering(loaded, token) == []
    # The end of the account and the start of the region: text of no single cell, which a
    # filter over the row's whole text would wrongly match.
    assert page_checks.filtering(loaded, middle[1][-3:] + middle[2][:3]) == []
    assert len(table["rows"]) <= 1000


def test_the_print_layout_fits_a4(loaded):
    assert page_checks.print_layout(loaded) == []


def test_the_report_prints_on_a4_pages(loaded, report):
    pdf = browser.print_pdf(loaded)
    assert page_checks.pdf_pages(pdf, MOST_PAGES[report.name]) == []
