"""AWS-native remediation (SSM Automation through AWS Config): what processing does for it.

The generator deploys an ``AWS::Config::RemediationConfiguration`` per rule whose engine is
``ssm`` and tells processing about those rules in SSM_REMEDIATION (docs/functions.md):

* ``config``: Config starts the remediation itself (automatic in enforce, manual in dry-run);
* ``processing``: the rule has settings exemptions, so its configuration is manual in every mode
  and, in enforce mode, processing starts the remediation of a non-exempt NON_COMPLIANT resource.

For both, an exempt NON_COMPLIANT resource gets a Config remediation exception expiring with its
exemption, so neither Config nor an operator's Remediate button fixes what was exempted. AWS
documents that an exception can only be placed on a resource already NON_COMPLIANT
(https://docs.aws.amazon.com/config/latest/APIReference/API_PutRemediationExceptions.html, read
2026-12-02): the EXEMPT evaluation is exactly that moment.

Pure request builders here; the two calls (with their partial-failure checks) are at the end.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any

import settings as env_settings

STARTS = ("config", "processing")
MODES = ("off", "dry-run", "enforce")
# PutRemediationExceptions: Message is 1 to 1024 characters (API reference, read 2026-12-02).
MESSAGE_MAX = 1024
EXCEPTION = "remediation-exception"
EXECUTION = "remediation-execution"


class RemediationFailed(RuntimeError):
    """Config answered, but refused part of the request (FailedBatches or FailedItems)."""


def rules(env: Mapping[str, str]) -> dict[str, str]:
    """SSM_REMEDIATION: {"<IDENTIFIER>": "config" | "processing"}; unset or {}: no ssm rule."""
    value = env_settings.json_value(env, "SSM_REMEDIATION", "{}")
    valid = isinstance(value, dict) and all(
        isinstance(k, str) and env_settings.IDENTIFIER.fullmatch(k) and v in STARTS
        for k, v in value.items()
    )
    if not valid:
        raise env_settings.invalid(
            "SSM_REMEDIATION",
            env.get("SSM_REMEDIATION", ""),
            'a JSON object of rule identifiers to "config" or "processing", such as '
            '{"S3_BUCKET_VERSIONING_ENABLED": "config"}',
        )
    return dict(sorted(value.items()))


def mode(env: Mapping[str, str]) -> str:
    """REMEDIATION_MODE (the stack's RemediationMode); unset: off, so nothing is ever started."""
    return env_settings.choice(env, "REMEDIATION_MODE", MODES, "off")


def _exception_keys(resource_type: str, resource_id: str) -> list[dict[str, str]]:
    # RemediationExceptionResourceKey is capitalised; StartRemediationExecution's ResourceKey is
    # not (API reference, read 2026-12-02).
    return [{"ResourceType": resource_type, "ResourceId": resource_id}]


def exception_request(
    rule_name: str, resource_type: str, resource_id: str, exemption: Mapping[str, str]
) -> dict[str, Any]:
    """PutRemediationExceptions for one exempt resource. ``exemption`` is an exemption summary
    (``exemptions.Exemption.summary``); without an ``expires`` the exception never expires.
    The same exemption gives the same request, so a duplicate delivery puts it again, harmlessly
    (the API "adds a new exception or updates an existing exception")."""
    message = (
        f"Exempt by {exemption['id']} (owner {exemption.get('owner') or 'unknown'}): "
        f"{exemption.get('reason') or 'no reason given'}"
    )
    if len(message) > MESSAGE_MAX:
        message = message[: MESSAGE_MAX - 3] + "..."
    request: dict[str, Any] = {
        "ConfigRuleName": rule_name,
        "ResourceKeys": _exception_keys(resource_type, resource_id),
        "Message": message,
    }
    expires = exemption.get("expires")
    if expires:
        request["ExpirationTime"] = expiry_time(date.fromisoformat(expires))
    return request


def expiry_time(day: date) -> datetime:
    """An exemption stops applying at 00:00 UTC of its ``expires`` day (exemptions.py)."""
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def execution_request(rule_name: str, resource_type: str, resource_id: str) -> dict[str, Any]:
    return {
        "ConfigRuleName": rule_name,
        "ResourceKeys": [{"resourceType": resource_type, "resourceId": resource_id}],
    }


def starts_execution(start: str | None, remediation_mode: str) -> bool:
    """Whether processing itself starts the remediation of a non-exempt failure."""
    return start == "processing" and remediation_mode == "enforce"


def next_step(
    start: str, remediation_mode: str, document: str | None, rule_name: str, resource: str
) -> str:
    """What the notification says the AWS-native remediation does for this failure."""
    runbook = f"SSM Automation runbook {document}" if document else "its SSM Automation runbook"
    engine = f"AWS Config remediation with {runbook}"
    if remediation_mode == "off":
        return f"{engine} is deployed off (RemediationMode off): nothing runs."
    if remediation_mode == "enforce":
        who = "AWS Config starts it" if start == "config" else "the processing function starts it"
        return f"{engine}: {who} automatically (RemediationMode enforce)."
    return (
        f"{engine}, manual (RemediationMode dry-run): an operator may choose Remediate on rule "
        f"{rule_name} in the AWS Config console, or run `aws configservice "
        f"start-remediation-execution --config-rule-name {rule_name} --resource-keys "
        f"{resource}`."
    )


def resource_argument(resource_type: str, resource_id: str) -> str:
    """The --resource-keys value of the CLI command in ``next_step``."""
    return f"resourceType={resource_type},resourceId={resource_id}"


# --- the calls --------------------------------------------------------------------------------


def put_exception(config: Any, request: Mapping[str, Any]) -> None:
    failed = config.put_remediation_exceptions(**request).get("FailedBatches") or []
    if failed:
        raise RemediationFailed(
            f"PutRemediationExceptions refused {request['ConfigRuleName']}: "
            + "; ".join(str(batch.get("FailureMessage")) for batch in failed)
        )


def start_execution(config: Any, request: Mapping[str, Any]) -> None:
    response = config.start_remediation_execution(**request)
    failed = response.get("FailedItems") or []
    if failed:
        raise RemediationFailed(
            f"StartRemediationExecution refused {request['ConfigRuleName']}: "
            f"{response.get('FailureMessage') or failed}"
        )
