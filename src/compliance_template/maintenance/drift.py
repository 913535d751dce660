"""What changed between the recorded frameworks and the ones just read from the packs.

One line per change, frameworks in name order and each framework's changes in a fixed order,
so two runs over the same checkout print the same report. Rules are compared two ways: by
identifier (how many times the pack uses it, since a pack may use one rule twice with other
inputs) and by resource key (the pack's logical id, stable across AWS's edits), which pairs
one use with its earlier self to compare its inputs, scope, frequency and condition.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from .packs import rule_inputs

Frameworks = dict[str, dict[str, Any]]


def framework_changes(recorded: Frameworks, read: Frameworks) -> list[str]:
    lines = [
        f"framework added: {name} ({read[name]['file']}, {_count(read[name]['rules'], 'rule')})"
        for name in sorted(read.keys() - recorded.keys())
    ]
    lines += [
        f"framework removed: {name} (was {recorded[name]['file']})"
        for name in sorted(recorded.keys() - read.keys())
    ]
    for name in sorted(recorded.keys() & read.keys()):
        lines += [f"{name}: {line}" for line in _changes(recorded[name], read[name])]
    return lines


def _changes(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    lines = _field_changes(old, new, "file", "title")
    lines += _use_changes(old["rules"], new["rules"])
    lines += _rule_changes(old["rules"], new["rules"])
    lines += _parameter_changes(old["parameters"], new["parameters"])
    lines += _keyed_changes("condition", old["conditions"], new["conditions"])
    lines += _keyed_changes(
        "custom rule",
        {r["key"]: r for r in old["customRules"]},
        {r["key"]: r for r in new["customRules"]},
    )
    if not lines and old != new:
        # Only the order of rules or a rule's name: still a change the written file would show.
        lines.append("rules reordered or renamed")
    return lines


def _field_changes(old: dict[str, Any], new: dict[str, Any], *fields: str) -> list[str]:
    return [
        f"{field} changed: {_show(old.get(field))} -> {_show(new.get(field))}"
        for field in fields
        if old.get(field) != new.get(field)
    ]


def _use_changes(old: list[dict[str, Any]], new: list[dict[str, Any]]) -> list[str]:
    before = Counter(rule["identifier"] for rule in old)
    after = Counter(rule["identifier"] for rule in new)
    lines = []
    for identifier in sorted(before.keys() | after.keys()):
        was, now = before[identifier], after[identifier]
        if now > was:
            lines.append(f"rule added: {identifier} ({_count(now, 'use')}, was {was})")
        elif now < was:
            lines.append(f"rule removed: {identifier} ({_count(now, 'use')}, was {was})")
    return lines


def _rule_changes(old: list[dict[str, Any]], new: list[dict[str, Any]]) -> list[str]:
    before = {rule["key"]: rule for rule in old}
    lines = []
    for rule in sorted(new, key=lambda r: r["key"]):
        earlier = before.get(rule["key"])
        if earlier is None or earlier["identifier"] != rule["identifier"]:
            continue  # counted as a use added (and removed) above
        where = f"rule {rule['identifier']} ({rule['key']})"
        old_inputs, new_inputs = rule_inputs(earlier), rule_inputs(rule)
        lines += [
            f"{where}: input key added: {key}"
            for key in sorted(new_inputs.keys() - old_inputs.keys())
        ]
        lines += [
            f"{where}: input key removed: {key}"
            for key in sorted(old_inputs.keys() - new_inputs.keys())
        ]
        lines += [
            f"{where}: input {key} changed: {_show(old_inputs[key])} -> {_show(new_inputs[key])}"
            for key in sorted(old_inputs.keys() & new_inputs.keys())
            if old_inputs[key] != new_inputs[key]
        ]
        lines += [f"{where}: {line}" for line in _field_changes(earlier, rule, *_RULE_FIELDS)]
    return lines


_RULE_FIELDS = ("scope", "frequency", "condition")


def _parameter_changes(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    lines = [f"parameter added: {name}" for name in sorted(new.keys() - old.keys())]
    lines += [f"parameter removed: {name}" for name in sorted(old.keys() - new.keys())]
    for name in sorted(old.keys() & new.keys()):
        was, now = old[name].get("Default"), new[name].get("Default")
        if was != now:
            lines.append(f"parameter {name} default changed: {_show(was)} -> {_show(now)}")
        elif old[name] != new[name]:
            lines.append(f"parameter {name} changed: {_show(old[name])} -> {_show(new[name])}")
    return lines


def _keyed_changes(kind: str, old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    lines = [f"{kind} added: {key}" for key in sorted(new.keys() - old.keys())]
    lines += [f"{kind} removed: {key}" for key in sorted(old.keys() - new.keys())]
    lines += [
        f"{kind} {key} changed: {_show(old[key])} -> {_show(new[key])}"
        for key in sorted(old.keys() & new.keys())
        if old[key] != new[key]
    ]
    return lines


def _show(value: Any) -> str:
    """A value on one line, with sorted keys so the same value always reads the same."""
    if value is None:
        return "(none)"
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


def _count(items: Any, noun: str) -> str:
    number = items if isinstance(items, int) else len(items)
    return f"{number} {noun}" + ("" if number == 1 else "s")
