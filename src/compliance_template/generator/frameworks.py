"""Compliance frameworks: AWS's sample conformance packs, as generator/data/frameworks.json holds
them (compliance_template.maintenance writes that file from a checkout of
awslabs/aws-config-rules; nothing here reads the network or that repository).

A framework is what its pack deploys: its managed rules in pack order (a pack may use a rule
more than once, and holds one AWS_CONFIG_PROCESS_CHECK per manual control), each with the pack's
input parameters, scope, frequency and condition, plus the pack's parameters and conditions
those refer to.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from .catalog import BY_IDENTIFIER, MAX_SUFFIX, slug_of

DATA_FILE = Path(__file__).with_name("data") / "frameworks.json"
PROCESS_CHECK = "AWS_CONFIG_PROCESS_CHECK"


@dataclass(frozen=True)
class PackRule:
    """One rule of a pack: `suffix` is the rule-name suffix it gets in our stacks."""

    suffix: str
    identifier: str
    pack_key: str
    inputs: Any  # the pack's InputParameters: a mapping, or an intrinsic (Fn::If) around one
    scope: Any
    frequency: Any
    condition: str | None


@dataclass(frozen=True)
class Framework:
    name: str
    title: str
    file: str
    parameters: dict[str, dict[str, Any]]
    conditions: dict[str, Any]
    rules: tuple[PackRule, ...]
    # Rules of the pack that are not AWS managed rules (a custom Lambda the pack user supplies).
    custom_rules: tuple[str, ...]

    @property
    def identifiers(self) -> frozenset[str]:
        return frozenset(rule.identifier for rule in self.rules)


def process_check_suffix(pack_name: str) -> str:
    """A manual control's suffix: the pack's rule name, lower case with dashes."""
    suffix = re.sub(r"[^a-z0-9]+", "-", pack_name.lower()).strip("-")
    return suffix[:MAX_SUFFIX].rstrip("-")


def _pack_rules(entries: list[dict[str, Any]]) -> tuple[PackRule, ...]:
    uses: dict[str, int] = {}
    rules = []
    for entry in entries:
        identifier = entry["identifier"]
        if identifier == PROCESS_CHECK:
            suffix = process_check_suffix(entry["name"])
        else:
            uses[identifier] = uses.get(identifier, 0) + 1
            count = uses[identifier]
            suffix = slug_of(identifier) if count == 1 else f"{slug_of(identifier)}-{count}"
        rules.append(
            PackRule(
                suffix=suffix,
                identifier=identifier,
                pack_key=entry["key"],
                inputs=entry.get("inputs"),
                scope=entry.get("scope"),
                frequency=entry.get("frequency"),
                condition=entry.get("condition"),
            )
        )
    return tuple(rules)


@cache
def frameworks() -> dict[str, Framework]:
    document = json.loads(DATA_FILE.read_text(encoding="utf-8"))
    return {
        name: Framework(
            name=name,
            title=record["title"],
            file=record["file"],
            parameters=record["parameters"],
            conditions=record["conditions"],
            rules=_pack_rules(record["rules"]),
            custom_rules=tuple(custom["key"] for custom in record["customRules"]),
        )
        for name, record in sorted(document["frameworks"].items())
    }


@cache
def source() -> dict[str, str]:
    """Where the packs came from: repository, folder, commit, commit date, the day read."""
    return json.loads(DATA_FILE.read_text(encoding="utf-8"))["source"]


def unknown_identifiers() -> set[str]:
    """Identifiers a pack uses that the catalog lacks (a test keeps this empty)."""
    return {
        rule.identifier
        for framework in frameworks().values()
        for rule in framework.rules
        if rule.identifier not in BY_IDENTIFIER
    }
