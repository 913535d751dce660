"""Storing a change and running its side effects once per evaluation, whatever the delivery.

EventBridge delivers at least once and Lambda retries a failed invocation with the same request
id. The record is written first with an S3 conditional write (``If-None-Match: *``), which doubles
as the claim on the evaluation:

* the write succeeds: this invocation owns the evaluation and runs the side effects;
* the key exists and the stored record lists ``incomplete`` side effects: an earlier attempt
  failed part-way; this invocation finishes exactly those and clears the list;
* the key exists and was written under this request id: this is Lambda retrying an attempt that
  died before it could say what it finished (a timeout), so the side effects run again;
* otherwise: a duplicate delivery of an evaluation another invocation handled, so nothing is sent.

When a side effect fails the record is rewritten with the ones still ``incomplete`` and the error
is raised, so the platform retries and, once retries run out, the event lands in the dead-letter
queue.

EventBridge may also deliver an older evaluation after a newer one. Before any side effect, the
evaluation is compared with the newest one seen for its rule and resource, kept in one object
(``changes.latest_key``) that is only ever replaced by a conditional write: ``If-None-Match: *``
for the first, ``If-Match: <ETag>`` of the version read for the others. Of two concurrent
invocations only one write can succeed; the other reads again and decides again. An evaluation
older than the stored one is *stale*: its record is rewritten marked ``stale`` with the newer
evaluation, and nothing is sent.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Protocol

import aws
import changes
import observability
import security_hub_port
import ssm_remediation
import tickets
from botocore.exceptions import ClientError
from changes import Notification, Plan
from security_hub import FindingUpdate

logger = observability.get_logger("processing.delivery")
# Each lost race means another evaluation of the same resource was written in between; a few in
# a row within one invocation is already unlikely, so after this many the platform retries.
LATEST_ATTEMPTS = 5
# Parallel S3 reads of the digest job: botocore's default pool holds 10 connections.
READ_THREADS = 8


class Port(Protocol):
    def claim(self, key: str, record: dict[str, Any]) -> bool: ...
    def load(self, key: str) -> dict[str, Any] | None: ...
    def save(self, key: str, record: dict[str, Any]) -> None: ...
    def create_latest(self, key: str, document: dict[str, Any]) -> bool: ...
    def load_latest(self, key: str) -> tuple[Any, str | None]: ...
    def replace_latest(self, key: str, document: dict[str, Any], etag: str) -> bool: ...
    def notify(self, notification: Notification) -> str: ...
    def hand_off(self, payload: dict[str, Any]) -> None: ...
    def update_security_hub(self, update: FindingUpdate) -> None: ...
    def open_ops_item(self, request: Mapping[str, Any]) -> str: ...
    def resolve_ops_item(self, ops_item_id: str) -> None: ...
    def put_remediation_exception(self, request: Mapping[str, Any]) -> None: ...
    def start_remediation_execution(self, request: Mapping[str, Any]) -> None: ...


class AwsPort:
    """The adapter to S3, SNS, Lambda, Security Hub, Systems Manager and Config; one AWS call
    per method, except Security Hub's, which finds the finding before it annotates it."""

    def __init__(
        self,
        s3: Any,
        sns: Any,
        lambda_client: Any,
        bucket: str,
        topic_arn: str,
        function: str,
        security_hub_client: Any = None,
        ssm: Any = None,
        config: Any = None,
    ) -> None:
        self._s3, self._sns, self._lambda, self._ssm = s3, sns, lambda_client, ssm
        self._bucket, self._topic_arn, self._function = bucket, topic_arn, function
        self._security_hub, self._config = security_hub_client, config

    def claim(self, key: str, record: dict[str, Any]) -> bool:
        return aws.put_json(self._s3, self._bucket, key, record, only_if_absent=True)

    def load(self, key: str) -> dict[str, Any] | None:
        document = aws.get_json(self._s3, self._bucket, key)
        return document if isinstance(document, dict) else None

    def save(self, key: str, record: dict[str, Any]) -> None:
        aws.put_json(self._s3, self._bucket, key, record)

    def create_latest(self, key: str, document: dict[str, Any]) -> bool:
        return aws.put_json_conditionally(self._s3, self._bucket, key, document, etag=None)

    def load_latest(self, key: str) -> tuple[Any, str | None]:
        return aws.get_json_with_etag(self._s3, self._bucket, key)

    def replace_latest(self, key: str, document: dict[str, Any], etag: str) -> bool:
        return aws.put_json_conditionally(self._s3, self._bucket, key, document, etag=etag)

    def notify(self, notification: Notification) -> str:
        return aws.publish(
            self._sns,
            self._topic_arn,
            notification.subject,
            notification.message,
            notification.attributes,
            notification.card,
        )

    def hand_off(self, payload: dict[str, Any]) -> None:
        # InvocationType "Event": Lambda queues the payload and answers 202 at once; remediation
        # has its own retries and dead-letter handling.
        response = self._lambda.invoke(
            FunctionName=self._function,
            InvocationType="Event",
            Payload=json.dumps(payload, sort_keys=True).encode("utf-8"),
        )
        status = response.get("StatusCode")
        if status != 202:
            raise RuntimeError(f"asynchronous invoke of {self._function} answered {status}")

    def open_ops_item(self, request: Mapping[str, Any]) -> str:
        """The id of the new OpsItem, or of the open one with the same dedup string: OpsCenter
        then refuses to create another and names the existing one."""
        try:
            return str(self._ssm.create_ops_item(**request)["OpsItemId"])
        except ClientError as error:
            existing = error.response.get("OpsItemId")
            if aws.error_code(error) == "OpsItemAlreadyExistsException" and existing:
                return str(existing)
            raise

    def resolve_ops_item(self, ops_item_id: str) -> None:
        self._ssm.update_ops_item(OpsItemId=ops_item_id, Status=tickets.RESOLVED)

    def put_remediation_exception(self, request: Mapping[str, Any]) -> None:
        ssm_remediation.put_exception(self._config, request)

    def start_remediation_execution(self, request: Mapping[str, Any]) -> None:
        ssm_remediation.start_execution(self._config, request)

    def load_many(self, keys: list[str]) -> list[dict[str, Any] | None]:
        """Documents in the order of ``keys``; read in parallel (boto3 clients are thread-safe),
        so a digest of thousands of entries fits in processing's 60-second timeout."""
        with ThreadPoolExecutor(max_workers=READ_THREADS) as pool:
            return list(pool.map(self.load, keys))

    def list_keys(self, prefix: str) -> list[str]:
        paginator = self._s3.get_paginator("list_objects_v2")
        return [
            item["Key"]
            for page in paginator.paginate(Bucket=self._bucket, Prefix=prefix)
            for item in page.get("Contents", [])
        ]

    def delete_keys(self, keys: list[str]) -> None:
        # DeleteObjects takes at most 1,000 keys a request.
        for start in range(0, len(keys), 1000):
            response = self._s3.delete_objects(
                Bucket=self._bucket,
                Delete={"Objects": [{"Key": k} for k in keys[start : start + 1000]], "Quiet": True},
            )
            if response.get("Errors"):
                raise RuntimeError(f"could not delete digest entries: {response['Errors'][:3]}")

    def update_security_hub(self, update: FindingUpdate) -> None:
        security_hub_port.apply(security_hub_port.SecurityHubPort(self._security_hub), update)


