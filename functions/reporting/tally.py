"""Counting results per rule while they stream past, keeping only what the report shows.

Counts are per rule and per account/region; every non-compliant row goes straight to the CSV
sink, and only the first ``table_limit`` rows in sorted order stay in memory for the HTML table,
so memory does not grow with the number of results.

A NON_COMPLIANT result an active exemption covers is counted ``exempt``, apart from the
non-compliant ones (so a rule whose only failures are exempt is not non-compliant), written to
the CSV as EXEMPT with the exemption's id, and left out of the HTML table of non-compliant
resources (the report lists the exemptions instead).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from collect import Result, RuleMissing

CSV_COLUMNS = (
    "ruleName",
    "ruleIdentifier",
    "account",
    "region",
    "resourceType",
    "resourceId",
    "complianceType",
    "annotation",
    "resultRecordedTime",
    # Last, so readers of the earlier columns by position keep working.
    "frameworks",
    "exemption",
)
EXEMPT = "EXEMPT"
# The exemption covering a NON_COMPLIANT result (its id), or None: given the result and the
# rule's identifier.
ExemptOf = Callable[[Result, str], str | None]
# Told of every NON_COMPLIANT result as it streams past: the result, the rule's identifier and
# the covering exemption's id (None when open), so violations are tracked without a result list.
Track = Callable[[Result, str, str | None], object]


@dataclass
class RuleTally:
    name: str
    identifier: str
    found: bool = True
    compliant: int = 0
    non_compliant: int = 0
    exempt: int = 0
    # (account, region) -> [compliant, non-compliant, exempt]
    scopes: dict[tuple[str, str], list[int]] = field(default_factory=dict)

    @property
    def evaluated(self) -> int:
        return self.compliant + self.non_compliant


@dataclass
class Tally:
    rules: dict[str, RuleTally]
    table_limit: int
    table: list[tuple[str, ...]] = field(default_factory=list)
    # Results each exemption covered, by exemption id.
    matched: dict[str, int] = field(default_factory=dict)
    # Per (account, region), summed over the rules, when the rules' own scopes are not kept
    # (an organization report: docs/organization.md); None: sum the rules' scopes.
    scope_totals: dict[tuple[str, str], list[int]] | None = None

    @property
    def exempt(self) -> int:
        return sum(r.exempt for r in self.rules.values())

    @property
    def compliant(self) -> int:
        return sum(r.compliant for r in self.rules.values())

    @property
    def non_compliant(self) -> int:
        return sum(r.non_compliant for r in self.rules.values())

    def offer(self, row: tuple[str, ...]) -> None:
        """A non-compliant row for the HTML table, which keeps the first ``table_limit``."""
        self.table.append(row)
        if len(self.table) >= 2 * self.table_limit:
            self._trim()

    def table_rows(self) -> list[tuple[str, ...]]:
        self._trim()
        return self.table

    def _trim(self) -> None:
        self.table.sort()
        del self.table[self.table_limit :]


def csv_row(
    result: Result, identifier: str, frameworks: str, exemption: str | None = None
) -> tuple[str, ...]:
    return (
        result.rule_name,
        identifier,
        result.account,
        result.region,
        result.resource_type,
        result.resource_id,
        EXEMPT if exemption else result.compliance_type,
        result.annotation,
        result.recorded,
        frameworks,
        exemption or "",
    )


def build(
    rules: Mapping[str, str],
    results_of: Callable[[str], Iterable[Result]],
    write_row: Callable[[tuple[str, ...]], object],
    table_limit: int = 1000,
    *,
    frameworks: Mapping[str, str] | None = None,
    exempt_of: ExemptOf | None = None,
    track: Track | None = None,
) -> Tally:
    """Stream every rule's results once: count them, write non-compliant rows as they come.

    ``frameworks`` gives a rule's enabled frameworks as the CSV shows them (``a;b``);
    ``exempt_of`` the exemption covering a non-compliant result; ``track`` is told of each
    non-compliant result (exempt or not) as it comes."""
    labels = frameworks or {}
    tally = Tally({name: RuleTally(name, ident) for name, ident in rules.items()}, table_limit)
    for name, identifier in rules.items():
        rule = tally.rules[name]
        try:
            for result in results_of(name):
                scope = rule.scopes.setdefault((result.account, result.region), [0, 0, 0])
                exemption = (
                    exempt_of(result, identifier)
                    if exempt_of and result.compliance_type == "NON_COMPLIANT"
                    else None
                )
                if exemption is not None:
                    rule.exempt += 1
                    scope[2] += 1
                    tally.matched[exemption] = tally.matched.get(exemption, 0) + 1
                    write_row(csv_row(result, identifier, labels.get(name, ""), exemption))
                    if track is not None:
                        track(result, identifier, exemption)
                elif result.compliance_type == "NON_COMPLIANT":
                    rule.non_compliant += 1
                    scope[1] += 1
                    row = csv_row(result, identifier, labels.get(name, ""))
                    write_row(row)
                    if track is not None:
                        track(result, identifier, None)
                    tally.offer(row)
                else:
                    rule.compliant += 1
                    scope[0] += 1
        except RuleMissing:
            rule.found = False
    return tally
