"""Processing function: records every Config compliance change, notifies, hands off remediation.

Entry point ``app.handler``. Configuration comes from environment variables only (see
docs/functions.md); they are read on each invocation, so importing this module never fails.
"""

from __future__ import annotations

import json
import os
import uuid
from typing import Any

import aws
import changes
import delivery
import digest
import observability
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
    namespace = config.common.namespace
    job = digest.payload(event)
    if job is not None:
        return _scheduled(job, config)
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
    request_id = observability.request_id(context) or f"local-{uuid.uuid4()}"
    plan = changes.plan(change, event, config, request_id)
    port = delivery.AwsPort(
        aws.client("s3"),
        aws.client("sns"),
        aws.client("lambda") if plan.hand_off is not None else None,
        config.common.bucket,
        config.common.topic_arn,
        config.remediation_function,
        aws.client("ssm") if plan.ticket is not None else None,
    )
    outcome = delivery.deliver(plan, port, request_id)
    # A stale evaluation is no change any more (a newer one was handled first): its record and
    # the log line below say so; it is not counted as a change.
    if outcome.status not in ("duplicate", "stale"):
        observability.emit_metrics(
            namespace,
            {"ComplianceChange": 1},
            {"RuleName": change.rule_name, "ComplianceType": change.compliance_type},
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
        ),
    )
    return {"status": outcome.status, "key": outcome.key, "sent": list(outcome.sent)}


def _digest(config: changes.ProcessingSettings) -> dict[str, Any]:
    port = delivery.AwsPort(
        aws.client("s3"),
        aws.client("sns"),
        None,
        config.common.bucket,
        config.common.topic_arn,
        config.remediation_function,
    )
    outcome = digest.run(port, config.common.bucket)
    logger.info("digests sent", extra=observability.fields(sent=outcome["sent"]))
    return outcome


# Scheduled jobs, by the constant input's "kind" (EventBridge schedule rules of the template).
JOBS = {digest.KIND: _digest}


def _scheduled(job: str, config: changes.ProcessingSettings) -> dict[str, Any]:
    run = JOBS.get(job)
    if run is None:
        # A schedule rule written by hand with a wrong input: retrying cannot help.
        logger.error("unknown scheduled job", extra=observability.fields(kind=job))
        return {"status": "rejected", "error": f"unknown kind {job!r}; known: {sorted(JOBS)}"}
    return run(config)


def _preview(event: Any) -> str:
    try:
        text = json.dumps(event, default=repr, sort_keys=True)
    except (TypeError, ValueError):  # keys of mixed types cannot be sorted
        text = repr(event)
    return text if len(text) <= _EVENT_LOG_MAX else text[:_EVENT_LOG_MAX] + "...(truncated)"
