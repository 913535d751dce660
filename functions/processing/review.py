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

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import delivery
import keys
from changes import RECORD_PREFIX, Notification
from exemptions import Exemption, Exemptions

KIND = "exemption-review"
MARKER_PREFIX = f"{RECORD_PREFIX}exemption-notices/"
REMINDER_DAYS = 14
CATCH_UP_DAYS = 14
EXPIRING, EXPIRED = "exemption-expiring", "exemption-expired"


@dataclass(frozen=True)
class Notice:
    kind: str  # EXPIRING or EXPIRED
    exemption: Exemption
    key: str
    notification: Notification


def notices(exemptions: Exemptions, today: date, account: str, region: str) -> list[Notice]:
    """What this account and region should have been told by ``today``, sent or not."""
    due = []
    for exemption in exemptions:
        if not exemption.applies_to(account, region):
            continue
        reminder = exemption.expires - timedelta(days=REMINDER_DAYS)
        if exemption.expires <= today <= exemption.expires + timedelta(days=CATCH_UP_DAYS):
            due.append(_notice(EXPIRED, exemption, today, account, region))
        elif max(reminder, exemption.granted) <= today < exemption.expires:
            due.append(_notice(EXPIRING, exemption, today, account, region))
    return due


def marker_key(kind: str, exemption: Exemption, account: str, region: str) -> str:
    """One per notice: the expiry date is part of it, so an exemption renewed with a new date
    gets its notices again."""
    return (
        f"{MARKER_PREFIX}account={account}/region={region}/{keys.key_part(exemption.id)}/"
        f"{kind}-{exemption.expires.isoformat()}.json"
    )


def _notice(kind: str, exemption: Exemption, today: date, account: str, region: str) -> Notice:
    expires = exemption.expires.isoformat()
    left = (exemption.expires - today).days
    if kind == EXPIRED:
        subject = f"Exemption {exemption.id} expired on {expires}"
        intro = (
            f"Exemption {exemption.id} expired on {expires} (00:00 UTC). The resources it "
            "covered are no longer exempt: the report counts them as non-compliant, their next "
            "evaluation is handed to remediation and their next change to NON_COMPLIANT is "
            "notified. Fix them, or renew the exemption in the settings file (a new reviewed "
            "expiry) and redeploy."
        )
    else:
        subject = f"Exemption {exemption.id} expires on {expires} (in {left} days)"
        intro = (
            f"Exemption {exemption.id} expires on {expires} (00:00 UTC), in {left} days. Fix the "
            "resources it covers before then, or renew it in the settings file and redeploy."
        )
    lines = [
        intro,
        "",
        f"Exemption:   {exemption.id}",
        f"Owner:       {exemption.owner}",
        f"Reason:      {exemption.reason}",
        f"Rules:       {', '.join(sorted(exemption.rules))}",
        f"Resources:   {', '.join(exemption.resources)}",
        *([f"Type:        {exemption.resource_type}"] if exemption.resource_type else []),
        f"Granted:     {exemption.granted.isoformat()}",
        f"Expires:     {expires}",
        f"Account:     {account}",
        f"Region:      {region}",
    ]
    attributes = {
        "notificationType": kind,
        "owner": exemption.owner,
        "exemptionId": exemption.id,
        "account": account,
        "region": region,
    }
    return Notice(
        kind,
        exemption,
        marker_key(kind, exemption, account, region),
        Notification(subject, "\n".join(lines) + "\n", attributes),
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


def run(
    exemptions: Exemptions, today: date, account: str, region: str, port: Any, request_id: str
) -> dict[str, Any]:
    """Every due notice; the first failure is raised after the others were tried."""
    sent: list[str] = []
    failure: Exception | None = None
    for notice in notices(exemptions, today, account, region):
        try:
            if send(notice, port, request_id):
                sent.append(notice.key)
        except Exception as error:  # the marker says incomplete; the retry sends it
            failure = failure or error
    if failure is not None:
        raise failure
    return {"status": "reviewed", "sent": sent}
