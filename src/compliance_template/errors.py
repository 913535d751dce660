"""The one error type a user can cause: it names the field, the value and what is allowed."""

from __future__ import annotations

import json

SHOWN_MAX = 120  # characters of a value shown in a message; long values are cut


class SettingsError(ValueError):
    def __init__(self, field: str, value: object, allowed: str) -> None:
        self.field = field
        self.value = value
        self.allowed = allowed
        super().__init__(f"{field}: {shown(value)} is not allowed; {allowed}")


def shown(value: object) -> str:
    """The value as the user wrote it in JSON (`true`, `"30"`, `30.0`), on one short line."""
    try:
        text = json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError, RecursionError):
        text = json.dumps(str(value), ensure_ascii=False)
    return text if len(text) <= SHOWN_MAX else text[: SHOWN_MAX - 3] + "..."
