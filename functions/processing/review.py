"""The daily exemption review: the owner hears 14 days before an exemption expires, and on the day.

Invoked by the stack's ``ExemptionReviewRule`` with ``{"kind": "exemption-review"}`` in every
account and region processing runs in. Each notice is sent once per exemption, account and
region: a marker object in the reports bucket is claimed with ``If-None-Match: *`` before the
publish (the same claim and ``incomplete`` mechanism as a compliance change's record, see
``delivery``), so a second run or a duplicate delivery sends nothing, and a failed publish is
marked incomplete and raised, so Lambda's retry sends it.

A notice whose day passed while the review did not run (an outage, a stack updated late) is still
sent, up to ``CATCH_UP_DAYS`` later; an exemption that expired longer ago than that at its first
review is not announced (it was expired when it was deployed).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any

import changes
import chat
import delivery
import keys
from changes import RECORD_PREFIX, ComplianceChange, Notification, ProcessingSettings
from exemptions import Exemption, Exemptions

KIND = "exemption-review"
MARKER_PREFIX = f"{RECORD_PREFIX}exemption-notices/"
REMINDER_DAYS = 14
CATCH_UP_DAYS = 14
EXPIRING, EXPIRED = "exemption-expiring", "exemption-expired"
# An expiry notice names this many of the resources still failing; the report has them all.
LISTED_MAX = 20
# Failures replayed per exemption and run: each costs a few calls, and processing has 60 seconds.
# The rest are replayed by the next days' reviews (each replay is claimed once).
REPLAYS_MAX = 100


@dataclass(frozen=True)
class Notice:
    kind: str  # EXPIRING or EXPIRED
    exemption: Exemption
    key: str
    notification: Notification


def notices(
    exemptions: Exemptions,
    today: date,
    account: str,
    region: str,
    failing: Callable[[Exemption], Sequence[ComplianceChange]] = lambda _: (),
    chat_on: bool = False,
) -> list[Notice]:
    """What this account and region should have been told by ``today``, sent or not; an expiry
    notice lists the resources ``failing`` finds still failing under the exemption."""
    due = []
    for exemption in exemptions:
        if not exemption.applies_to(account, region):
            continue
        reminder = exemption.expires - timedelta(days=REMINDER_DAYS)
        if exemption.expires <= today <= exemption.expires + timedelta(days=CATCH_UP_DAYS):
            found = failing(exemption)
            due.append(_notice(EXPIRED, exemption, today, account, region, found, chat_on))
        elif max(reminder, exemption.granted) <= today < exemption.expires:
            due.append(_notice(EXPIRING, exemption, today, account, region, (), chat_on))
    return due


def marker_key(kind: str, exemption: Exemption, account: str, region: str) -> str:
    """One per notice: the expiry date is part of it, so an exemption renewed with a new date
    gets its notices again."""
    return (
        f"{MARKER_PREFIX}account={account}/region={region}/{keys.key_part(exemption.id)}/"
        f"{kind}-{exemption.expires.isoformat()}.json"
    )


def _notice(
    kind: str,
    exemption: Exemption,
    today: date,
    account: str,
    region: str,
    failing: Sequence[ComplianceChange] = (),
    chat_on: bool = False,
) -> Notice:
    expires = exemption.expires.isoformat()
    left = (exemption.expires - today).days
    if kind == EXPIRED:
        subject = f"Exemption {exemption.id} expired on {expires}"
        intro = (
            f"Exemption {exemption.id} expired on {expires} (00:00 UTC). The resources it "
            f"covered are no longer exempt. Resources still failing its rules here: "
            f"{len(failing)}; each is "
            "handled as a new violation now (handed to remediation where it is enabled, its "
            "Security Hub finding reopened and its ticket opened where those are on) and counted "
            "as non-compliant by the report. Fix them, or renew the exemption in the settings "
            "file (a new reviewed expiry) and redeploy."
        )
    else:
        subject = f"Exemption {exemption.id} expires on {expires} (in {left} days)"
        intro = (
            f"Exemption {exemption.id} expires on {expires} (00:00 UTC), in {left} days. Fix the "
            "resources it covers before then, or renew it in the settings file and redeploy."
        )
    details = [
        ("Exemption", exemption.id),
        ("Owner", exemption.owner),
        ("Reason", exemption.reason),
        ("Rules", ", ".join(sorted(exemption.rules))),
        ("Resources", ", ".join(exemption.resources)),
        *([("Type", exemption.resource_type)] if exemption.resource_type else []),
        ("Granted", exemption.granted.isoformat()),
        ("Expires", expires),
        ("Account", account),
        ("Region", region),
    ]
    lines = [intro, "", *(f"{label + ':':<13}{value}" for label, value in details)]
    if failing:
        lines += ["", "Still failing:"]
        lines += [
            f"  {c.rule_name}  {c.resource_type} {c.resource_id}" for c in failing[:LISTED_MAX]
        ]
        if len(failing) > LISTED_MAX:
            lines.append(f"  ... and {len(failing) - LISTED_MAX} more (the report lists them)")
    attributes = {
        "notificationType": kind,
        "owner": exemption.owner,
        "exemptionId": exemption.id,
        "account": account,
        "region": region,
    }
    card = (
        chat.card(
            f":hourglass: {subject}",
            [
                *details[:4],
                *([("Still failing", str(len(failing)))] if kind == EXPIRED else []),
                ("Account / region", f"{account} / {region}"),
            ],
            ["Fix the resources, or renew the exemption in the settings file and redeploy"],
            [kind, exemption.id],
        )
        if chat_on
        else None
    )
    return Notice(
        kind,
        exemption,
        marker_key(kind, exemption, account, region),
        Notification(subject, "\n".join(lines) + "\n", attributes, card),
    )


def send(notice: Notice, port: delivery.Port, request_id: str) -> bool:
    """Send one notice unless it was sent; True when this call published it.

    The claim says who started it; a marker left ``incomplete`` by a failed publish, or claimed
    under this request id (a retry of an attempt that died), is published again."""
    marker = {
        "kind": notice.kind,
        "exemption": notice.exemption.document(),
        "delivery": {"requestId": request_id, "incomplete": ["notification"]},
    }
    if not port.claim(notice.key, marker):
        existing = port.load(notice.key)
        if existing is None:
            raise RuntimeError(f"marker {notice.key} exists but could not be read back")
        state = existing.get("delivery") if isinstance(existing.get("delivery"), dict) else {}
        if not state.get("incomplete") or (
            state.get("requestId") != request_id and not state.get("lastError")
        ):
            return False  # sent, or another invocation is sending it now
        marker = existing
    try:
        message_id = port.notify(notice.notification)
    except Exception as error:
        failed = {**marker.get("delivery", {}), "lastError": f"{type(error).__name__}: {error}"}
        port.save(notice.key, {**marker, "delivery": failed})
        raise
    done = {"requestId": request_id, "messageId": message_id}
    port.save(notice.key, {**marker, "delivery": done})
    return True


@dataclass(frozen=True)
class Replays:
    """How the review finds and handles the failures an expired exemption hid: Config's current
    NON_COMPLIANT results of a rule (``results``: Config's result items) among the stack's rules
    (``rule_names``), decided with the stack's settings and today's exemptions."""

    config: ProcessingSettings
    rule_names: Callable[[], Iterable[str]]
    results: Callable[[str], Iterable[Mapping[str, Any]]]


def still_failing(
    exemption: Exemption, account: str, region: str, replays: Replays, port: Any
) -> list[tuple[ComplianceChange, dict[str, Any]]]:
    """Each resource the exemption covered that Config still finds NON_COMPLIANT here and that
    processing has not handled as a violation since the expiry: (change, the event it replays)."""
    found = []
    for name in replays.rule_names():
        identifier = replays.config.common.identifier_of(name)
        if identifier not in exemption.rules:
            continue
        for item in replays.results(name):
            event = changes.event_of_result(item, account, region)
            change = changes.parse_event(event)
            covered = exemption.covers(
                account, region, identifier, change.resource_type, change.resource_id
            )
            if covered and not _handled_since(port, change, exemption):
                found.append((change, event))
    return sorted(found, key=lambda pair: (pair[0].rule_name, pair[0].resource_id))


def _handled_since(port: Any, change: ComplianceChange, exemption: Exemption) -> bool:
    """Processing recorded a NON_COMPLIANT evaluation of this resource evaluated on or after the
    expiry (not a replay): it was notified and handed off then, as for any violation."""
    stored, _ = port.load_latest(changes.latest_key(change))
    return (
        isinstance(stored, dict)
        and stored.get("complianceType") == "NON_COMPLIANT"
        and str(stored.get("orderingTimestamp", ""))[:10] >= exemption.expires.isoformat()
        and not str(stored.get("recordKey", "")).startswith(MARKER_PREFIX)
    )


def replay_key(exemption: Exemption, change: ComplianceChange) -> str:
    """One per exemption, expiry and resource: a resource is replayed once per expiry."""
    return (
        f"{MARKER_PREFIX}account={change.account}/region={change.region}/"
        f"{keys.key_part(exemption.id)}/replays-{exemption.expires.isoformat()}/"
        f"rule={keys.key_part(change.rule_name)}/{keys.key_part(change.resource_type)}/"
        f"{keys.key_part(change.resource_id)}.json"
    )


def replay(
    change: ComplianceChange,
    event: dict[str, Any],
    exemption: Exemption,
    today: date,
    exemptions: Exemptions,
    config: ProcessingSettings,
    port: Any,
    request_id: str,
) -> str:
    """Handle a failure the expired exemption hid as a new violation: hand-off, Security Hub and
    ticket as processing decides them today, through the same claim and retry mechanism
    (``delivery``). The expiry notice is its notification, so none is sent per resource. Another
    exemption active today still covers it: nothing is done."""
    planned = changes.plan(
        change, event, config, request_id, exemptions, matched_on=today,
        key=replay_key(exemption, change),
    )  # fmt: skip
    if planned.exemption is not None:
        return "exempt"
    quiet = replace(planned, notification=None, digest_entry=None)
    record = {
        **planned.record,
        "replayOf": {"exemption": exemption.summary(), "reviewedOn": today.isoformat()},
        "delivery": {**planned.record["delivery"], "planned": list(quiet.side_effects)},
    }
    return delivery.deliver(replace(quiet, record=record), port, request_id).status


def run(
    exemptions: Exemptions,
    today: date,
    account: str,
    region: str,
    port: Any,
    request_id: str,
    replays: Replays | None = None,
) -> dict[str, Any]:
    """Every due notice, then the failures each expired exemption hid; the first failure is
    raised after the others were tried."""
    sent: list[str] = []
    replayed: list[str] = []
    failure: Exception | None = None
    failing: dict[str, list[tuple[ComplianceChange, dict[str, Any]]]] = {}

    def failing_of(exemption: Exemption) -> list[tuple[ComplianceChange, dict[str, Any]]]:
        if replays is None:
            return []
        if exemption.id not in failing:
            failing[exemption.id] = still_failing(exemption, account, region, replays, port)
        return failing[exemption.id]

    chat_on = replays is not None and replays.config.common.chat_notifications
    due = notices(
        exemptions,
        today,
        account,
        region,
        lambda e: [change for change, _ in failing_of(e)],
        chat_on,
    )
    for notice in due:
        try:
            if send(notice, port, request_id):
                sent.append(notice.key)
        except Exception as error:  # the marker says incomplete; the retry sends it
            failure = failure or error
    for notice in due:
        if notice.kind != EXPIRED or replays is None:
            continue
        for change, event in failing_of(notice.exemption)[:REPLAYS_MAX]:
            try:
                status = replay(
                    change, event, notice.exemption, today, exemptions, replays.config, port,
                    request_id,
                )  # fmt: skip
            except Exception as error:  # marked incomplete by delivery; the retry finishes it
                failure = failure or error
                continue
            if status in ("recorded", "recovered"):
                replayed.append(replay_key(notice.exemption, change))
    if failure is not None:
        raise failure
    return {"status": "reviewed", "sent": sent, "replayed": replayed}
