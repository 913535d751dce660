"""How the frameworks read from the packs stand against managed_rules.json, and how old its
facts are.

managed_rules.json is written by people reading AWS's pages, never by this code: what the packs
tell us is only reported here, with a ready-to-fill entry for each rule the file lacks.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from .drift import Frameworks
from .packs import rule_inputs

MANAGED_RULES_FILE = (
    Path(__file__).resolve().parents[1] / "generator" / "data" / "managed_rules.json"
)
PAGE_URL = "https://docs.aws.amazon.com/config/latest/developerguide/{page}.html"
# The project's rule: facts read more than a year ago are read again.
STALE_AFTER = timedelta(days=365)


def load_rules(path: Path = MANAGED_RULES_FILE) -> dict[str, dict[str, Any]]:
    rules: dict[str, dict[str, Any]] = json.loads(path.read_text(encoding="utf-8"))["rules"]
    return rules


def uses(frameworks: Frameworks) -> dict[str, list[dict[str, Any]]]:
    """Every use of each managed-rule identifier, with the framework it is in."""
    found: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for name in sorted(frameworks):
        for rule in frameworks[name]["rules"]:
            found[rule["identifier"]].append({**rule, "framework": name})
    return found


def missing_rules(frameworks: Frameworks, rules: dict[str, Any]) -> list[str]:
    """Two lines per identifier the packs use and managed_rules.json lacks: what to read, and
    the entry to fill in from that page."""
    lines = []
    by_identifier = uses(frameworks)
    for identifier in sorted(by_identifier.keys() - rules.keys()):
        found = by_identifier[identifier]
        page = identifier.lower().replace("_", "-")
        in_frameworks = sorted({use["framework"] for use in found})
        lines.append(
            f"missing managed rule: {identifier} (used by {', '.join(in_frameworks)}):"
            f" read {PAGE_URL.format(page=page)}"
        )
        stub = json.dumps({identifier: stub_entry(page, found)}, sort_keys=True)
        lines.append(f"  stub: {stub[1:-1]}")
    return lines


def stub_entry(page: str, found: list[dict[str, Any]]) -> dict[str, Any]:
    """What the packs say of a rule, in managed_rules.json's shape; the type and required of
    each parameter, the regions and the description are for the maintainer to read."""
    keys = sorted({key for use in found for key in rule_inputs(use)})
    resource_types = sorted(
        {t for use in found for t in use.get("scope", {}).get("ComplianceResourceTypes", [])}
    )
    triggers = []
    if any("scope" in use for use in found):
        triggers.append("change")
    if any("frequency" in use for use in found):
        triggers.append("periodic")
    return {
        "description": "",
        "docsPage": page,
        "facts": {"readOn": None, "source": "sample-packs", "verified": []},
        "parameters": [{"name": key, "required": None, "type": None} for key in keys],
        "resourceTypes": resource_types,
        "triggers": triggers,
        "unavailableRegions": [],
    }


def unused_rules(frameworks: Frameworks, rules: dict[str, Any]) -> list[str]:
    return [
        f"no pack uses: {identifier} (kept in managed_rules.json)"
        for identifier in sorted(rules.keys() - uses(frameworks).keys())
    ]


def undocumented_inputs(frameworks: Frameworks, rules: dict[str, Any]) -> list[str]:
    """Input keys the packs pass that the rule's documented parameters do not name."""
    lines = []
    for identifier, found in sorted(uses(frameworks).items()):
        if identifier not in rules:
            continue  # reported as missing, with every key it takes
        documented = {parameter["name"] for parameter in rules[identifier]["parameters"]}
        passed: dict[str, set[str]] = defaultdict(set)
        for use in found:
            for key in rule_inputs(use):
                passed[key].add(use["framework"])
        lines += [
            f"undocumented input: {identifier} {key} (passed by {', '.join(sorted(passed[key]))})"
            for key in sorted(passed.keys() - documented)
        ]
    return lines


def facts_age(rules: dict[str, Any], today: date) -> list[str]:
    """Rules by the day their facts were read, the oldest day, and those read over a year ago."""
    read_on = {identifier: rule["facts"].get("readOn") for identifier, rule in rules.items()}
    counts = Counter(read_on.values())
    days = sorted(day for day in counts if day is not None)
    lines = [f"facts read on {day}: {counts[day]} rules" for day in days]
    lines.append(f"facts never read from AWS's page (readOn null): {counts[None]} rules")
    lines.append(f"oldest readOn: {days[0] if days else '(none)'}")
    limit = (today - STALE_AFTER).isoformat()
    stale = sorted(i for i, day in read_on.items() if day is not None and day < limit)
    lines += [f"facts older than a year: {i} (read on {read_on[i]})" for i in stale]
    lines.append(f"facts older than a year (read before {limit}): {len(stale)} rules")
    return lines
