"""Figures for report.html at 100,000 results: file sizes, Python time, and in headless
Chromium the page's load time and the time of a sort and a filter on its bounded table.

Prints figures, asserts nothing. The reporting handler runs on the fakes of
benchmarks/bench_functions.py (no AWS, no network); the page opens by file:// URL in Chromium
without network (compliance_template.local.browser), skipped with a note when Chromium is not
installed. Run from the repository root with the project's virtual environment:

    .venv/bin/python benchmarks/bench_report.py [--quick]
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent


def _bench_functions() -> Any:
    spec = importlib.util.spec_from_file_location("bench_functions", ROOT / "bench_functions.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


bench = _bench_functions()
RESULTS = 100_000

_TIMED_SORT = """
const button = document.querySelector('#noncompliant-table thead th button');
if (!button) return null;
const start = performance.now();
button.click();
document.body.offsetHeight;  // the layout the sorted rows need, inside the measurement
return performance.now() - start;
"""
_TIMED_FILTER = """
const box = document.querySelector('input#filter');
if (!box) return null;
const start = performance.now();
box.value = arguments[0];
box.dispatchEvent(new Event('input', {bubbles: true}));
document.body.offsetHeight;
return performance.now() - start;
"""
_NAVIGATION = """
const [n] = performance.getEntriesByType('navigation');
return [n.domContentLoadedEventEnd, n.loadEventEnd];
"""


def render(total: int) -> dict[str, Any]:
    """The reporting handler over ``total`` results: its time, the HTML's own time, the files."""
    import aws
    from function_fakes import FakeConfig, StubStorage

    class Keeping(StubStorage):
        """Also keeps report.html's bytes (StubStorage keeps only small JSON documents)."""

        def _params(self, params: dict[str, Any], model: Any, **extra: Any) -> None:
            super()._params(params=params, model=model, **extra)
            if model.name == "PutObject" and str(params.get("Key", "")).endswith("report.html"):
                self.objects[params["Key"]] = bytes(params["Body"])

    reporting = bench.load("reporting")
    fake, storage = FakeConfig(), Keeping()
    per_rule = total // len(bench.RULES)
    for rule in bench.RULES:
        fake.add(rule, per_rule - per_rule // 4, per_rule // 4)
    bench.stub_clients(storage)
    fake.attach(aws.client("config"))
    html_seconds = _time_html(reporting)
    start = time.perf_counter()
    bench.quiet(
        lambda: reporting.handler({"time": "2024-05-01T06:00:00Z"}, bench.context("r", "reporting"))
    )
    seconds = time.perf_counter() - start
    html = next(body for key, body in storage.objects.items() if key.endswith("report.html"))
    sizes = {key.rsplit("/", 1)[-1]: size for key, size in storage.sizes.items()}
    return {"seconds": seconds, "html": html, "sizes": sizes, "html_seconds": html_seconds}


def _time_html(reporting: Any) -> list[float]:
    """Wraps the page function the handler calls, so its own time is measured too."""
    module = sys.modules.get("html_report") or sys.modules["render"]
    name = "page" if hasattr(module, "page") else "html_report"
    original = getattr(module, name)
    times: list[float] = []

    def timed(*args: Any, **kwargs: Any) -> str:
        start = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            times.append(time.perf_counter() - start)

    setattr(module, name, timed)
    return times


def in_browser(html: bytes) -> dict[str, float | None] | str:
    """Load, sort and filter times in ms; a note instead when Chromium is missing."""
    from compliance_template.local import browser

    try:
        browser.find()
    except browser.BrowserMissing as missing:
        return str(missing)
    with tempfile.TemporaryDirectory(prefix="bench-report-") as work:
        path = Path(work) / "report.html"
        path.write_bytes(html)
        driver = browser.start()
        try:
            browser.open_file(driver, path)
            loaded, load = driver.execute_script(_NAVIGATION)
            sort = driver.execute_script(_TIMED_SORT)
            filtered = driver.execute_script(_TIMED_FILTER, "resource-00")
        finally:
            driver.quit()
    return {"domContentLoaded": loaded, "load": load, "sort": sort, "filter": filtered}


def _ms(value: float | None) -> str:
    return "n/a (no table controls)" if value is None else f"{value:.1f} ms"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10,000 results instead")
    parser.add_argument("--results", type=int, default=None, help=argparse.SUPPRESS)
    options = parser.parse_args(argv)
    total = options.results or (10_000 if options.quick else RESULTS)
    bench.environment()
    figures = render(total)
    print(f"\n== report.html at {total:,} results ==")
    print(f"report.html        {figures['sizes'].get('report.html', 0) / 2**20:8.2f} MB")
    print(f"details.csv        {figures['sizes'].get('details.csv', 0) / 2**20:8.2f} MB")
    print(f"handler            {figures['seconds']:8.2f} s (collect, tally, write, render)")
    print(f"HTML render        {sum(figures['html_seconds']) * 1000:8.1f} ms (the page function)")
    timings = in_browser(figures["html"])
    if isinstance(timings, str):
        print(f"browser            skipped: {timings}")
        return
    print(f"DOMContentLoaded   {timings['domContentLoaded']:8.1f} ms (navigation timing)")
    print(f"load               {timings['load']:8.1f} ms")
    print(f"sort (1st column)  {_ms(timings['sort'])}")
    print(f"filter (text)      {_ms(timings['filter'])}")


if __name__ == "__main__":
    main()
