"""The report's view of the exemptions: each one's status on the run's day and what it matched."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from exemptions import Exemptions

EXPIRING_DAYS = 14


def entries(exemptions: Exemptions, matched: Mapping[str, int], day: date) -> list[dict[str, Any]]:
    """Every exemption, in the settings' order: active, expired or pending on ``day`` (UTC), the
    days it has left, and how many NON_COMPLIANT results of this run it covered."""
    return [
        {
            **exemption.document(),
            "status": exemption.status_on(day),
            "daysLeft": (exemption.expires - day).days,
            "matched": matched.get(exemption.id, 0),
        }
        for exemption in exemptions
    ]


def expiring_soon(listed: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Active exemptions that stop applying within EXPIRING_DAYS days."""
    return [e for e in listed if e["status"] == "active" and e["daysLeft"] <= EXPIRING_DAYS]
