"""Checking untrusted JSON input (events, hand-off messages) field by field.

Every error names the field by its path, shows the value it got and says what is allowed, so a
rejected event can be understood from one log line.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

ACCOUNT_ID = re.compile(r"\d{12}")
REGION_CODE = re.compile(r"[a-z]{2}(-[a-z]+)+-\d{1,2}")
RESOURCE_TYPE = re.compile(r"[A-Za-z0-9]+::[A-Za-z0-9]*::[A-Za-z0-9]+")

_MISSING = object()
_SHOWN_MAX = 120


class ValidationError(ValueError):
    """The input is not what the function accepts; retrying it cannot help."""

    def __init__(self, field: str, value: Any, expected: str) -> None:
        self.field = field
        self.value = value
        self.expected = expected
        super().__init__(f"{field}: expected {expected}; got {shown(value)}")


def shown(value: Any) -> str:
    """A short, single-line rendering of a bad value for error messages."""
    if value is _MISSING:
        return "nothing (the field is missing)"
    text = repr(value)
    return text if len(text) <= _SHOWN_MAX else text[: _SHOWN_MAX - 3] + "..."


def require_object(value: Any, field: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ValidationError(field, value, "a JSON object")
    return value


def optional_object(parent: Mapping[str, Any], key: str, path: str) -> Mapping[str, Any] | None:
    """An object that may be absent or null."""
    value = parent.get(key)
    if value is None:
        return None
    return require_object(value, _join(path, key))


def string(
    parent: Mapping[str, Any],
    key: str,
    path: str,
    *,
    pattern: re.Pattern[str] | None = None,
    description: str = "a non-empty string",
    max_length: int = 1024,
) -> str:
    value = parent.get(key, _MISSING)
    field = _join(path, key)
    if not isinstance(value, str) or not value.strip() or len(value) > max_length:
        raise ValidationError(field, value, f"{description} (at most {max_length} characters)")
    if pattern is not None and not pattern.fullmatch(value):
        raise ValidationError(field, value, description)
    return value


def optional_string(
    parent: Mapping[str, Any], key: str, path: str, *, max_length: int = 4096
) -> str | None:
    """A string that may be absent or null (for instance a rule's annotation)."""
    value = parent.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > max_length:
        raise ValidationError(
            _join(path, key), value, f"a string of at most {max_length} characters, or null"
        )
    return value


def choice(parent: Mapping[str, Any], key: str, path: str, allowed: tuple[str, ...]) -> str:
    value = parent.get(key, _MISSING)
    if not isinstance(value, str) or value not in allowed:
        raise ValidationError(_join(path, key), value, "one of " + ", ".join(allowed))
    return value


def timestamp(parent: Mapping[str, Any], key: str, path: str) -> datetime:
    """An ISO 8601 timestamp with a time zone, returned in UTC."""
    value = parent.get(key, _MISSING)
    parsed = parse_timestamp(value)
    if parsed is None:
        raise ValidationError(
            _join(path, key),
            value,
            "an ISO 8601 timestamp with a time zone, e.g. 2024-05-01T12:00:00.000Z",
        )
    return parsed


def parse_timestamp(value: Any) -> datetime | None:
    if not isinstance(value, str) or not 10 <= len(value) <= 40:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        return None
    return parsed.astimezone(UTC)


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key
