"""Digests: for the rules in DIGEST_RULES, one message per rule and schedule instead of one per
change.

A change of such a rule that would be notified writes an entry under
``digest-pending/account=<id>/region=<region>/rule=<rule>/`` (its key comes from the change
record's key, so a retry rewrites the same object). Every member account and region of an
organization writes to the one central bucket, so each job reads only its own account and region.
The scheduled job (``{"kind": "digest"}``) then, for each rule with entries there:

1. lists the entries once (entries written later wait for the next run) and names the batch by a
   hash of their sorted keys;
2. claims ``digest-sent/account=<id>/region=<region>/rule=<rule>/<batch id>.json`` with
   ``If-None-Match: *``, the marker holding every entry of the batch (the full list the message
   points to);
3. publishes one message (newest state per resource, at most ``LINES_MAX`` lines);
4. marks the claim ``published``, then deletes the entries.

A retry of the same batch (the same entries are still there) finds the claim: it publishes only
when the claim is not marked published (the attempt died between claim and publish), then
deletes. So a digest is never lost (entries are deleted only after it is published) and never
sent twice, except when two runs of the same account and region handle one batch at the same
moment (the reserved concurrency and the hourly schedule make that rare; both would then
publish).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

import chat
import keys
from messages import Notification, evaluation

PENDING_PREFIX = "digest-pending/"
SENT_PREFIX = "digest-sent/"
ENTRY_KIND = "digest-entry"
BATCH_KIND = "digest-batch"
SCHEMA_VERSION = 1
KIND = "digest"
# Lines of changes in one message; the rest are counted ("and N more") and listed in the marker.
LINES_MAX = 50
# A card is read in a channel: fewer lines, the rest in the e-mail and the marker.
CARD_LINES_MAX = 10
ANNOTATION_MAX = 200


def scope(account: str, region: str) -> str:
    """The folder of one account and region under ``digest-pending/`` and ``digest-sent/``."""
    return f"account={keys.key_part(account)}/region={keys.key_part(region)}/"


def pending_entry(
    change: Any, identifier: str, kind: str, record_key: str, record_uri: str
) -> tuple[str, dict[str, Any]]:
    """Where and what a change of a digest rule leaves for the next digest (``change`` is a
    ``changes.ComplianceChange``; changes imports this module). Processing handles the changes
    of its own account and region only, so the change's are the job's."""
    name = hashlib.sha256(record_key.encode("utf-8")).hexdigest()[:32]
    key = (
        f"{PENDING_PREFIX}{scope(change.account, change.region)}"
        f"rule={keys.key_part(change.rule_name)}/{name}.json"
    )
    annotation = change.annotation or ""
    entry = {
        "schemaVersion": SCHEMA_VERSION,
        "kind": ENTRY_KIND,
        "changeKind": kind,
        **evaluation(change, identifier),
        "complianceType": change.compliance_type,
        "evaluated": change.ordering_text,
        "rank": list(change.rank),
        "annotation": annotation[:ANNOTATION_MAX],
        "record": record_uri,
    }
    return key, entry


def batch_id(entry_keys: Sequence[str]) -> str:
    return hashlib.sha256("\n".join(sorted(entry_keys)).encode("utf-8")).hexdigest()[:32]


def rule_prefixes(entry_keys: Sequence[str], prefix: str) -> dict[str, list[str]]:
    """Entry keys listed under ``prefix`` grouped by their ``rule=...`` folder, each group
    sorted."""
    groups: dict[str, list[str]] = {}
    for key in sorted(entry_keys):
        if not key.startswith(prefix):
            continue
        folder = key[len(prefix) :].split("/", 1)[0]
        if folder.startswith("rule=") and key.endswith(".json"):
            groups.setdefault(folder, []).append(key)
    return groups


def newest_per_resource(entries: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """One entry per account, region and resource: its newest evaluation; newest first."""
    newest: dict[tuple[str, ...], Mapping[str, Any]] = {}
    for entry in entries:
        where = tuple(
            str(entry.get(k)) for k in ("account", "region", "resourceType", "resourceId")
        )
        if where not in newest or list(entry.get("rank") or []) > list(
            newest[where].get("rank") or []
        ):
            newest[where] = entry
    return sorted(newest.values(), key=lambda e: list(e.get("rank") or []), reverse=True)


def message(
    entries: Sequence[Mapping[str, Any]], marker_uri: str, chat_on: bool = False
) -> Notification:
    """The digest of one rule; with ``chat_on`` (a chat channel reads the topic) also its card,
    since Chatbot shows nothing of a message without one."""
    latest = newest_per_resource(entries)
    first = latest[0]
    violations = sum(1 for e in latest if e.get("changeKind") == "violation")
    resolved = len(latest) - violations
    lines = [
        f"Changes of {first['ruleName']} ({first['ruleIdentifier']}) since the last digest: "
        f"{violations} non-compliant, {resolved} resolved "
        f"({len(entries)} changes, newest state per resource).",
        "",
    ]
    for entry in latest[:LINES_MAX]:
        state = "NON_COMPLIANT" if entry.get("changeKind") == "violation" else "RESOLVED"
        lines.append(
            f"{state:<14}{entry['resourceType']} {entry['resourceId']}  "
            f"{entry['account']} {entry['region']}  {entry['evaluated']}"
        )
    if len(latest) > LINES_MAX:
        lines.append(f"... and {len(latest) - LINES_MAX} more")
    lines += ["", f"Full list: {marker_uri}"]
    counts = f"{violations} non-compliant, {resolved} resolved"
    card = (
        chat.card(
            f":bell: Digest: {first['ruleName']}: {counts}",
            [
                ("Rule", f"{first['ruleName']} ({first['ruleIdentifier']})"),
                *(
                    (
                        "Non-compliant" if e.get("changeKind") == "violation" else "Resolved",
                        f"{e['resourceType']} {e['resourceId']} ({e['account']} / {e['region']})",
                    )
                    for e in latest[:CARD_LINES_MAX]
                ),
                *(
                    [("More", f"{len(latest) - CARD_LINES_MAX} more in the e-mail")]
                    if len(latest) > CARD_LINES_MAX
                    else []
                ),
                ("Full list", marker_uri),
            ],
            [],
            ["compliance-digest", str(first["ruleIdentifier"])],
        )
        if chat_on
        else None
    )
    return Notification(
        f"Digest: {first['ruleName']}: {counts}",
        "\n".join(lines) + "\n",
        {
            "notificationType": "compliance-digest",
            "ruleName": str(first["ruleName"]),
            "ruleIdentifier": str(first["ruleIdentifier"]),
        },
        card,
    )


class Port(Protocol):
    def list_keys(self, prefix: str) -> list[str]: ...
    def load(self, key: str) -> dict[str, Any] | None: ...
    def load_many(self, keys: list[str]) -> list[dict[str, Any] | None]: ...
    def claim(self, key: str, record: dict[str, Any]) -> bool: ...
    def save(self, key: str, record: dict[str, Any]) -> None: ...
    def delete_keys(self, keys: list[str]) -> None: ...
    def notify(self, notification: Notification) -> str: ...


def run(
    port: Port, bucket: str, account: str, region: str, chat_on: bool = False
) -> dict[str, Any]:
    """The scheduled job of one account and region: one digest per rule with pending entries
    there (see the module's doc)."""
    sent: list[str] = []
    here = scope(account, region)
    pending = f"{PENDING_PREFIX}{here}"
    for folder, entry_keys in rule_prefixes(port.list_keys(pending), pending).items():
        entries = [e for e in port.load_many(entry_keys) if _is_entry(e)]
        if not entries:  # not ours, or gone since the listing
            continue
        marker_key = f"{SENT_PREFIX}{here}{folder}/{batch_id(entry_keys)}.json"
        marker = {
            "schemaVersion": SCHEMA_VERSION,
            "kind": BATCH_KIND,
            "status": "claimed",
            "entryKeys": entry_keys,
            "entries": entries,
        }
        if not port.claim(marker_key, marker):
            stored = port.load(marker_key) or {}
            if stored.get("status") == "published":
                port.delete_keys(entry_keys)  # an earlier attempt died before deleting
                continue
        port.notify(message(entries, f"s3://{bucket}/{marker_key}", chat_on))
        port.save(marker_key, {**marker, "status": "published"})
        port.delete_keys(entry_keys)
        sent.append(marker_key)
    return {"status": "digest", "sent": sent}


def _is_entry(document: Any) -> bool:
    return (
        isinstance(document, dict)
        and document.get("kind") == ENTRY_KIND
        and all(
            isinstance(document.get(k), str)
            for k in (
                "ruleName",
                "ruleIdentifier",
                "resourceType",
                "resourceId",
                "account",
                "region",
            )
        )
    )
