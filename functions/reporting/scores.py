"""Framework (conformance pack) scores from the per-rule tally.

The score is the one AWS Config gives a conformance pack: "the percentage of the number of
compliant rule-resource combinations in a conformance pack compared to the number of total
possible rule-resource combinations in the conformance pack", and INSUFFICIENT_DATA (here None)
for a pack with no evaluation results
(https://docs.aws.amazon.com/config/latest/APIReference/API_ConformancePackComplianceScore.html).
The combinations are the COMPLIANT and NON_COMPLIANT results the report reads.

Exempt results (NON_COMPLIANT ones an active exemption covers) are left out of the score
altogether, in neither the compliant nor the non-compliant count: an exemption is an accepted
exception, so it neither lowers the score nor raises it as if the resource passed. They are
counted on their own (``exempt``), and a rule whose only failures are exempt is compliant (or
``no results`` without a compliant one) rather than non-compliant.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import rulebook
from tally import RuleTally

# A control takes the first of these that any of its rules has: one failing rule fails it, and it
# is compliant only when every one of its rules is.
STATUS_ORDER = ("non-compliant", "manual", "no results", "not deployed", "compliant")


def rule_status(rule: RuleTally | None, manual: bool) -> str:
    """A manual rule without results is ``manual``: Config never evaluates it, so no result means
    nobody has recorded one yet, not that it passes or fails."""
    if rule is None or not rule.found:
        return "not deployed"
    if rule.non_compliant:
        return "non-compliant"
    if rule.compliant:
        return "compliant"
    return "manual" if manual else "no results"


def score(compliant: int, non_compliant: int) -> float | None:
    total = compliant + non_compliant
    return round(100 * compliant / total, 2) if total else None


def framework_scores(
    rules: Mapping[str, RuleTally], prefix: str, enabled: Iterable[str]
) -> list[dict[str, Any]]:
    """One entry per enabled framework; ``rules`` are the stack's, by Config rule name."""
    by_suffix = {rulebook.suffix(prefix, name): rule for name, rule in rules.items()}
    known = rulebook.frameworks()
    return [_framework(name, known[name], by_suffix, prefix) for name in enabled]


def _framework(
    name: str, framework: rulebook.Framework, by_suffix: Mapping[str, RuleTally], prefix: str
) -> dict[str, Any]:
    entries = {suffix: _rule(suffix, by_suffix.get(suffix), prefix) for suffix in framework.rules}
    listed = entries.values()
    compliant = sum(e["compliant"] for e in listed)
    non_compliant = sum(e["nonCompliant"] for e in listed)
    exempt = sum(e["exempt"] for e in listed)
    return {
        "framework": name,
        "title": framework.title,
        "score": score(compliant, non_compliant),
        "rules": len(entries),
        "rulesDeployed": sum(1 for e in listed if e["status"] != "not deployed"),
        "compliant": compliant,
        # Non-compliant resources as the score counts them, rule-resource combinations: a
        # resource two of the framework's rules flag counts twice.
        "nonCompliant": non_compliant,
        # Exempt results, in neither count of the score (see the module's docstring).
        "exempt": exempt,
        "nonCompliantRules": _named(listed, "non-compliant"),
        "manualRules": _named(listed, "manual"),
        "ruleResults": list(listed),
        "controls": [
            _control(control, item, entries, prefix) for control, item in framework.controls.items()
        ],
    }


def _named(entries: Iterable[Mapping[str, Any]], status: str) -> list[str]:
    return sorted(entry["ruleName"] for entry in entries if entry["status"] == status)


def _rule(suffix: str, rule: RuleTally | None, prefix: str) -> dict[str, Any]:
    identifier = rulebook.names().get(suffix, "")
    manual = rulebook.text(identifier).manual
    return {
        "ruleName": f"{prefix}-{suffix}",
        "ruleIdentifier": identifier,
        "status": rule_status(rule, manual),
        "manual": manual,
        "compliant": rule.compliant if rule else 0,
        "nonCompliant": rule.non_compliant if rule else 0,
        "exempt": rule.exempt if rule else 0,
    }


def _control(
    control: str, item: rulebook.Control, entries: Mapping[str, dict[str, Any]], prefix: str
) -> dict[str, Any]:
    # A control may name a rule the framework's own list lacks; it is then not deployed.
    statuses = {entries[s]["status"] if s in entries else "not deployed" for s in item.rules}
    return {
        "control": control,
        "title": item.title,
        "status": next((s for s in STATUS_ORDER if s in statuses), "no results"),
        "rules": [f"{prefix}-{suffix}" for suffix in item.rules],
    }
