"""Approval requests of SSM Automation's ``aws:approve`` step, passed on to people.

A disruptive remediation runs through a stack-owned runbook whose first step is ``aws:approve``
with ``NotificationArn`` = the stack's approval topic. SSM requires that topic's name to start
with "Automation" (https://docs.aws.amazon.com/systems-manager/latest/userguide/
automation-action-approve.html, read 2026-12-02), so it cannot be the notification topic people
subscribe to. Processing is subscribed to it (SNS, lambda protocol) and republishes each request
on the notification topic (e-mail, HTTPS, chat) as message kind ``approval-request``.

AWS does not document the text ``aws:approve`` publishes. So nothing here depends on it: the
raw message is always kept in the notification, and the fields are taken where they can be
found: keys of a JSON message, ``Name: value`` lines (the stack's runbook writes its own
``Message`` input that way: docs/functions.md), and an automation execution id anywhere in the
text. A field not found is said to be unknown; the request is never dropped.

Each SNS message is published once: a small record under ``compliance-changes/approval-requests/``
(inside the prefix processing may write, like the exemption notices) is claimed with
a conditional write before the publish, and marked published after it, so a duplicate delivery
sends nothing and a failed publish is retried (raised: SNS's Lambda retries, then the
subscription's dead-letter queue, keep the request).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import chat
import keys
import subjects
from delivery import Port
from messages import Notification

KIND = "approval-request"
TOPIC_PREFIX = "Automation"
RECORD_PREFIX = "compliance-changes/approval-requests/"
_EXECUTION_ID = re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b")
# Which names a field goes by, in a JSON message or a "Name: value" line (lower case).
FIELDS = {
    "execution": ("automationexecutionid", "executionid", "automation execution id"),
    "document": ("documentname", "document", "runbook"),
    "rule": ("configrulename", "rule"),
    "resource": ("resourceid", "resource"),
    "approvers": ("approvers",),
    "minimum": ("minrequiredapprovals", "minimum approvals"),
}
RAW_MAX = 4000


@dataclass(frozen=True)
class ApprovalRequest:
    message_id: str
    topic_arn: str
    sent_at: str
    raw: str
    fields: Mapping[str, str]

    def field(self, name: str) -> str:
        return self.fields.get(name) or "unknown (see the request below)"

    @property
    def region(self) -> str:
        """From the topic's ARN (arn:<partition>:sns:<region>:<account>:<name>)."""
        parts = self.topic_arn.split(":")
        return parts[3] if len(parts) == 6 else ""


def is_approval_event(event: Any) -> bool:
    """An SNS delivery whose records all come from an "Automation..." topic."""
    records = event.get("Records") if isinstance(event, dict) else None
    return (
        isinstance(records, list)
        and bool(records)
        and all(_topic_name(record).startswith(TOPIC_PREFIX) for record in records)
    )


def _sns(record: Any) -> Mapping[str, Any]:
    sns = record.get("Sns") if isinstance(record, dict) else None
    return sns if isinstance(sns, dict) else {}


def _topic_name(record: Any) -> str:
    if not isinstance(record, dict) or record.get("EventSource") != "aws:sns":
        return ""
    return str(_sns(record).get("TopicArn") or "").rsplit(":", 1)[-1]


def parse(event: Mapping[str, Any]) -> list[ApprovalRequest]:
    return [_request(_sns(record)) for record in event["Records"]]


def _request(sns: Mapping[str, Any]) -> ApprovalRequest:
    raw = str(sns.get("Message") or "")
    found: dict[str, str] = {}
    for name, value in _pairs(raw):
        for field, aliases in FIELDS.items():
            if name in aliases and value and field not in found:
                found[field] = value
    if "execution" not in found and (match := _EXECUTION_ID.search(raw)):
        found["execution"] = match.group(0)
    return ApprovalRequest(
        message_id=str(sns.get("MessageId") or ""),
        topic_arn=str(sns.get("TopicArn") or ""),
        sent_at=str(sns.get("Timestamp") or ""),
        raw=raw,
        fields=found,
    )


