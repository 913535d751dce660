"""docs/managed-rules.md: every catalog rule's facts and where they come from, one table row a
rule, generated from the catalog by `make template` (a test fails when it is stale), so a
reviewer sees how old each fact is and what is verified."""

from __future__ import annotations

from pathlib import Path

from ..output import write_atomically
from ..paths import PROJECT_ROOT
from .catalog import CATALOG, ManagedRule

PAGE = PROJECT_ROOT / "docs" / "managed-rules.md"
ORIGINS = {
    "developer-guide-2023": "2023 guide",
    "sample-packs": "packs only",
}


def _regions(rule: ManagedRule) -> str:
    if rule.only_regions is not None:
        return "only " + ", ".join(rule.only_regions)
    return ", ".join(rule.unavailable_regions) or "none"


def _facts(rule: ManagedRule) -> str:
    facts = rule.facts
    if facts.read_on is None:
        return f"not re-read ({ORIGINS.get(facts.origin, facts.origin)})"
    return f"[{facts.read_on}]({facts.url}): " + (", ".join(sorted(facts.verified)) or "none")


def _row(rule: ManagedRule) -> str:
    triggers = " + ".join(sorted(t.value for t in rule.triggers)) or "unknown"
    parameters = ", ".join(
        f"{p.name}{'*' if p.required else ''}:{p.kind.value}"
        + (f"={p.default}" if p.default is not None else "")
        for p in rule.parameters
    )
    cells = [
        f"`{rule.identifier}`",
        rule.description.replace("|", "\\|") or "(no description yet)",
        ", ".join(rule.resource_types) or "account",
        triggers,
        parameters or "none",
        _regions(rule),
        _facts(rule),
    ]
    return "| " + " | ".join(cells) + " |"


def render_page() -> str:
    verified = sum(1 for r in CATALOG if r.facts.read_on is not None)
    lines = [
        "# Managed rules",
        "",
        "<!-- Generated from src/compliance_template/generator/data/managed_rules.json by "
        "`make template`; edit the data, not this file. -->",
        "",
        f"{len(CATALOG)} AWS Config managed rules, those AWS's sample conformance packs use; "
        f"{verified} re-read on a current AWS page. Parameters: `*` required, `=` AWS's default. "
        "Regions: where AWS does not offer the rule. Facts: the day the page was read and what "
        "was verified there, or where unverified facts come from (docs/catalog.md says how they "
        "are deployed conservatively).",
        "",
        "| Rule | Checks | Resource types | Trigger | Parameters | Not in regions | Facts |",
        "|---|---|---|---|---|---|---|",
        *(_row(rule) for rule in CATALOG),
        "",
    ]
    return "\n".join(lines)


def write_page(path: Path = PAGE) -> Path:
    write_atomically(path, render_page())
    return path
