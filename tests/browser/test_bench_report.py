"""benchmarks/bench_report.py in a tiny mode: every figure printed, the browser's included.

It runs as `make bench` runs it, in its own interpreter: the benchmark loads the reporting
function's modules and stubs its clients, which must not leak into the tests that follow."""

from __future__ import annotations

import subprocess
import sys

from compliance_template.paths import PROJECT_ROOT


def test_the_report_benchmark_prints_every_figure():
    done = subprocess.run(
        [sys.executable, "benchmarks/bench_report.py", "--results", "400"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    out = done.stdout
    for figure in ("report.html", "details.csv", "handler", "HTML render", "DOMContentLoaded"):
        assert figure in out, out
    assert "sort (1st column)" in out and "filter (text)" in out
