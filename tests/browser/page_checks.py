"""What the browser tests look for in a loaded page. Each check returns the problems it found
(empty: none), naming the element and its measurements, so a failure says what to fix.
tests/browser/test_page_checks.py proves each can fail on a deliberately broken page."""

from __future__ import annotations

import re
from typing import Any

# A4 (210 mm) less the report's 12 mm print margins, in CSS pixels (96 per inch).
A4_PRINTABLE_PX = round((210 - 2 * 12) / 25.4 * 96)
A4_POINTS = (595, 842)
TOLERANCE = 1.0  # px: sub-pixel rounding of boxes is not overflow

_DOCUMENT_OVERFLOW = """
const d = document.documentElement;
return [d.scrollWidth, d.clientWidth];
"""

# Cells, sections and block containers whose content is wider than their box, unless the box
# is a scroll container (overflow-x auto or scroll: a deliberate horizontal scroll) or hidden.
_BOX_OVERFLOW = """
const tolerance = arguments[0];
const found = [];
for (const el of document.querySelectorAll('td, th, section, div, p, h1, h2, h3, li, figure')) {
  if (!el.getClientRects().length) continue;
  const style = getComputedStyle(el);
  if (['auto', 'scroll', 'hidden', 'clip'].includes(style.overflowX)) continue;
  if (el.scrollWidth > el.clientWidth + tolerance) {
    const name = el.tagName.toLowerCase() + (el.id ? '#' + el.id : '')
      + (el.className && typeof el.className === 'string' ? '.' + el.className : '');
    found.push(name + ' content ' + el.scrollWidth + 'px in a ' + el.clientWidth + 'px box: '
      + el.textContent.trim().slice(0, 60));
  }
}
return found;
"""

_SVG_TEXT = """
const tolerance = arguments[0];
const found = [];
const svgs = [...document.querySelectorAll('svg')];
svgs.forEach((svg, n) => {
  if (!svg.getClientRects().length) return;
  const box = svg.getBoundingClientRect();
  const label = 'svg ' + n + (svg.id ? '#' + svg.id : '') + ' (' + (svg.getAttribute('class')
    || '') + ')';
  const texts = [...svg.querySelectorAll('text')].filter(t => t.textContent.trim());
  const rects = texts.map(t => t.getBoundingClientRect());
  texts.forEach((t, i) => {
    const r = rects[i];
    if (r.left < box.left - tolerance || r.right > box.right + tolerance
        || r.top < box.top - tolerance || r.bottom > box.bottom + tolerance) {
      found.push(label + ': label "' + t.textContent.trim() + '" at ' + [r.left, r.top,
        r.right, r.bottom].map(Math.round) + ' outside ' + [box.left, box.top, box.right,
        box.bottom].map(Math.round));
    }
    for (let j = 0; j < i; j++) {
      const o = rects[j];
      const w = Math.min(r.right, o.right) - Math.max(r.left, o.left);
      const h = Math.min(r.bottom, o.bottom) - Math.max(r.top, o.top);
      if (w > tolerance && h > tolerance) {
        found.push(label + ': labels "' + texts[j].textContent.trim() + '" and "'
          + t.textContent.trim() + '" overlap');
      }
    }
  });
});
return found;
"""

_CHARTS = """
return [...document.querySelectorAll('#trend svg.chart')].map((svg, n) => {
  const legend = svg.querySelector('.legend') || svg.parentElement.querySelector('.legend');
  return {
    n: n,
    title: (svg.querySelector('title') || {textContent: ''}).textContent.trim(),
    legend: legend ? legend.textContent.trim() : null,
    shown: legend ? legend.getClientRects().length > 0 : false,
  };
});
"""

_TABLE = """
const table = document.querySelector(arguments[0]);
if (!table) return null;
const rows = [...table.tBodies].flatMap(b => [...b.rows]);
return {
  headers: [...table.tHead.rows[0].cells].map(th => ({
    key: th.dataset.sortKey, button: !!th.querySelector('button'), text: th.textContent.trim()})),
  rows: rows.map(r => ({visible: r.getClientRects().length > 0,
                        cells: [...r.cells].map(c => c.textContent.trim())})),
};
"""


def console_errors(driver: Any) -> list[str]:
    """SEVERE entries of the console log since the last call (the log is drained)."""
    return [
        f"{entry.get('source', '')}: {entry['message']}"
        for entry in driver.get_log("browser")
        if entry.get("level") == "SEVERE"
    ]


def csp_violations(driver: Any) -> list[str]:
    return list(driver.execute_script("return window.__cspViolations || []"))


def document_overflow(driver: Any) -> list[str]:
    scroll, client = driver.execute_script(_DOCUMENT_OVERFLOW)
    if scroll > client + TOLERANCE:
        return [f"document is {scroll}px wide in a {client}px viewport"]
    return []


def box_overflow(driver: Any) -> list[str]:
    return list(driver.execute_script(_BOX_OVERFLOW, TOLERANCE))


def svg_labels(driver: Any) -> list[str]:
    """Every svg text inside its svg and clear of the others."""
    return list(driver.execute_script(_SVG_TEXT, TOLERANCE))


def chart_legends(driver: Any) -> list[str]:
    charts = driver.execute_script(_CHARTS)
    if not charts:
        return ["no svg.chart in #trend"]
    problems = []
    for chart in charts:
        if not chart["title"]:
            problems.append(f"chart {chart['n']}: no <title>")
        if not chart["legend"] or not chart["shown"]:
            problems.append(f"chart {chart['n']}: no visible .legend")
    return problems


