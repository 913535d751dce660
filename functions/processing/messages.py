"""What processing sends on: one notification shape for compliance changes, digests and
exemption notices, so the delivery port publishes them the same way; and the fields that name
an evaluation in every message and object built from a change."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Notification:
    subject: str
    message: str
    attributes: Mapping[str, str]
    # The chat card, when a channel reads the topic (CHAT_NOTIFICATIONS); None otherwise.
    card: Mapping[str, Any] | None = None


def evaluation(change: Any, identifier: str) -> dict[str, str]:
    """Which evaluation a message or object is about: account, region, rule, resource.
    ``change`` is a ``changes.ComplianceChange`` (changes imports this module, not the reverse)."""
    return {
        "account": change.account,
        "region": change.region,
        "ruleName": change.rule_name,
        "ruleIdentifier": identifier,
        "resourceType": change.resource_type,
        "resourceId": change.resource_id,
    }
