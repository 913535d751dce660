"""Processing function: records every Config compliance change, notifies, hands off remediation.

Entry point ``app.handler``. Configuration comes from environment variables only (see
docs/functions.md); they are read on each invocation, so importing this module never fails.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import approvals
import aws
import changes
import config_results
import delivery
import digest
import exemptions
import observability
import review
import settings
from validation import ValidationError

logger = observability.get_logger("processing")
_EVENT_LOG_MAX = 20_000


def handler(event: Any, context: Any) -> dict[str, Any]:
    observability.configure(settings.log_level(os.environ), context)
    try:
        config = changes.load_settings(os.environ)
    except settings.ConfigurationError as error:
        logger.error("invalid configuration", extra=observability.fields(error=str(error)))
        raise
    job = SCHEDULED_JOBS.get(event.get("kind")) if isinstance(event, dict) else None
    if job is not None:
        return job(config, context)
    if approvals.is_approval_event(event):
        return _approval_requests(config, event, context)
    namespace = config.common.namespace
    try:
        change = changes.parse_event(event)
    except ValidationError as error:
        # Raising would only burn the retries and park the event in the DLQ: the log line keeps
        # the event, the metric raises the alarm.
        logger.error(
            "rejected malformed compliance-change event",
            extra=observability.fields(error=str(error), field=error.field, event=_preview(event)),
        )
        observability.emit_metrics(namespace, {"MalformedEvent": 1}, {})
        return {"status": "rejected", "error": str(error)}
    if config.common.identifier_of(change.rule_name) is None:
        logger.info(
            "ignored: the rule is not managed by this stack",
            extra=observability.fields(rule=change.rule_name, resourceId=change.resource_id),
        )
        return {"status": "ignored", "rule": change.rule_name}
    request_id = _request_id(context)
    # Raises when the exemptions cannot be read: the platform retries, nothing is decided blind.
    plan = changes.plan(change, event, config, request_id, _exemptions())
    outcome = delivery.deliver(
        plan,
        _port(
            config,
            with_lambda=plan.hand_off is not None,
            with_security_hub=plan.security_hub is not None,
            with_ssm=plan.ticket is not None,
            with_config=plan.remediation_exception is not None
            or plan.remediation_execution is not None,
        ),
        request_id,
    )
    # A stale evaluation is no change any more (a newer one was handled first): its record and
    # the log line below say so; it is not counted as a change.
    if outcome.status not in ("duplicate", "stale"):
        observability.emit_metrics(
            namespace,
            {"ComplianceChange": 1},
            {"RuleName": change.rule_name, "ComplianceType": plan.status},
        )
    logger.info(
        f"compliance change {outcome.status}",
        extra=observability.fields(
            key=outcome.key,
            sent=list(outcome.sent),
            rule=change.rule_name,
            resourceType=change.resource_type,
            resourceId=change.resource_id,
            complianceType=change.compliance_type,
            previousComplianceType=change.previous_type,
            exemption=plan.exemption["id"] if plan.exemption else None,
        ),
    )
    return {"status": outcome.status, "key": outcome.key, "sent": list(outcome.sent)}


def _approval_requests(
    config: changes.ProcessingSettings, event: dict[str, Any], context: Any
) -> dict[str, Any]:
    """Republish SSM Automation's approval requests on the notification topic (approvals.py)."""
    port = _port(config, with_lambda=False)
    request_id = _request_id(context)
    outcomes = []
    for request in approvals.parse(event):
        status = approvals.deliver(request, port, request_id, config.common.chat_notifications)
        logger.info(
            f"approval request {status}",
            extra=observability.fields(
                messageId=request.message_id,
                execution=request.fields.get("execution"),
                document=request.fields.get("document"),
            ),
        )
        outcomes.append(status)
    return {"status": "approval-requests", "outcomes": outcomes}


def _request_id(context: Any) -> str:
    return observability.request_id(context) or f"local-{uuid.uuid4()}"


def _exemptions() -> exemptions.Exemptions:
    return exemptions.load(os.environ, lambda: aws.client("ssm"))


def _port(
    config: changes.ProcessingSettings,
    with_lambda: bool,
    with_security_hub: bool = False,
    with_ssm: bool = False,
    with_config: bool = False,
) -> delivery.AwsPort:
    return delivery.AwsPort(
        aws.client("s3"),
        aws.client("sns"),
        aws.client("lambda") if with_lambda else None,
        config.common.bucket,
        config.common.topic_arn,
        config.remediation_function,
        aws.client("securityhub") if with_security_hub else None,
        aws.client("ssm") if with_ssm else None,
        aws.client("config") if with_config else None,
    )


def _exemption_review(config: changes.ProcessingSettings, context: Any) -> dict[str, Any]:
    """Tell owners of the exemptions expiring or expired here (review.py)."""
    account, region = _where(context)
    client = aws.client("config")
    port = _port(
        config,
        with_lambda=bool(config.remediation_function),
        with_security_hub=config.security_hub_mode != "off",
        with_ssm=config.ops_items,
        with_config=bool(config.ssm_remediation),
    )
    result = review.run(
        _exemptions(),
        datetime.now(UTC).date(),
        account,
        region,
        port,
        _request_id(context),
        review.Replays(
            config,
            lambda: config_results.rule_names(client),
            lambda name: config_results.non_compliant_results(client, name),
        ),
    )
    logger.info(
        "exemptions reviewed",
        extra=observability.fields(
            sent=result["sent"], replayed=result["replayed"], account=account, region=region
        ),
    )
    return result


def _digest(config: changes.ProcessingSettings, context: Any) -> dict[str, Any]:
    """One message per digest rule with pending changes of this account and region
    (digest.py)."""
    account, region = _where(context)
    if not account or not region:
        # Without them the job would list a folder no change writes to and send nothing.
        raise settings.ConfigurationError(
            f"the digest job needs its account (from the function ARN, got {account!r}) and "
            f"its region (environment variable AWS_REGION, got {region!r})"
        )
    outcome = digest.run(
        _port(config, with_lambda=False),
        config.common.bucket,
        account,
        region,
        config.common.chat_notifications,
    )
    logger.info(
        "digests sent",
        extra=observability.fields(sent=outcome["sent"], account=account, region=region),
    )
    return outcome


def _where(context: Any) -> tuple[str, str]:
    """The account (from the invoked function's ARN) and region this function runs in."""
    arn = getattr(context, "invoked_function_arn", "")
    account = arn.split(":")[4] if isinstance(arn, str) and arn.count(":") >= 5 else ""
    return account, os.environ.get("AWS_REGION", "")


# Scheduled jobs: EventBridge invokes processing with a constant {"kind": ...} (triggers.py).
SCHEDULED_JOBS: dict[str, Callable[[changes.ProcessingSettings, Any], dict[str, Any]]] = {
    review.KIND: _exemption_review,
    digest.KIND: _digest,
}


def _preview(event: Any) -> str:
    try:
        text = json.dumps(event, default=repr, sort_keys=True)
    except (TypeError, ValueError):  # keys of mixed types cannot be sorted
        text = repr(event)
    return text if len(text) <= _EVENT_LOG_MAX else text[:_EVENT_LOG_MAX] + "...(truncated)"