def read_table(driver: Any, selector: str = "table#noncompliant-table") -> dict[str, Any]:
    table = driver.execute_script(_TABLE, selector)
    if table is None:
        raise AssertionError(f"no {selector} in the page")
    return table


def _sort_order(values: list[str]) -> str | None:
    """'ascending', 'descending' or None, as Python sorts strings (numbers by value)."""
    numeric = all(re.fullmatch(r"-?\d+(\.\d+)?", v) for v in values) and values
    key = (lambda v: float(v)) if numeric else None
    if values == sorted(values, key=key):
        return "ascending"
    if values == sorted(values, key=key, reverse=True):
        return "descending"
    return None


def sorting(driver: Any, selector: str = "table#noncompliant-table") -> list[str]:
    """Each header's button sorts its column, and a second click reverses it."""
    table = read_table(driver, selector)
    problems = []
    headers = table["headers"]
    if not headers or not all(h["key"] and h["button"] for h in headers):
        problems.append(f"headers without data-sort-key or button: {headers}")
    buttons = driver.find_elements("css selector", f"{selector} thead th button")
    for column, button in enumerate(buttons):
        name = headers[column]["text"] if column < len(headers) else column
        orders = []
        for _ in range(2):
            button.click()
            values = [row["cells"][column] for row in read_table(driver, selector)["rows"]]
            orders.append(_sort_order(values))
        distinct = len(set(values)) > 1
        if orders[0] is None or orders[1] is None:
            problems.append(f"column {name}: not sorted after a click ({orders})")
        elif distinct and orders[0] == orders[1]:
            problems.append(f"column {name}: a second click did not reverse the order")
    return problems


_ROW_COUNT = re.compile(r"(\d[\d,]*) of (\d[\d,]*) rows? shown")


def row_count(driver: Any) -> tuple[int, int] | None:
    text = driver.find_element("css selector", "#row-count").text
    match = _ROW_COUNT.search(text)
    if match is None:
        return None
    return int(match.group(1).replace(",", "")), int(match.group(2).replace(",", ""))


def _visible(driver: Any, selector: str) -> list[list[str]]:
    return [row["cells"] for row in read_table(driver, selector)["rows"] if row["visible"]]


def _count_problems(driver: Any, what: str, expected: list[list[str]], total: int) -> list[str]:
    problems = []
    shown = _visible(driver, "table#noncompliant-table")
    if sorted(shown) != sorted(expected):
        problems.append(f"{what}: {len(shown)} rows visible, {len(expected)} expected")
    counted = row_count(driver)
    if counted != (len(expected), total):
        problems.append(f"{what}: #row-count says {counted}, expected ({len(expected)}, {total})")
    return problems


def filtering(driver: Any, text: str) -> list[str]:
    """Free text over all cells (case-insensitive), then each column select's first value."""
    from selenium.webdriver.support.ui import Select

    selector = "table#noncompliant-table"
    rows = [row["cells"] for row in read_table(driver, selector)["rows"]]
    total = len(rows)
    box = driver.find_element("css selector", "input#filter")
    box.clear()
    box.send_keys(text)
    wanted = text.casefold()
    expected = [r for r in rows if any(wanted in cell.casefold() for cell in r)]
    problems = _count_problems(driver, f"filter {text!r}", expected, total)
    box.clear()
    box.send_keys(" ")
    box.clear()  # clear() fires no input event; typing then clearing does in every version
    driver.execute_script("arguments[0].dispatchEvent(new Event('input', {bubbles: true}))", box)
    problems += _count_problems(driver, "filter cleared", rows, total)
    selects = driver.find_elements("css selector", "select.filter-column")
    if not selects:
        problems.append("no select.filter-column")
    for element in selects:
        choice = Select(element)
        values = [o.get_attribute("value") for o in choice.options if o.get_attribute("value")]
        if not values:
            problems.append(f"select {element.get_attribute('name')}: no values")
            continue
        columns = [
            c for c in range(len(rows[0]) if rows else 0) if set(values) <= {r[c] for r in rows}
        ]
        if not columns:
            problems.append(f"select options {values[:3]}...: no column holds them all")
            continue
        value = values[len(values) // 2]
        options = [o.get_attribute("value") for o in choice.options]
        choice.select_by_index(options.index(value))  # an <option> without value= has its text
        expected = [r for r in rows if r[columns[0]] == value]
        problems += _count_problems(driver, f"select {value!r}", expected, total)
        choice.select_by_index(0)
    return problems


def print_layout(driver: Any) -> list[str]:
    """Under print media at the A4 printable width: nothing wider, the filters hidden."""
    from compliance_template.local import browser

    browser.emulate_media(driver, "print")
    browser.set_viewport(driver, A4_PRINTABLE_PX)
    try:
        problems = document_overflow(driver) + box_overflow(driver)
        shown = driver.execute_script(
            "return [...document.querySelectorAll('#filter, select.filter-column')]"
            ".filter(e => e.getClientRects().length).map(e => e.id || e.className)"
        )
        problems += [f"filter control {name} shown in print" for name in shown]
        return problems
    finally:
        browser.emulate_media(driver, "")


def pdf_pages(pdf: bytes, most: int) -> list[str]:
    """Every page A4 in points, between 1 and ``most`` pages."""
    from compliance_template.local import browser

    sizes = browser.pdf_page_sizes(pdf)
    problems = []
    if not 1 <= len(sizes) <= most:
        problems.append(f"{len(sizes)} pages, expected 1 to {most}")
    wrong = sorted({(round(w), round(h)) for w, h in sizes} - {A4_POINTS})
    if wrong:
        problems.append(f"pages of {wrong} pt, not A4 {A4_POINTS}")
    return problems
