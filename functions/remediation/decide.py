"""What every remediation rule's decision is made of, and the checks that come before any rule.

A rule module (``rules/``) plans from the state it read just now (never the state in the finding,
which may be stale) and returns a Plan; whether an ``act`` plan runs depends on the mode, decided
by the caller.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from findings import Finding, RemediationSettings


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


def skip_if_exempt(tags: Mapping[str, str], config: RemediationSettings) -> Plan | None:
    """Any value counts: the tag's presence is the exemption, its value the reason people give."""
    key = config.exemption_tag_key
    if key in tags:
        return Plan("skip", f"exempt: tagged {key}={tags[key]!r}", observed={"exemptionTag": key})
    return None


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
