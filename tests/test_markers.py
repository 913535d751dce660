"""The marking that `make test-fast` relies on (tests/slow_tests.py): complete, registered, and
applied to the tests of this run."""

from __future__ import annotations

import re
import socket
import tomllib
from pathlib import Path

import pytest
from slow_tests import EMULATOR, FILE_MARKERS, REASONS, SLOW

ROOT = Path(__file__).resolve().parents[1]


def registered_markers() -> set[str]:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    lines = pyproject["tool"]["pytest"]["ini_options"]["markers"]
    return {line.split(":", 1)[0] for line in lines}


def test_every_test_file_is_classified():
    files = {path.relative_to(ROOT).as_posix() for path in (ROOT / "tests").rglob("test_*.py")}
    assert files - FILE_MARKERS.keys() == set(), "add these to tests/slow_tests.py"
    assert FILE_MARKERS.keys() - files == set(), "these are gone: remove them"


def test_every_marker_is_registered_and_a_reason_to_be_slow():
    assert registered_markers() == {SLOW, *REASONS}
    assert {m for markers in FILE_MARKERS.values() for m in markers} <= set(REASONS)


def test_make_test_fast_leaves_out_the_slow_tests():
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    recipe = re.search(r"^test-fast:.*\n\t(.*)", makefile, flags=re.MULTILINE)
    assert recipe is not None
    assert recipe.group(1) == f'$(BIN)/python -m pytest -m "not {SLOW}"'


def test_the_tests_of_this_run_carry_their_files_markers(request):
    """In `make test` every test is here; in `make test-fast` only those without `slow` are."""
    items = request.session.items
    assert items
    for item in items:
        expected = set(FILE_MARKERS[item.path.relative_to(ROOT).as_posix()])
        marks = {mark.name for mark in item.iter_markers()}
        assert expected <= marks, item.nodeid
        assert (SLOW in marks) == bool(marks & set(REASONS)), item.nodeid
    if request.config.option.markexpr == f"not {SLOW}":
        assert not any(item.get_closest_marker(SLOW) for item in items)


def test_a_test_not_marked_emulator_cannot_start_a_server():
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        with pytest.raises(AssertionError, match=f"mark it `{EMULATOR}`"):
            server.listen()


@pytest.mark.emulator
def test_a_test_marked_emulator_can_start_a_server(request):
    assert request.node.get_closest_marker(SLOW) is not None
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
