"""Reading the configuration the template sets as environment variables.

Import never reads the environment: the handler calls these readers on each invocation (they are
cheap), so a wrong value fails that invocation with an error naming the variable, the value and
what is allowed, instead of breaking the module import.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import rulebook
from validation import shown

_BUCKET = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
_TOPIC_ARN = re.compile(r"arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}(\.fifo)?")
# The template's RuleNamePrefix constraint: Config rule names are <prefix>-<suffix>.
_RULE_NAME_PREFIX = re.compile(r"[A-Za-z][A-Za-z0-9-]{0,39}")
IDENTIFIER = re.compile(r"[A-Z0-9_]{1,128}")
_NAMESPACE = re.compile(r"[A-Za-z0-9 ._/#:-]{1,255}")
_URL = re.compile(r"https?://\S+")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
# AWS reserves this tag prefix in any letter case. The same constant is in
# compliance_template/parameters.py (the template refuses such keys at deploy time); this code
# cannot import the package, so tests/functions/test_reserved_tag_prefix.py ties them together.
RESERVED_TAG_PREFIX = "aws:"
_TAG_KEY = re.compile(r"[\w .:/=+@-]{1,128}")


class ConfigurationError(ValueError):
    """An environment variable is missing or invalid: fix the stack, then redrive the DLQ."""


def required(env: Mapping[str, str], name: str) -> str:
    value = env.get(name, "").strip()
    if not value:
        raise ConfigurationError(f"environment variable {name} is required but is not set")
    return value


def optional(env: Mapping[str, str], name: str, default: str) -> str:
    value = env.get(name, "").strip()
    return value or default


def matching(env: Mapping[str, str], name: str, pattern: re.Pattern[str], what: str) -> str:
    value = required(env, name)
    if not pattern.fullmatch(value):
        raise invalid(name, value, what)
    return value


def choice(env: Mapping[str, str], name: str, allowed: tuple[str, ...], default: str) -> str:
    value = optional(env, name, default)
    if value not in allowed:
        raise invalid(name, value, "one of " + ", ".join(allowed))
    return value


def integer(env: Mapping[str, str], name: str, low: int, high: int, default: int) -> int:
    text = optional(env, name, str(default))
    try:
        value = int(text)
    except ValueError:
        raise invalid(name, text, f"a whole number from {low} to {high}") from None
    if not low <= value <= high:
        raise invalid(name, text, f"a whole number from {low} to {high}")
    return value


def boolean(env: Mapping[str, str], name: str, default: bool) -> bool:
    text = optional(env, name, "true" if default else "false").lower()
    if text not in ("true", "false"):
        raise invalid(name, text, "true or false")
    return text == "true"


def tag_key(env: Mapping[str, str], name: str, default: str) -> str:
    value = optional(env, name, default)
    if not _TAG_KEY.fullmatch(value) or value.lower().startswith(RESERVED_TAG_PREFIX):
        raise invalid(
            name,
            value,
            f"a tag key of 1 to 128 characters, not starting with {RESERVED_TAG_PREFIX} "
            "in any letter case",
        )
    return value


def json_value(env: Mapping[str, str], name: str, default: str) -> Any:
    text = optional(env, name, default)
    try:
        return json.loads(text)
    except ValueError as exc:
        raise invalid(name, text, f"valid JSON ({exc})") from None


def identifier_list(env: Mapping[str, str], name: str) -> tuple[str, ...]:
    """A JSON list of catalog identifiers, e.g. ["S3_BUCKET_SERVER_SIDE_ENCRYPTION_ENABLED"]."""
    value = json_value(env, name, "[]")
    if not isinstance(value, list) or not all(
        isinstance(item, str) and IDENTIFIER.fullmatch(item) for item in value
    ):
        raise invalid(
            name,
            env.get(name, ""),
            'a JSON list of rule identifiers such as ["S3_BUCKET_SERVER_SIDE_ENCRYPTION_ENABLED"]',
        )
    return tuple(dict.fromkeys(value))


def invalid(name: str, value: str, allowed: str) -> ConfigurationError:
    return ConfigurationError(f"environment variable {name} is {shown(value)}; allowed: {allowed}")


@dataclass(frozen=True)
class CommonSettings:
    """The variables all three functions share."""

    bucket: str
    topic_arn: str
    rule_name_prefix: str
    frameworks: tuple[str, ...]  # names in the rulebook; empty: rules only
    namespace: str
    runbook_base_url: str
    log_level: str
    # A chat channel reads the topic: notifications carry its card too (chat.py).
    chat_notifications: bool = False

    def identifier_of(self, rule_name: str) -> str | None:
        """The rule's identifier; None when the rule is not this stack's."""
        return rulebook.identifier(self.rule_name_prefix, rule_name)


def common(env: Mapping[str, str]) -> CommonSettings:
    return CommonSettings(
        bucket=matching(env, "REPORTS_BUCKET", _BUCKET, "an S3 bucket name"),
        topic_arn=matching(env, "TOPIC_ARN", _TOPIC_ARN, "an SNS topic ARN"),
        rule_name_prefix=matching(
            env,
            "RULE_NAME_PREFIX",
            _RULE_NAME_PREFIX,
            "1 to 40 letters, digits or -, starting with a letter (the stack's RuleNamePrefix)",
        ),
        frameworks=_frameworks(env),
        namespace=_namespace(env),
        runbook_base_url=_runbook_base_url(env),
        log_level=log_level(env),
        chat_notifications=boolean(env, "CHAT_NOTIFICATIONS", False),
    )


def log_level(env: Mapping[str, str]) -> str:
    """Read first and on its own, so even a configuration error is logged at the right level."""
    level = optional(env, "LOG_LEVEL", "INFO").upper()
    return level if level in LOG_LEVELS else "INFO"


def _frameworks(env: Mapping[str, str]) -> tuple[str, ...]:
    # Empty: a stack of rules only. Checked against the packaged rulebook, which is the same for
    # every stack, so a name the generator wrote but these functions do not know is caught here.
    text = optional(env, "FRAMEWORKS", "")
    names = tuple(dict.fromkeys(n.strip() for n in text.split(",") if n.strip()))
    known = rulebook.frameworks()
    unknown = [name for name in names if name not in known]
    if unknown:
        raise invalid(
            "FRAMEWORKS",
            text,
            f"empty or comma-separated framework names of the rulebook (not {', '.join(unknown)}): "
            + ", ".join(sorted(known)),
        )
    return names


def _namespace(env: Mapping[str, str]) -> str:
    value = optional(env, "METRICS_NAMESPACE", "ComplianceMonitoring")
    if not _NAMESPACE.fullmatch(value) or value.startswith(("AWS/", ":")):
        raise invalid(
            "METRICS_NAMESPACE",
            value,
            "a CloudWatch namespace: 1 to 255 letters, "
            "digits or . _ - / # : and space, not starting with AWS/ or :",
        )
    return value


def _runbook_base_url(env: Mapping[str, str]) -> str:
    value = optional(env, "RUNBOOK_BASE_URL", "")
    if value and not _URL.fullmatch(value):
        raise invalid("RUNBOOK_BASE_URL", value, "empty or an http(s) URL without spaces")
    return value.rstrip("/")
