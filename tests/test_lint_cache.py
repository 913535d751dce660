"""`make template` lints only templates not already found clean with the same inputs."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from template_helpers import TEMPLATES

from compliance_template import lint_cache

OPTIONS = ["-c", "I", "--append-rules", "compliance_template.cfn_rules"]


class FakeCfnLint:
    """Records which templates each cfn-lint run was given, and answers with `code`."""

    def __init__(self, code: int = 0) -> None:
        self.code = code
        self.runs: list[list[str]] = []

    def __call__(self, command: list[str], check: bool) -> subprocess.CompletedProcess:
        self.runs.append(command[command.index("--") + 1 :])
        return subprocess.CompletedProcess(command, self.code)


@pytest.fixture
def cfn_lint(monkeypatch) -> FakeCfnLint:
    fake = FakeCfnLint()
    monkeypatch.setattr(lint_cache.subprocess, "run", fake)
    return fake


def templates(tmp_path: Path, *names: str) -> list[Path]:
    paths = []
    for name in names:
        path = tmp_path / name
        path.write_text(json.dumps({"Resources": {name.split(".")[0]: {}}}), encoding="utf-8")
        paths.append(path)
    return paths


def test_an_unchanged_clean_template_is_not_linted_again(tmp_path, cfn_lint):
    cache, paths = tmp_path / "cache", templates(tmp_path, "a.json", "b.json")
    assert lint_cache.lint(cache, paths, OPTIONS) == 0
    assert lint_cache.lint(cache, paths, OPTIONS) == 0
    assert cfn_lint.runs == [[str(p) for p in paths]]


def test_only_a_changed_template_is_linted_again(tmp_path, cfn_lint):
    cache, (a, b) = tmp_path / "cache", templates(tmp_path, "a.json", "b.json")
    lint_cache.lint(cache, [a, b], OPTIONS)
    b.write_text('{"Resources": {}}', encoding="utf-8")
    assert lint_cache.lint(cache, [a, b], OPTIONS) == 0
    assert cfn_lint.runs[1:] == [[str(b)]]


def test_findings_are_never_remembered(tmp_path, cfn_lint):
    cache, paths = tmp_path / "cache", templates(tmp_path, "a.json")
    cfn_lint.code = 2
    assert lint_cache.lint(cache, paths, OPTIONS) == 2
    assert lint_cache.lint(cache, paths, OPTIONS) == 2
    assert len(cfn_lint.runs) == 2
    cfn_lint.code = 0
    assert lint_cache.lint(cache, paths, OPTIONS) == 0
    assert len(cfn_lint.runs) == 3


def test_other_options_a_new_cfn_lint_or_changed_rules_lint_again(tmp_path, cfn_lint, monkeypatch):
    cache, paths = tmp_path / "cache", templates(tmp_path, "a.json")
    lint_cache.lint(cache, paths, OPTIONS)
    lint_cache.lint(cache, paths, OPTIONS[:2])
    monkeypatch.setattr(lint_cache, "version", lambda _: "0.0.1")
    lint_cache.lint(cache, paths, OPTIONS)
    monkeypatch.setattr(lint_cache, "package_digest", lambda: "rules changed")
    lint_cache.lint(cache, paths, OPTIONS)
    assert len(cfn_lint.runs) == 4


def test_the_package_digest_covers_every_source_file(tmp_path):
    package = tmp_path / "package"
    (package / "rules").mkdir(parents=True)
    rule = package / "rules" / "rule.py"
    rule.write_text("ID = 'E9001'\n", encoding="utf-8")
    before = lint_cache.package_digest(package)
    rule.write_text("ID = 'E9002'\n", encoding="utf-8")
    assert lint_cache.package_digest(package) != before


def test_a_command_line_without_options_says_how_to_call_it(capsys):
    assert lint_cache.main(["build/lint-cache", "templates/a.json"]) == 2
    assert "usage:" in capsys.readouterr().err


@pytest.mark.cfn_lint
def test_real_cfn_lint_fails_a_broken_template_and_remembers_a_clean_one(tmp_path):
    original = (TEMPLATES / "conformance-pack.json").read_text(encoding="utf-8")
    clean, broken = tmp_path / "clean.json", tmp_path / "broken.json"
    clean.write_text(original, encoding="utf-8")
    broken.write_text(original.replace('"Resources"', '"Resourcez"', 1), encoding="utf-8")
    cache = tmp_path / "cache"
    assert lint_cache.main([str(cache), str(broken), "--", *OPTIONS]) != 0
    assert not cache.exists()
    assert lint_cache.main([str(cache), str(clean), "--", *OPTIONS]) == 0
    assert len(list(cache.iterdir())) == 1
