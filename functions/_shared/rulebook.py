"""The rulebook: what each managed rule checks, what a person should do about a finding, the
resource types it evaluates, what remediation does for it; which Config rule names a stack can
deploy (``names``: suffix -> identifier) and the frameworks (conformance packs) that group them.

The facts come from the generator: it writes rulebook.json beside this module (never edit that
file), and packaging puts both in every function, the same file for every stack. A stack's own
rules are then found from their names alone (``<RuleNamePrefix>-<suffix>``), so nothing in the
functions' configuration grows with the number of rules. JSON rather than a generated Python
module because the zips carry no bytecode: parsing JSON at a cold start is cheaper than compiling
a large literal. It is read on first use, so importing stays cheap.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import Any, NamedTuple

# Beside this module in every function folder (a symlink to the one in _shared) and in the zip.
RULEBOOK_FILE = Path(__file__).with_name("rulebook.json")


class Rule(NamedTuple):
    description: str
    what_to_do: str
    resource_types: tuple[str, ...]
    remediation: str | None  # None: no automatic remediation
    # A person evaluates it (AWS_CONFIG_PROCESS_CHECK): Config never records a result on its own.
    manual: bool = False
    # The ASFF severity label of the rule's Security Hub findings (import mode).
    severity: str = "MEDIUM"
    # The AWS-owned SSM Automation document its AWS-native remediation runs (issue 13); None
    # when there is none. Named in the notification's next steps.
    ssm_document: str | None = None


class Control(NamedTuple):
    title: str
    rules: tuple[str, ...]  # rule-name suffixes


class Framework(NamedTuple):
    title: str
    rules: tuple[str, ...]  # rule-name suffixes, in the pack's order
    controls: dict[str, Control]  # empty when no mapping to the framework's controls is held


_UNKNOWN = Rule(
    "A rule this version of the functions does not describe.",
    "Read the rule's runbook.",
    (),
    None,
)


@cache
def _document() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(RULEBOOK_FILE.read_text(encoding="utf-8"))
    return document


@cache
def rules() -> dict[str, Rule]:
    return {
        identifier: Rule(
            entry["description"],
            entry["whatToDo"],
            tuple(entry["resourceTypes"]),
            entry["remediation"],
            bool(entry.get("manual", False)),
            str(entry.get("severity", "MEDIUM")),
            entry.get("ssmDocument") or None,
        )
        for identifier, entry in _document()["rules"].items()
    }


def names() -> dict[str, str]:
    """Every rule-name suffix any stack can deploy -> its identifier (several may share one)."""
    value: dict[str, str] = _document()["names"]
    return value


@cache
def frameworks() -> dict[str, Framework]:
    return {
        name: Framework(
            entry["title"],
            tuple(entry["rules"]),
            {
                control: Control(item["title"], tuple(item["rules"]))
                for control, item in entry.get("controls", {}).items()
            },
        )
        for name, entry in _document()["frameworks"].items()
    }


def text(identifier: str) -> Rule:
    return rules().get(identifier, _UNKNOWN)


def suffix(prefix: str, rule_name: str) -> str | None:
    """The suffix of one of the stack's rule names; None when the name is not the stack's
    (without ``<prefix>-`` or with a suffix no stack deploys)."""
    head = f"{prefix}-"
    if not rule_name.startswith(head):
        return None
    rest = rule_name[len(head) :]
    return rest if rest in names() else None


def identifier(prefix: str, rule_name: str) -> str | None:
    """The identifier of one of the stack's rules; None when the rule is not the stack's."""
    found = suffix(prefix, rule_name)
    return None if found is None else names()[found]


def frameworks_of(rule_suffix: str, enabled: Iterable[str]) -> tuple[str, ...]:
    """The enabled frameworks that hold the rule, in the order given."""
    known = frameworks()
    return tuple(name for name in enabled if rule_suffix in known[name].rules)


def runbook_url(base_url: str, identifier: str) -> str:
    """``<base>/<IDENTIFIER>.md``; the repository path when no base URL is configured."""
    return f"{base_url.rstrip('/') if base_url else 'docs/runbooks'}/{identifier}.md"
