"""`make report-sample` on the local emulator: the last of eight daily runs, copied whole."""

from __future__ import annotations

import io
import json

from compliance_template.local import browser, report_sample


def test_the_sample_report_has_the_last_runs_files_and_eight_trend_points(tmp_path, capfd):
    out = tmp_path / "sample-report"
    out.mkdir()
    (out / "stale.txt").write_text("from an earlier run", encoding="utf-8")
    log = io.StringIO()
    assert report_sample.build_sample(out, log=log) == out
    names = {path.name for path in out.iterdir()}
    assert {"report.html", "details.csv", "summary.json"} <= names
    assert "stale.txt" not in names, "the folder is replaced as a whole"
    assert (
        not list(tmp_path.glob(".sample-report-*"))
        and not (tmp_path / "sample-report.old").exists()
    )
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert len(summary["trend"]) >= report_sample.SAMPLE_DAYS
    assert summary["runId"] == "2026-12-01T060000Z"
    counts = [point["nonCompliant"] for point in summary["trend"]]
    assert len(set(counts)) > 2, counts  # the results change from day to day
    assert "resourceId" in (out / "details.csv").read_text(encoding="utf-8").splitlines()[0]
    try:
        browser.find()
    except browser.BrowserMissing:
        assert "no screenshot" in log.getvalue()
    else:
        assert (out / "screenshot.png").read_bytes().startswith(b"\x89PNG")
        overview = (out / "overview.png").read_bytes()
        assert int.from_bytes(overview[20:24], "big") == report_sample.OVERVIEW_HEIGHT
    # The function's JSON log lines and metrics stay out of what the command prints.
    printed = capfd.readouterr().out + log.getvalue()
    assert '"_aws"' not in printed and '"level"' not in printed


def test_the_story_has_violations_appearing_fixed_and_regressing():
    by_day = [report_sample.non_compliant(0, 1, day) for day in range(report_sample.SAMPLE_DAYS)]
    assert by_day == [False, False, True, True, False, False, False, True]


def test_a_bad_number_of_days_is_refused(capsys):
    import pytest

    with pytest.raises(SystemExit):
        report_sample.main(["--days", "0"])
    assert "--days: 0 is not allowed" in capsys.readouterr().err
