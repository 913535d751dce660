"""The summary's score fields and how they moved since the previous run.

The score is the framework score's definition (scores.score) over all rule-resource results:
compliant / (compliant + non-compliant) * 100, rounded to 2 decimals, None without results;
exempt results are in neither count. Previous values come from the previous complete run's
summary; a summary written before the score existed has it computed from its counts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from scores import score
from tally import Tally


def _count(value: Any) -> int | None:
    # bool is an int to Python, never a count in a summary.
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def counted_score(counts: Mapping[str, Any]) -> float | None:
    """A stored ``score`` when it is a number, else computed from ``compliant`` and
    ``nonCompliant`` (None when they are missing or both 0)."""
    stored = _number(counts.get("score"))
    if stored is not None:
        return stored
    compliant, non_compliant = _count(counts.get("compliant")), _count(counts.get("nonCompliant"))
    if compliant is None or non_compliant is None:
        return None
    return score(compliant, non_compliant)


def change(now: float | None, before: float | None) -> float | None:
    return round(now - before, 2) if now is not None and before is not None else None


def totals(tally: Tally, previous: Mapping[str, Any] | None) -> dict[str, Any]:
    now = score(tally.compliant, tally.non_compliant)
    before_totals = previous.get("totals") if isinstance(previous, Mapping) else None
    before = counted_score(before_totals) if isinstance(before_totals, Mapping) else None
    return {"score": now, "previousScore": before, "scoreChange": change(now, before)}


def _by(previous: Mapping[str, Any] | None, section: str, name: str) -> dict[str, Mapping]:
    listed = previous.get(section) if isinstance(previous, Mapping) else None
    return {
        entry[name]: entry
        for entry in (listed if isinstance(listed, list) else [])
        if isinstance(entry, Mapping) and isinstance(entry.get(name), str)
    }


def previous_non_compliant(previous: Mapping[str, Any] | None) -> dict[str, int | None]:
    """Each rule's non-compliant count in the previous run, by rule name."""
    return {
        name: _count(rule.get("nonCompliant"))
        for name, rule in _by(previous, "rules", "ruleName").items()
    }


def previous_framework_scores(previous: Mapping[str, Any] | None) -> dict[str, float | None]:
    return {
        name: counted_score(entry)
        for name, entry in _by(previous, "frameworks", "framework").items()
    }


def accounts(tally: Tally) -> list[dict[str, Any]]:
    """Per (account, region), summed over the rules, sorted by account then region."""
    summed: dict[tuple[str, str], list[int]] = dict(tally.scope_totals or {})
    for rule in tally.rules.values() if tally.scope_totals is None else ():
        for scope, counts in rule.scopes.items():
            total = summed.setdefault(scope, [0, 0, 0])
            for index, value in enumerate(counts):
                total[index] += value
    return [
        {
            "account": account,
            "region": region,
            "compliant": compliant,
            "nonCompliant": non_compliant,
            "exempt": exempt,
            "score": score(compliant, non_compliant),
        }
        for (account, region), (compliant, non_compliant, exempt) in sorted(summed.items())
    ]


def trend_point(point: Mapping[str, Any]) -> dict[str, Any]:
    """A trend point with ``score`` (computed for an old point) and ``exempt`` (0 when absent)."""
    return {
        **point,
        "score": counted_score(point),
        "exempt": _count(point.get("exempt")) or 0,
    }


def frameworks(
    entries: Sequence[Mapping[str, Any]], previous: Mapping[str, Any] | None
) -> list[dict[str, Any]]:
    before = previous_framework_scores(previous)
    return [{**entry, "previousScore": before.get(entry["framework"])} for entry in entries]


def score_text(value: float | None) -> str:
    return "n/a (no evaluated resources)" if value is None else f"{value:.2f}%"


def headline(totals_: Mapping[str, Any]) -> str:
    """``Score 93.41% (+1.25 since the last run)``; the message's and the card's score line."""
    text = f"Score {score_text(totals_['score'])}"
    if totals_["scoreChange"] is not None:
        text += f" ({totals_['scoreChange']:+.2f} since the last run)"
    return text


def changes_text(changes: Mapping[str, Any]) -> str:
    if changes["previousRunId"] is None:
        return f"first tracked run: {changes['stillOpen']} open"
    return (
        f"{changes['new']} new, {changes['regressed']} regressed, {changes['fixed']} fixed, "
        f"{changes['stillOpen']} still open since run {changes['previousRunId']}"
    )