def _pairs(raw: str) -> list[tuple[str, str]]:
    """(lower-case name, text value) of a JSON object's keys at any depth, else of its lines."""
    try:
        document = json.loads(raw)
    except ValueError:
        document = None
    if isinstance(document, dict):
        return list(_json_pairs(document))
    pairs = []
    for line in raw.splitlines():
        name, colon, value = line.partition(":")
        if colon:
            pairs.append((name.strip().lower(), value.strip()))
    return pairs


def _json_pairs(document: Mapping[str, Any]) -> Any:
    for name, value in document.items():
        if isinstance(value, dict):
            yield from _json_pairs(value)
        elif isinstance(value, list):
            yield name.lower(), ", ".join(str(v) for v in value)
        elif value is not None:
            yield name.lower(), str(value)


def record_key(request: ApprovalRequest) -> str:
    # SNS gives every message an id; a message without one is named by its content.
    name = request.message_id or hashlib.sha256(request.raw.encode()).hexdigest()
    return f"{RECORD_PREFIX}{keys.key_part(name)}.json"


def record(request: ApprovalRequest, request_id: str) -> dict[str, Any]:
    return {
        "kind": KIND,
        "messageId": request.message_id,
        "topicArn": request.topic_arn,
        "sentAt": request.sent_at,
        "fields": dict(sorted(request.fields.items())),
        "message": request.raw,
        "delivery": {"requestId": request_id, "published": False},
    }


def notification(request: ApprovalRequest, chat_notifications: bool) -> Notification:
    region = request.region
    execution = request.fields.get("execution")
    signal = (
        f"aws ssm send-automation-signal --automation-execution-id {execution or '<id>'} "
        "--signal-type Approve"
    )
    console = (
        "Systems Manager console > Automation > the execution "
        f"{execution or '(see the request below)'} (status Waiting) > Approve/Deny"
    )
    raw = request.raw if len(request.raw) <= RAW_MAX else request.raw[:RAW_MAX] + "...(truncated)"
    lines = [
        "An automatic remediation is waiting for a named approver.",
        "",
        f"Execution:   {request.field('execution')}",
        f"Runbook:     {request.field('document')}",
        f"Rule:        {request.field('rule')}",
        f"Resource:    {request.field('resource')}",
        f"Approvers:   {request.field('approvers')}",
        f"Needs:       {request.fields.get('minimum') or 'see the request'} approval(s)",
        f"Region:      {region or 'unknown'}",
        "",
        f"To approve:  {signal}",
        "             (or --signal-type Reject; only a listed approver can signal)",
        f"Console:     {console}",
        "",
        "The request as SSM Automation sent it:",
        raw,
    ]
    attributes = {
        "notificationType": KIND,
        "region": region,
        **({"document": request.fields["document"]} if "document" in request.fields else {}),
    }
    subject = subjects.short_subject(
        "Approval needed",
        request.fields.get("document") or "remediation",
        request.fields.get("resource") or execution or "a resource",
    )
    card = (
        chat.card(
            f":raised_hand: Approval needed: {request.field('document')}",
            [
                ("Execution", request.field("execution")),
                ("Rule", request.field("rule")),
                ("Resource", request.field("resource")),
                ("Approvers", request.field("approvers")),
            ],
            [signal, console],
            [KIND, region],
            thread=f"approval/{execution or request.message_id}",
        )
        if chat_notifications
        else None
    )
    return Notification(subject, "\n".join(lines) + "\n", attributes, card)


def deliver(request: ApprovalRequest, port: Port, request_id: str, chat_notifications: bool) -> str:
    """ "published", or "duplicate" when an earlier delivery of the message published it."""
    key = record_key(request)
    document = record(request, request_id)
    if not port.claim(key, document):
        existing = port.load(key)
        if existing is None:  # written a moment ago and gone now: let the retry start over
            raise RuntimeError(f"record {key} exists but could not be read back")
        if (existing.get("delivery") or {}).get("published"):
            return "duplicate"
        document = existing  # an earlier attempt failed to publish: this one does
    port.notify(notification(request, chat_notifications))
    port.save(key, {**document, "delivery": {**document["delivery"], "published": True}})
    return "published"
