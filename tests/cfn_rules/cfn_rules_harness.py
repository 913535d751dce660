"""Runs the custom rules in-process, the way cfn-lint runs appended rules."""

from __future__ import annotations

import functools
from pathlib import Path

from cfnlint.config import ConfigMixIn
from cfnlint.match import Match
from cfnlint.rules import Rules
from cfnlint.rules.errors import RuleError
from cfnlint.runner.template.runner import run_template_by_file_path

RULES_MODULE = "compliance_template.cfn_rules"
FIXTURES = Path(__file__).parent / "fixtures"
RULES_DIRECTORY = Path(__file__).parents[2] / "src" / "compliance_template" / "cfn_rules"


@functools.cache
def custom_rules() -> Rules:
    """Our rules only, plus cfn-lint's E0002 so that an exception inside a rule is a finding
    (without it cfn-lint drops the error match of a rule that is not registered).
    """
    rules = Rules.create_from_module(RULES_MODULE)
    rules.register(RuleError())
    return rules


def lint(path: Path, rules: Rules | None = None) -> list[Match]:
    config = ConfigMixIn([], include_checks=["I"], regions=["us-east-1"])
    return list(run_template_by_file_path(str(path), config, rules or custom_rules(), False))


def findings(path: Path) -> list[tuple[str, tuple]]:
    """(rule id, path of the finding), sorted, one entry per finding."""
    return sorted((m.rule.id, tuple(getattr(m, "path", ()))) for m in lint(path))