@dataclass(frozen=True)
class Outcome:
    status: str  # "recorded", "recovered", "stale" or "duplicate"
    key: str
    sent: tuple[str, ...]


def deliver(plan: Plan, port: Port, request_id: str) -> Outcome:
    if port.claim(plan.key, plan.record):
        return _run(plan, port, plan.record, plan.side_effects, "recorded")
    existing = port.load(plan.key)
    if existing is None:
        # Written a moment ago and gone now (deleted by hand?): let the retry start over.
        raise RuntimeError(f"record {plan.key} exists but could not be read back")
    delivery = existing.get("delivery") if isinstance(existing.get("delivery"), dict) else {}
    incomplete = delivery.get("incomplete")
    if isinstance(incomplete, list) and incomplete:
        pending = tuple(name for name in plan.side_effects if name in incomplete)
        return _run(plan, port, existing, pending, "recovered", clear_incomplete=True)
    if delivery.get("requestId") == request_id:
        return _run(plan, port, existing, plan.side_effects, "recovered")
    return Outcome("duplicate", plan.key, ())


def newer_evaluation(plan: Plan, port: Port) -> dict[str, Any] | None:
    """Make this evaluation the latest of its rule and resource unless a newer one is stored;
    return that newer one (this evaluation is then stale), or None."""
    key = changes.latest_key(plan.change)
    document = changes.latest_document(plan)
    if port.create_latest(key, document):
        return None
    for _ in range(LATEST_ATTEMPTS):
        stored, etag = port.load_latest(key)
        if etag is None:  # gone since (expired): start the object again
            if port.create_latest(key, document):
                return None
            continue
        rank = changes.stored_rank(stored)
        if rank is not None and rank > plan.change.rank:
            return stored
        if rank == plan.change.rank:  # this evaluation, written by an earlier attempt
            return None
        if port.replace_latest(key, document, etag):
            return None
    raise RuntimeError(f"{key} kept changing: {LATEST_ATTEMPTS} conditional writes lost")


