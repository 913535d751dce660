"""The import figures of docs/benchmarks.md come from the zips as Lambda runs them: extracted to
a read-only folder, without bytecode, so every module of a function is compiled at import."""

from __future__ import annotations

import pytest
from template_helpers import ROOT, load_script

from compliance_template.packaging import build_zip

bench = load_script("benchmarks/bench_functions.py")


@pytest.fixture
def extracted(tmp_path):
    archive = tmp_path / "processing.zip"
    archive.write_bytes(build_zip(ROOT / "functions" / "processing"))
    folder = bench.extracted_read_only(archive, tmp_path / "processing")
    yield folder
    for path in [folder, *folder.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)


def test_the_extracted_function_is_read_only_and_carries_no_bytecode(extracted):
    files = [p for p in extracted.rglob("*") if p.is_file()]
    assert files and not any(p.suffix == ".pyc" for p in files)
    assert all(p.stat().st_mode & 0o222 == 0 for p in [extracted, *files])


def test_the_probe_imports_every_function_module_from_source(extracted):
    run = bench.import_probe(extracted)
    assert run["from_bytecode"] == []
    assert run["app"] > 0 and run["boto3"] > 0
    # Nothing was written next to the code, as on Lambda's read-only code directory.
    assert not list(extracted.rglob("__pycache__"))


def test_the_probe_sees_cached_bytecode_when_there_is_some(tmp_path):
    """The comparison column: the same probe on a writable copy, after a run that cached."""
    archive = tmp_path / "processing.zip"
    archive.write_bytes(build_zip(ROOT / "functions" / "processing"))
    import zipfile

    with zipfile.ZipFile(archive) as zf:
        zf.extractall(tmp_path / "writable")
    bench.import_probe(tmp_path / "writable", write_bytecode=True)
    assert "app" in bench.import_probe(tmp_path / "writable")["from_bytecode"]


def test_import_times_need_the_built_zips(monkeypatch, tmp_path):
    monkeypatch.setattr(bench, "BUILD", tmp_path)
    with pytest.raises(SystemExit, match=r"run `make package`"):
        bench.import_times(1)


def test_the_generator_benchmark_measures_each_case():
    generator = load_script("benchmarks/bench_generator.py")
    generator.RUNS = 1
    seconds, size, resources, rules = generator.measure("stack", generator.CASES[1][2])
    assert seconds > 0 and rules == 130 and resources > rules and size > 100_000


@pytest.mark.scale
def test_the_organization_benchmark_counts_calls_against_the_bound():
    """Its quick run: 100 accounts x 4 regions x 130 rules, within a tenth of the lower bound
    with and without throttling (the figures it prints are docs/benchmarks.md's)."""
    import subprocess
    import sys

    out = subprocess.run(
        [sys.executable, "benchmarks/bench_organization.py", "--quick"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    ).stdout
    rows = [line.split() for line in out.splitlines() if line.strip().startswith("100 ")]
    assert len(rows) == 2
    for row in rows:
        bound, calls = int(row[6]), int(row[7])
        assert bound == 456 and bound <= calls <= 1.1 * bound
    assert int(rows[1][9]) > 0  # the 2-a-second case is throttled
