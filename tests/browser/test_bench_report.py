"""benchmarks/bench_report.py in a tiny mode: every figure printed, the browser's included."""

from __future__ import annotations

from template_helpers import load_script


def test_the_report_benchmark_prints_every_figure(capsys):
    bench = load_script("benchmarks/bench_report.py")
    bench.main(["--results", "400"])
    out = capsys.readouterr().out
    for figure in ("report.html", "details.csv", "handler", "HTML render", "DOMContentLoaded"):
        assert figure in out, out
    assert "sort (1st column)" in out and "filter (text)" in out