def _run(
    plan: Plan,
    port: Port,
    record: dict[str, Any],
    pending: tuple[str, ...],
    status: str,
    *,
    clear_incomplete: bool = False,
) -> Outcome:
    # Side effects only for the newest evaluation of the rule and resource. If that cannot be
    # told, the side effects are marked incomplete like a failed one, so a redrive still
    # finishes them instead of taking the claimed record for done.
    try:
        newer = newer_evaluation(plan, port)
    except Exception as error:
        _mark_incomplete(plan, port, record, list(pending), error)
        raise
    if newer is not None:
        port.save(plan.key, changes.stale_record(record, newer))
        return Outcome("stale", plan.key, ())
    done: list[str] = []
    try:
        for name in pending:
            if name == "notification" and plan.notification is not None:
                port.notify(plan.notification)
            elif name == "securityhub" and plan.security_hub is not None:
                port.update_security_hub(plan.security_hub)
            elif name == "remediation" and plan.hand_off is not None:
                port.hand_off(plan.hand_off)
            elif name == "digest" and plan.digest_entry is not None:
                port.save(*plan.digest_entry)  # same key and content on every retry
            elif name == "ticket" and plan.ticket is not None:
                update_ticket(plan.ticket, port)
            elif name == ssm_remediation.EXCEPTION and plan.remediation_exception is not None:
                port.put_remediation_exception(plan.remediation_exception)
            elif name == ssm_remediation.EXECUTION and plan.remediation_execution is not None:
                port.start_remediation_execution(plan.remediation_execution)
            done.append(name)
    except Exception as error:
        _mark_incomplete(plan, port, record, [n for n in pending if n not in done], error)
        raise
    if clear_incomplete:
        delivery = dict(record.get("delivery") or {})
        delivery.pop("incomplete", None)
        delivery.pop("lastError", None)
        port.save(plan.key, {**record, "delivery": delivery})
    return Outcome(status, plan.key, tuple(done))


def update_ticket(ticket: tickets.Ticket, port: Port) -> None:
    """Open the OpsItem and keep its id, or resolve the one kept; safe to repeat (see tickets)."""
    if ticket.action == "open" and ticket.request is not None:
        ops_item_id = port.open_ops_item(ticket.request)
        port.save(ticket.key, tickets.opened_document(ticket, ops_item_id))
        return
    stored = port.load(ticket.key)
    ops_item_id = tickets.open_ops_item(stored)
    if ops_item_id is None or stored is None:
        # Never opened (the violation predates CreateOpsItems=true, or was exempt) or resolved
        # already by an earlier attempt: nothing to do.
        logger.info("no open ticket to resolve", extra=observability.fields(key=ticket.key))
        return
    port.resolve_ops_item(ops_item_id)
    port.save(ticket.key, tickets.resolved_document(stored, ticket))


def _mark_incomplete(
    plan: Plan, port: Port, record: dict[str, Any], remaining: list[str], error: Exception
) -> None:
    delivery = dict(record.get("delivery") or {})
    delivery["incomplete"] = remaining
    delivery["lastError"] = f"{aws.error_code(error)}: {error}"[:1000]
    try:
        port.save(plan.key, {**record, "delivery": delivery})
    except Exception as save_error:
        # The retry (same request id) still re-runs everything; only a later redrive from the
        # dead-letter queue could take the evaluation for done. Say so loudly.
        logger.error(
            "could not record the unfinished side effects; a redrive may skip them",
            extra=observability.fields(key=plan.key, incomplete=remaining, error=str(save_error)),
        )
