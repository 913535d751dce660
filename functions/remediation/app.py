"""Remediation function: safe automatic fixes of the findings processing hands over.

Entry point ``app.handler``, invoked asynchronously with a ``compliance-finding`` message. Mode
``off`` does nothing, ``dry-run`` (default) decides and records, ``enforce`` also acts. Each
decision re-reads the resource first and is written to the bucket and notified.
"""

from __future__ import annotations

import os
import uuid
from datetime import UTC, datetime
from typing import Any

import audit
import aws
import decide
import exemptions
import findings
import keys
import observability
import rules
import security_hub
import security_hub_port
import settings
from botocore.exceptions import BotoCoreError, ClientError
from validation import ValidationError

logger = observability.get_logger("remediation")
_OUTCOME_OF = {"skip": "skipped", "manual": "manual", "fail": "failed"}


def handler(event: Any, context: Any) -> dict[str, Any]:
    observability.configure(settings.log_level(os.environ), context)
    try:
        config = findings.load_settings(os.environ)
    except settings.ConfigurationError as error:
        logger.error("invalid configuration", extra=observability.fields(error=str(error)))
        raise
    namespace = config.common.namespace
    try:
        finding = findings.parse_finding(event)
    except ValidationError as error:
        logger.error(
            "rejected malformed remediation message",
            extra=observability.fields(
                error=str(error), field=error.field, event=repr(event)[:20_000]
            ),
        )
        observability.emit_metrics(namespace, {"MalformedEvent": 1}, {})
        return {"status": "rejected", "error": str(error)}
    if config.common.identifier_of(finding.rule_name) != finding.identifier:
        logger.warning(
            "ignored: the rule is not managed by this stack under that identifier",
            extra=observability.fields(rule=finding.rule_name, identifier=finding.identifier),
        )
        return {"status": "ignored", "rule": finding.rule_name}
    if config.mode == "off":
        logger.info(
            "remediation is off: nothing read, changed or recorded",
            extra=observability.fields(**finding.summary()),
        )
        _metric(namespace, finding, "off")
        return {"status": "off"}

    request_id = observability.request_id(context) or f"local-{uuid.uuid4()}"
    key = findings.audit_key(finding, request_id)
    plan = _plan(finding, config, context)
    auditor = audit.Auditor(aws.client("s3"), aws.client("sns"), config)
    now = keys.iso_time(datetime.now(UTC))
    if plan.kind == "act" and config.mode == "enforce":
        claim = audit.decision_record(
            finding, plan, audit.IN_PROGRESS, plan.reason, config, request_id, now
        )
        record = auditor.claim(key, claim)
        if record is None:
            outcome, reason = _execute(finding, plan)
            record = auditor.finish(
                key,
                audit.decision_record(finding, plan, outcome, reason, config, request_id, now),
                claimed=True,
            )
    else:
        outcome, reason = _without_action(plan, config.mode)
        record = auditor.finish(
            key,
            audit.decision_record(finding, plan, outcome, reason, config, request_id, now),
            claimed=False,
        )
    record = _note_security_hub(finding, record, config, auditor, key)
    auditor.notify(key, record)
    _metric(namespace, finding, record["outcome"])
    logger.info(
        f"remediation {record['outcome']}",
        extra=observability.fields(key=key, reason=record["reason"], **finding.summary()),
    )
    return {
        "status": "decided",
        "outcome": record["outcome"],
        "reason": record["reason"],
        "key": key,
    }


def _plan(
    finding: findings.Finding, config: findings.RemediationSettings, context: Any
) -> decide.Plan:
    rule = rules.for_identifier(finding.identifier)
    not_handled = decide.unsupported(finding, rule.RESOURCE_TYPE if rule else None)
    if not_handled is not None:
        return not_handled
    assert rule is not None
    exempt = decide.skip_declared_exemption(finding, _exemption(finding))
    if exempt is not None:
        return exempt
    here = os.environ.get("AWS_REGION", "")
    if here and finding.region != here:
        return decide.Plan(
            "skip", f"the resource is in {finding.region}; this function acts in {here}"
        )
    account = _account(context)
    if account and finding.account != account:
        return decide.Plan(
            "skip", f"the resource is in account {finding.account}; this function acts in {account}"
        )
    try:
        state = rule.read(aws.client, finding, config)
    except (ClientError, BotoCoreError) as error:
        return decide.Plan(
            "fail", f"could not read the current state: {aws.error_code(error)}: {error}"
        )
    return rule.plan(finding, state, config)


