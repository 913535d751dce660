"""The rules load by import path and by directory, in-process and from the command line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from cfn_rules_harness import FIXTURES, RULES_DIRECTORY, RULES_MODULE, custom_rules, lint
from cfnlint.rules import Rules

BAD_SINGLETONS = FIXTURES / "bad" / "config_singletons.yaml"


def test_directory_loading_finds_the_same_rules_as_the_import_path():
    by_directory = Rules.create_from_directory(str(RULES_DIRECTORY))
    by_module = Rules.create_from_module(RULES_MODULE)
    assert sorted(by_directory) == sorted(by_module)
    assert len(by_module) == 18
    for rule in by_module.values():
        assert rule.id[0] in "EWI" and rule.id[1] == "9", rule.id
        assert rule.shortdesc and rule.description and rule.tags
        assert rule.source_url.startswith("https://docs.aws.amazon.com/"), rule.id


def test_directory_loaded_rules_find_the_same_problems():
    by_directory = Rules.create_from_directory(str(RULES_DIRECTORY))
    for path in sorted((FIXTURES / "bad").glob("*.*")):
        expected = sorted((m.rule.id, m.path) for m in lint(path, custom_rules()))
        assert sorted((m.rule.id, m.path) for m in lint(path, by_directory)) == expected


def _cfn_lint(*args: str) -> subprocess.CompletedProcess[str]:
    # The console script installed next to the interpreter running the tests.
    command = [str(Path(sys.executable).parent / "cfn-lint"), *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)


def test_command_line_with_import_path_as_documented():
    result = _cfn_lint("--append-rules", RULES_MODULE, "--", str(BAD_SINGLETONS))
    assert "E9001" in result.stdout, result.stdout + result.stderr
    # cfn-lint's exit code is a bit mask; 2 means errors were found.
    assert result.returncode & 2


def test_command_line_with_directory_as_documented():
    result = _cfn_lint(
        "--append-rules", str(RULES_DIRECTORY), "--format", "parseable", "--", str(BAD_SINGLETONS)
    )
    assert result.stdout.count(":E9001:") == 2, result.stdout + result.stderr
