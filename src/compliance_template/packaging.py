"""Byte-identical Lambda zips: `make package` builds build/<function>.zip from functions/<function>.

Entries are sorted, timestamps fixed, permissions normalised and symlinks (to the one copy of
the shared helpers in functions/_shared) followed, so the same sources always give the same
bytes and `aws cloudformation package` (which names uploads by content hash) sees no change.
"""

from __future__ import annotations

import argparse
import sys
import zipfile
from collections.abc import Sequence
from io import BytesIO
from pathlib import Path

from .generator.naming import FUNCTION_NAMES
from .output import write_bytes_atomically
from .paths import BUILD_DIR, FUNCTIONS_DIR

FIXED_TIME = (1980, 1, 1, 0, 0, 0)  # the earliest time a zip entry can carry
FILE_MODE = 0o100644  # regular file, rw-r--r--
SKIPPED_DIRS = {"__pycache__", "tests", ".pytest_cache"}
SKIPPED_SUFFIXES = {".pyc", ".pyo"}


class PackagingError(RuntimeError):
    pass


def function_files(folder: Path) -> list[tuple[str, Path]]:
    """(name in the zip, file to read) for everything the function needs, sorted by name."""
    entries = []
    for path in folder.rglob("*"):
        relative = path.relative_to(folder)
        if SKIPPED_DIRS & set(relative.parts) or path.suffix in SKIPPED_SUFFIXES:
            continue
        if path.is_dir():
            continue
        if not path.exists():
            raise PackagingError(f"{path}: broken symlink")
        entries.append((relative.as_posix(), path))
    return sorted(entries)


def build_zip(folder: Path) -> bytes:
    buffer = BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        for name, path in function_files(folder):
            info = zipfile.ZipInfo(name, date_time=FIXED_TIME)
            info.external_attr = FILE_MODE << 16
            info.create_system = 3  # Unix, so the mode above is honoured
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, path.read_bytes(), compresslevel=9)
    return buffer.getvalue()


def package(
    functions_dir: Path, out_dir: Path, names: Sequence[str] = FUNCTION_NAMES
) -> list[Path]:
    written = []
    for name in names:
        folder = functions_dir / name
        if not (folder / "app.py").is_file():
            raise PackagingError(f"{folder}: no app.py (the handler module app.handler)")
        target = out_dir / f"{name}.zip"
        write_bytes_atomically(target, build_zip(folder))
        written.append(target)
    return written


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m compliance_template.packaging",
        description="Build one byte-identical zip per Lambda function.",
    )
    parser.add_argument("--functions", type=Path, default=FUNCTIONS_DIR)
    parser.add_argument("--out", type=Path, default=BUILD_DIR)
    args = parser.parse_args(argv)
    try:
        for path in package(args.functions, args.out):
            print(f"{path} {path.stat().st_size} bytes")
    except PackagingError as error:
        print(f"package: error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
