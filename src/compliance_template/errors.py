"""The one error type a user can cause: it names the field, the value and what is allowed."""

from __future__ import annotations


class SettingsError(ValueError):
    def __init__(self, field: str, value: object, allowed: str) -> None:
        self.field = field
        self.value = value
        self.allowed = allowed
        super().__init__(f"{field}: {value!r} is not allowed; {allowed}")
