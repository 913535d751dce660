"""E-mail subject lines: short and meaningful, within what SNS accepts.

Pure text functions (no AWS), shared by the three functions; the message body keeps every detail
a subject leaves out.
"""

from __future__ import annotations

import re

_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")
_SUBJECT_MAX = 99  # SNS: one line, fewer than 100 characters (kept ASCII for every mail client)
# Our own bound, shorter than SNS's: mail clients show about this much of a subject line.
SHORT_SUBJECT_MAX = 80
_MIN_RESOURCE = 24  # of a shortened resource id: enough of both ends to tell resources apart


def subject_line(text: str) -> str:
    line = _one_ascii_line(text) or "Compliance notification"
    return line if len(line) <= _SUBJECT_MAX else line[: _SUBJECT_MAX - 3] + "..."


def _one_ascii_line(text: str) -> str:
    ascii_text = text.encode("ascii", "replace").decode("ascii")
    return " ".join(_CONTROL.sub(" ", ascii_text).split())


def short_subject(label: str, rule: str, resource: str) -> str:
    """``<label>: <rule> on <resource>`` in at most SHORT_SUBJECT_MAX characters: the resource is
    the last part of an ARN or path, shortened in the middle, then the rule at its end; the body
    keeps both in full."""
    label, rule = _one_ascii_line(label), _one_ascii_line(rule)
    name = _one_ascii_line(re.split(r"[:/]", resource.rstrip(":/"))[-1] or resource)
    room = SHORT_SUBJECT_MAX - len(label) - len(": ") - len(" on ")
    name = _middle(name, max(room - len(rule), _MIN_RESOURCE))
    rule = rule if len(rule) <= room - len(name) else rule[: room - len(name) - 3] + "..."
    return f"{label}: {rule} on {name}"


def _middle(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    head = (limit - 3 + 1) // 2
    return text[:head] + "..." + text[len(text) - (limit - 3 - head) :]
