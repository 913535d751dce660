"""The one loader of a packaged function's code, shared by tests, benchmarks and the local cycle."""

from __future__ import annotations

import sys

import pytest

from compliance_template.function_loader import import_app


@pytest.fixture
def folder(tmp_path, monkeypatch):
    monkeypatch.setattr(sys, "path", list(sys.path))
    monkeypatch.setattr(sys, "modules", dict(sys.modules))
    (tmp_path / "helper_for_loader_test.py").write_text("VALUE = 42\n")
    return tmp_path


def test_app_is_loaded_once_under_its_name_with_its_folder_importable(folder):
    (folder / "app.py").write_text("from helper_for_loader_test import VALUE\n")
    module = import_app(folder, "loader_test_app")
    assert module.VALUE == 42
    assert sys.modules["loader_test_app"] is module
    assert import_app(folder, "loader_test_app") is module


def test_an_app_that_fails_to_import_is_not_left_half_loaded(folder):
    (folder / "app.py").write_text("raise RuntimeError('broken')\n")
    with pytest.raises(RuntimeError, match="broken"):
        import_app(folder, "loader_test_app")
    assert "loader_test_app" not in sys.modules