def _exemption(finding: findings.Finding) -> exemptions.Exemption | dict | None:
    """The exemption the message carries, else one active today; raises when the exemptions
    cannot be read (the invocation fails and is retried), never assumes there are none."""
    carried = finding.message.get("exemption")
    if isinstance(carried, dict) and carried.get("id"):
        return carried
    return exemptions.load(os.environ, lambda: aws.client("ssm")).match(
        finding.account,
        finding.region,
        finding.identifier,
        finding.resource_type,
        finding.resource_id,
        datetime.now(UTC).date(),
    )


def _execute(finding: findings.Finding, plan: decide.Plan) -> tuple[str, str]:
    assert plan.action is not None
    rule = rules.for_identifier(finding.identifier)
    assert rule is not None  # an ``act`` plan comes from the rule's module
    try:
        rule.apply(aws.client, plan.action)
    except (ClientError, BotoCoreError) as error:
        # Recorded and notified for a person, not raised: retrying a refused change (access
        # denied, invalid state) cannot succeed, and transient errors were already retried.
        return (
            "failed",
            f"{plan.reason}; {plan.action.description} failed: {aws.error_code(error)}: {error}",
        )
    return "acted", f"{plan.reason}; done: {plan.action.description}"


def _without_action(plan: decide.Plan, mode: str) -> tuple[str, str]:
    if plan.kind == "act":
        assert plan.action is not None
        return "dry-run", f"{plan.reason}; would {plan.action.description} (mode {mode})"
    return _OUTCOME_OF[plan.kind], plan.reason


def _note_security_hub(
    finding: findings.Finding,
    record: dict[str, Any],
    config: findings.RemediationSettings,
    auditor: audit.Auditor,
    key: str,
) -> dict[str, Any]:
    """The decision becomes the note of the rule and resource's Security Hub finding, after the
    audit record is stored. A failure is logged, counted and written into the record, not raised:
    a retry would decide and notify again for a note that only repeats the record."""
    if (
        config.security_hub_mode == "off"
        or record.get("securityHubNote", {}).get("status") == "added"
    ):
        return record
    update = security_hub.FindingUpdate(
        config.security_hub_mode,
        security_hub.Target(
            finding.account,
            finding.region,
            finding.rule_name,
            finding.resource_type,
            finding.resource_id,
        ),
        security_hub.remediation_note(
            record["outcome"], config.mode, record["reason"], record["runbook"]
        ),
        exempt=False,
        may_reopen=False,
    )
    try:
        security_hub_port.apply(
            security_hub_port.SecurityHubPort(aws.client("securityhub")), update
        )
        status: dict[str, Any] = {"status": "added"}
    except (ClientError, BotoCoreError, RuntimeError) as error:
        status = {"status": "missing", "error": f"{aws.error_code(error)}: {error}"[:1000]}
        logger.error(
            "could not add the decision to the Security Hub finding",
            extra=observability.fields(key=key, error=status["error"], **finding.summary()),
        )
        observability.emit_metrics(
            config.common.namespace,
            {"SecurityHubNoteFailed": 1},
            {"RuleName": finding.rule_name},
        )
    record = {**record, "securityHubNote": status}
    auditor.save(key, record)
    return record


def _account(context: Any) -> str | None:
    arn = getattr(context, "invoked_function_arn", None)
    parts = arn.split(":") if isinstance(arn, str) else []
    return parts[4] if len(parts) > 4 and parts[4] else None


def _metric(namespace: str, finding: findings.Finding, outcome: str) -> None:
    observability.emit_metrics(
        namespace, {"RemediationDecision": 1}, {"RuleName": finding.rule_name, "Outcome": outcome}
    )
