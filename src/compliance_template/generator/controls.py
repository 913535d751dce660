"""Which rules of a framework serve which of its controls, where AWS documents it (the developer
guide's "Operational Best Practices for ..." pages), as generator/data/controls.json holds it:
per framework the page read, the day, whether the page could be read whole, and per control its
title and rules (managed-rule identifiers, or `process:<pack rule name>` for a manual control).

The report and the summary group a framework's rules by control with it; a framework without a
mapping is reported rule by rule.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from .frameworks import PROCESS_CHECK, Framework, process_check_suffix

DATA_FILE = Path(__file__).with_name("data") / "controls.json"
PROCESS_PREFIX = "process:"


@cache
def mappings() -> dict[str, dict[str, Any]]:
    if not DATA_FILE.exists():
        return {}
    return json.loads(DATA_FILE.read_text(encoding="utf-8"))["frameworks"]


def controls_of(framework: Framework) -> dict[str, dict[str, Any]]:
    """{control: {"title", "rules": [suffixes]}}: a control's rules as this framework deploys
    them (every instance of an identifier the pack uses more than once)."""
    mapping = mappings().get(framework.name)
    if mapping is None:
        return {}
    by_identifier: dict[str, list[str]] = {}
    for rule in framework.rules:
        if rule.identifier != PROCESS_CHECK:
            by_identifier.setdefault(rule.identifier, []).append(rule.suffix)
    result = {}
    for control, entry in mapping["controls"].items():
        suffixes: list[str] = []
        for name in entry["rules"]:
            if name.startswith(PROCESS_PREFIX):
                suffixes.append(process_check_suffix(name[len(PROCESS_PREFIX) :]))
            else:
                suffixes.extend(by_identifier.get(name, []))
        result[control] = {"title": entry["title"], "rules": list(dict.fromkeys(suffixes))}
    return result


def unmapped_rules(framework: Framework) -> list[str]:
    """Rule names in the mapping that the framework's pack does not deploy (a test keeps it
    empty: a mapping names only rules its pack has)."""
    mapping = mappings().get(framework.name)
    if mapping is None:
        return []
    deployed = {rule.identifier for rule in framework.rules} | {
        _process_name(rule.suffix) for rule in framework.rules if rule.identifier == PROCESS_CHECK
    }
    return [
        name
        for entry in mapping["controls"].values()
        for name in entry["rules"]
        if _normalised(name) not in deployed
    ]


def _process_name(suffix: str) -> str:
    return PROCESS_PREFIX + suffix


def _normalised(name: str) -> str:
    """A manual control's name as the suffix our stacks give it; an identifier as it is."""
    if name.startswith(PROCESS_PREFIX):
        return _process_name(process_check_suffix(name.removeprefix(PROCESS_PREFIX)))
    return name
