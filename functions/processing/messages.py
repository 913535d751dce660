"""What processing publishes to the topic: one shape for compliance changes, digests and
exemption notices, so the delivery port publishes them the same way."""

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
