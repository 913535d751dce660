"""The pure core of tickets: which Systems Manager OpsCenter OpsItem a change opens or resolves.

One OpsItem per evaluation key (account, region, rule, resource). A violation opens one; the
change back to COMPLIANT resolves it. Both steps must survive retries without a second OpsItem:

* opening sends the OperationalData key ``/aws/dedup`` with a string derived from the evaluation
  key. While an OpsItem with that string is open (or in progress), OpsCenter creates no other:
  a retry after a lost answer, or after the OpsItem id could not be stored, gets the open
  OpsItem back instead of a duplicate (docs/aws-facts.md, "Systems Manager OpsCenter");
* the OpsItem id is then stored in the reports bucket under ``ticket_key``, so the resolution
  finds it without searching (and needs no read permission on OpsCenter at all);
* resolving sets the status Resolved, which is the same request however often it is repeated.

Nothing here talks to AWS: ``delivery`` runs the plan through its port.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import keys
import messages

TICKETS_PREFIX = "tickets/"
TICKET_KIND = "compliance-ticket"
SCHEMA_VERSION = 1
SOURCE = "compliance-monitoring"
CATEGORY = "Security"
# The tag the function's policy requires on every OpsItem it creates and updates (value: the
# stack name). The generator's naming.OPS_ITEM_TAG_KEY is the same; a test ties them together.
TAG_KEY = "compliance-monitoring:stack"
DEDUP_KEY = "/aws/dedup"
EVALUATION_KEY = "compliance:evaluation"
# OpsCenter's own limits (botocore's model): Title 1-1,024, Description 1-2,048 characters. The
# title is kept far shorter: DescribeOpsItems' Title filter compares the first 100 characters.
TITLE_MAX = 100
DESCRIPTION_MAX = 2048
# Severity "1" (most severe) to "4": a rule that belongs to one of the stack's frameworks is a
# control an audit checks, so its violation ranks above a rule that is only best practice.
SEVERITY_FRAMEWORK = "2"
SEVERITY_OTHER = "3"
OPEN = "Open"
RESOLVED = "Resolved"


@dataclass(frozen=True)
class Ticket:
    """``action`` "open" with the CreateOpsItem request, or "resolve" (the id is in the bucket)."""

    action: str
    key: str
    request: Mapping[str, Any] | None
    document: Mapping[str, Any]


def ticket_key(
    account: str, region: str, rule_name: str, resource_type: str, resource_id: str
) -> str:
    """Where the OpsItem id of one evaluation key is kept."""
    return (
        f"{TICKETS_PREFIX}account={account}/region={region}/rule={keys.key_part(rule_name)}/"
        f"{keys.key_part(resource_type)}/{keys.key_part(resource_id)}.json"
    )


def dedup_string(
    account: str, region: str, rule_name: str, resource_type: str, resource_id: str
) -> str:
    """The same evaluation key always gives the same string; a hash, because a resource id may
    be 768 characters of anything."""
    text = json.dumps([account, region, rule_name, resource_type, resource_id])
    return f"{SOURCE}-{hashlib.sha256(text.encode('utf-8')).hexdigest()}"


def plan_ticket(
    *,
    kind: str | None,
    change: Any,
    identifier: str,
    frameworks: tuple[str, ...],
    checks: str,
    runbook: str,
    record_uri: str,
    stack_name: str,
    exemption: Mapping[str, Any] | None,
) -> Ticket | None:
    """What the change does to its ticket: a violation that is not exempt opens one, a
    resolution resolves the one opened before; anything else leaves tickets alone.

    ``change`` is a ``changes.ComplianceChange`` (not imported: changes imports this module).
    """
    where = (change.account, change.region, change.rule_name)
    resource = (change.resource_type, change.resource_id)
    key = ticket_key(*where, *resource)
    evaluation = messages.evaluation(change, identifier)
    if kind == "resolved":
        return Ticket("resolve", key, None, {**evaluation, "resolvedBy": record_uri})
    if kind != "violation" or exemption is not None:
        return None
    request = _create_request(
        change, identifier, frameworks, checks, runbook, record_uri, stack_name, evaluation
    )
    return Ticket("open", key, request, {**evaluation, "openedBy": record_uri})


def _create_request(
    change: Any,
    identifier: str,
    frameworks: tuple[str, ...],
    checks: str,
    runbook: str,
    record_uri: str,
    stack_name: str,
    evaluation: Mapping[str, Any],
) -> dict[str, Any]:
    # No /aws/resources: the event names the resource by type and id, not by ARN, and an ARN
    # built by guessing each type's format would link the OpsItem to a wrong resource.
    dedup = dedup_string(
        change.account, change.region, change.rule_name, change.resource_type, change.resource_id
    )
    return {
        "Title": _shortened(
            f"Non-compliant: {identifier} - {change.resource_type} {change.resource_id}",
            TITLE_MAX,
        ),
        "Description": _description(change, identifier, frameworks, checks, runbook, record_uri),
        "Source": SOURCE,
        "Category": CATEGORY,
        "Severity": SEVERITY_FRAMEWORK if frameworks else SEVERITY_OTHER,
        "OperationalData": {
            DEDUP_KEY: {
                "Type": "SearchableString",
                "Value": json.dumps({"dedupString": dedup}),
            },
            EVALUATION_KEY: {
                "Type": "SearchableString",
                "Value": json.dumps(evaluation, sort_keys=True),
            },
        },
        "Tags": [{"Key": TAG_KEY, "Value": stack_name}],
    }


def _description(
    change: Any,
    identifier: str,
    frameworks: tuple[str, ...],
    checks: str,
    runbook: str,
    record_uri: str,
) -> str:
    """Markdown, as OpsCenter shows it; the annotation is last, so a long one is what gets cut."""
    lines = [
        f"**Rule:** {change.rule_name} ({identifier})",
        f"**Checks:** {checks}",
        *([f"**Frameworks:** {', '.join(frameworks)}"] if frameworks else []),
        f"**Resource:** {change.resource_type} {change.resource_id}",
        f"**Account / region:** {change.account} / {change.region}",
        f"**Evaluated:** {change.ordering_text}",
        f"**Runbook:** {runbook}",
        f"**Record:** {record_uri}",
        "",
        "Resolved automatically when AWS Config reports the resource COMPLIANT again.",
        "",
        f"**Annotation:** {change.annotation or '(none given by the rule)'}",
    ]
    return _shortened("\n".join(lines), DESCRIPTION_MAX)


def _shortened(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def opened_document(ticket: Ticket, ops_item_id: str) -> dict[str, Any]:
    return {
        "schemaVersion": SCHEMA_VERSION,
        "kind": TICKET_KIND,
        **ticket.document,
        "opsItemId": ops_item_id,
        "status": OPEN,
    }


def resolved_document(stored: Mapping[str, Any], ticket: Ticket) -> dict[str, Any]:
    return {**stored, "status": RESOLVED, "resolvedBy": ticket.document.get("resolvedBy")}


def open_ops_item(stored: Any) -> str | None:
    """The id of the OpsItem a stored ticket says is open; None for anything else (no ticket,
    already resolved, or an object that is not one of ours)."""
    if not isinstance(stored, dict) or stored.get("kind") != TICKET_KIND:
        return None
    ops_item_id = stored.get("opsItemId")
    if stored.get("status") != OPEN or not isinstance(ops_item_id, str):
        return None
    return ops_item_id
