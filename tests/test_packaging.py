"""`make package`: byte-identical zips with exactly what each function needs."""

from __future__ import annotations

import io
import os
import zipfile

import pytest

from compliance_template.generator.naming import FUNCTION_NAMES
from compliance_template.packaging import PackagingError, build_zip, main, package


@pytest.fixture
def functions(tmp_path):
    root = tmp_path / "functions"
    (root / "_shared").mkdir(parents=True)
    (root / "_shared" / "observability.py").write_text("LEVEL = 'INFO'\n")
    for name in FUNCTION_NAMES:
        folder = root / name
        (folder / "__pycache__").mkdir(parents=True)
        (folder / "app.py").write_text(f"def handler(event, context):\n    return '{name}'\n")
        (folder / "__pycache__" / "app.cpython-311.pyc").write_bytes(b"\0compiled")
        (folder / "observability.py").symlink_to("../_shared/observability.py")
    return root


def entries(data: bytes) -> dict[str, zipfile.ZipInfo]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return {info.filename: info for info in zf.infolist()}


def test_zip_holds_sources_and_shared_helpers_but_no_bytecode(functions):
    data = build_zip(functions / "processing")
    names = list(entries(data))
    assert names == ["app.py", "observability.py"]
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        assert zf.read("observability.py") == b"LEVEL = 'INFO'\n"


def test_zips_are_byte_identical_whatever_the_file_times_and_modes(functions, tmp_path):
    first = build_zip(functions / "reporting")
    app = functions / "reporting" / "app.py"
    os.utime(app, (2_000_000_000, 2_000_000_000))
    app.chmod(0o600)
    assert build_zip(functions / "reporting") == first
    info = entries(first)["app.py"]
    assert info.date_time == (1980, 1, 1, 0, 0, 0)
    assert info.external_attr >> 16 == 0o100644


def test_package_writes_one_zip_per_function(functions, tmp_path):
    out = tmp_path / "build"
    written = package(functions, out)
    assert sorted(p.name for p in written) == ["processing.zip", "remediation.zip", "reporting.zip"]
    again = [p.read_bytes() for p in package(functions, out)]
    assert again == [p.read_bytes() for p in written]


def test_missing_handler_and_broken_symlink_are_clear_errors(functions, tmp_path, capsys):
    (functions / "remediation" / "app.py").unlink()
    with pytest.raises(PackagingError, match=r"no app\.py"):
        package(functions, tmp_path / "build")
    (functions / "reporting" / "gone.py").symlink_to("../_shared/missing.py")
    assert main(["--functions", str(functions), "--out", str(tmp_path / "b")]) == 2
    assert "broken symlink" in capsys.readouterr().err
