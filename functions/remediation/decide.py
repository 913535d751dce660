"""What every remediation rule's decision is made of, and the checks that come before any rule.

A rule module (``rules/``) plans from the state it read just now (never the state in the finding,
which may be stale) and returns a Plan; whether an ``act`` plan runs depends on the mode, decided
by the caller.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from exemptions import Exemption
from findings import Finding, RemediationSettings

# A tag value may say when it stops exempting: "CHG-1042 expires=2027-03-01".
_TAG_EXPIRY = re.compile(r"expires=(\d{4}-\d{2}-\d{2})")


@dataclass(frozen=True)
class Action:
    api: str  # "service:Operation", as the API names it; recorded in the audit trail
    params: Mapping[str, Any]
    description: str


@dataclass(frozen=True)
class Plan:
    kind: str  # "act", "skip" or "manual"
    reason: str
    action: Action | None = None
    observed: Mapping[str, Any] = field(default_factory=dict)


def skip_if_exempt(
    tags: Mapping[str, str], config: RemediationSettings, today: date | None = None
) -> Plan | None:
    """Any value counts: the tag's presence is the exemption, its value the reason people give.
    A value with ``expires=YYYY-MM-DD`` stops exempting on that day (UTC), like a declared
    exemption; an unreadable date is no date (the tag exempts, as without one)."""
    key = config.exemption_tag_key
    if key not in tags:
        return None
    ends = tag_expiry(tags[key])
    if ends is not None and (today or datetime.now(UTC).date()) >= ends:
        return None
    return Plan("skip", f"exempt: tagged {key}={tags[key]!r}", observed={"exemptionTag": key})


def tag_expiry(value: str) -> date | None:
    found = _TAG_EXPIRY.search(value)
    if found is None:
        return None
    try:
        return date.fromisoformat(found.group(1))
    except ValueError:
        return None


def skip_declared_exemption(
    finding: Finding, exemption: Exemption | Mapping[str, Any] | None
) -> Plan | None:
    """Processing never hands off an exempt failure; this re-check (defence in depth) also
    catches an exemption granted after the hand-off or one the message carries."""
    if exemption is None:
        return None
    summary = exemption.summary() if isinstance(exemption, Exemption) else dict(exemption)
    return Plan(
        "skip",
        f"exempt: {summary.get('id')} ({summary.get('owner')}, expires {summary.get('expires')})",
        observed={"exemption": summary},
    )


def skip_if_gone_or_exempt(
    exists: bool, tags: Mapping[str, str], config: RemediationSettings, resource: str
) -> Plan | None:
    """What every rule checks first: the resource (e.g. "the bucket") is still there and not
    exempt."""
    if not exists:
        return Plan("skip", f"{resource} no longer exists")
    return skip_if_exempt(tags, config)


def unsupported(finding: Finding, resource_type: str | None) -> Plan | None:
    """A finding no rule module handles (``resource_type`` None) or of another resource type;
    None when the rule's module handles it."""
    if resource_type is None:
        return Plan("skip", f"no automatic remediation exists for {finding.identifier}")
    if resource_type != finding.resource_type:
        return Plan(
            "skip",
            f"{finding.identifier} remediates {resource_type}, not {finding.resource_type}",
        )
    return None
