"""Out-of-order and concurrent deliveries: only the newest evaluation of a rule and resource is
notified, every evaluation is recorded, and a late one is recorded as stale."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import changes
import delivery
from conftest import ACCOUNT, BUCKET, PREFIX, REGION, lambda_context, load_app
from function_events import change_event
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

processing = load_app("processing")
COMPLIANCE = ("COMPLIANT", "NON_COMPLIANT", "NOT_APPLICABLE")
START = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
CONFIG = changes.load_settings(
    {
        "REPORTS_BUCKET": BUCKET,
        "TOPIC_ARN": f"arn:aws:sns:{REGION}:{ACCOUNT}:compliance",
        "RULE_NAME_PREFIX": PREFIX,
    }
)


def history(types: list[str]) -> list[dict[str, Any]]:
    """Config's evaluations of one resource, oldest first: each says what the previous was."""
    events = []
    previous = None
    for index, compliance in enumerate(types):
        moment = (START + timedelta(minutes=index)).isoformat().replace("+00:00", "Z")
        events.append(change_event(compliance, previous, ordering=moment, event_id=f"e{index}"))
        previous = compliance
    return events


def kind(event: dict[str, Any]) -> str | None:
    return changes.notification_kind(changes.parse_event(event))


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    st.lists(st.sampled_from(COMPLIANCE), min_size=2, max_size=6).flatmap(
        lambda types: st.tuples(st.just(types), st.permutations(range(len(types))))
    )
)
def test_shuffled_deliveries_notify_only_evaluations_newer_than_any_delivered_before(
    monkeypatch, case
):
    import aws
    from conftest import World
    from moto import mock_aws

    types, order = case
    events = history(types)
    with mock_aws():
        aws.reset_clients()
        world = World(monkeypatch)
        results = [
            processing.handler(events[i], lambda_context(f"req-{n}")) for n, i in enumerate(order)
        ]
        notified = [n["subject"] for n in world.notifications()]
        records = world.keys("compliance-changes/")
        [latest] = world.keys("compliance-latest/")
        latest_key = world.read_json(latest)["recordKey"]
        stale_records = [k for k in records if world.read_json(k).get("stale")]

    expected, newest_so_far = [], -1
    for n, index in enumerate(order):
        fresh = index > newest_so_far
        assert results[n]["status"] == ("recorded" if fresh else "stale"), (order, n)
        if fresh:
            newest_so_far = index
            if kind(events[index]):
                expected.append(events[index])
    assert len(records) == len(events)  # never lose a record
    assert len(stale_records) == sum(r["status"] == "stale" for r in results)
    assert latest_key == results[order.index(len(events) - 1)]["key"]
    # Notifications go out in evaluation order, so the last one read is the newest.
    assert len(notified) == len(expected)
    for subject, event in zip(notified, expected, strict=True):
        assert subject.startswith("Non-compliant:" if kind(event) == "violation" else "Resolved:")


class InterleavingStore:
    """The S3 side of `delivery.Port` in memory, with S3's guarantee: each conditional write is
    atomic, and of concurrent writes to one key at most one succeeds. ``rendezvous`` makes that
    many invocations read the latest evaluation before any of them may write it."""

    def __init__(self, rendezvous: int = 0) -> None:
        self.lock = threading.Lock()
        self.objects: dict[str, tuple[dict[str, Any], int]] = {}
        self.versions = 0
        self.latest_writes: list[tuple[str, ...]] = []
        self.notified: list[str] = []
        self.barrier = threading.Barrier(rendezvous) if rendezvous else None
        self.first_reads = rendezvous

    def _write(self, key: str, document: dict[str, Any]) -> None:
        self.versions += 1
        self.objects[key] = (json.loads(json.dumps(document)), self.versions)
        if key.startswith(changes.LATEST_PREFIX):
            self.latest_writes.append(tuple(document["rank"]))

    def claim(self, key: str, record: dict[str, Any]) -> bool:
        with self.lock:
            if key in self.objects:
                return False
            self._write(key, record)
            return True

    def load(self, key: str) -> dict[str, Any] | None:
        with self.lock:
            return self.objects[key][0] if key in self.objects else None

    def save(self, key: str, record: dict[str, Any]) -> None:
        with self.lock:
            self._write(key, record)

    def create_latest(self, key: str, document: dict[str, Any]) -> bool:
        return self.claim(key, document)

    def load_latest(self, key: str) -> tuple[Any, str | None]:
        with self.lock:
            document, version = self.objects.get(key, (None, None))
            rendezvous = self.first_reads > 0
            self.first_reads -= 1
        if rendezvous and self.barrier is not None:
            self.barrier.wait(timeout=10)  # all of them hold the same version now
        return document, None if version is None else f'"{version}"'

    def replace_latest(self, key: str, document: dict[str, Any], etag: str) -> bool:
        with self.lock:
            current = self.objects.get(key)
            if current is None or f'"{current[1]}"' != etag:
                return False  # 412 Precondition Failed
            self._write(key, document)
            return True

    def notify(self, notification: changes.Notification) -> str:
        with self.lock:
            self.notified.append(notification.message)
        return "message-id"

    def hand_off(self, payload: dict[str, Any]) -> None:
        raise AssertionError("no remediation is configured")


def plan_of(event: dict[str, Any], request_id: str) -> changes.Plan:
    return changes.plan(changes.parse_event(event), event, CONFIG, request_id)


def deliver_concurrently(store: InterleavingStore, plans: list[changes.Plan]) -> list[str]:
    outcomes: list[str] = [""] * len(plans)

    def worker(index: int) -> None:
        outcomes[index] = delivery.deliver(plans[index], store, f"req-{index}").status

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(len(plans))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return outcomes


def test_two_invocations_holding_the_same_version_cannot_both_win():
    events = history(["NON_COMPLIANT", "COMPLIANT", "NON_COMPLIANT"])
    store = InterleavingStore(rendezvous=2)
    # The first evaluation is stored; the other two arrive at once and read it together.
    first = plan_of(events[0], "req-a")
    store.create_latest(changes.latest_key(first.change), changes.latest_document(first))
    older, newer = plan_of(events[1], "req-b"), plan_of(events[2], "req-c")

    outcomes = deliver_concurrently(store, [older, newer])

    # Both read version 1; one conditional write won, the loser read again and decided again.
    assert outcomes[1] == "recorded"  # the newest evaluation always counts
    assert outcomes[0] in ("recorded", "stale")
    writes = store.latest_writes
    assert writes == sorted(writes) and len(set(writes)) == len(writes)  # never went backwards
    latest = store.objects[changes.latest_key(newer.change)][0]
    assert latest["recordKey"] == newer.key
    stale = store.objects[older.key][0].get("stale", False)
    assert stale == (outcomes[0] == "stale")
    assert len(store.notified) == (1 if stale else 2)
    assert any("Evaluated:   2024-05-01T12:02:00.000Z" in m for m in store.notified)


@settings(max_examples=25, deadline=None)
@given(st.lists(st.sampled_from(COMPLIANCE), min_size=2, max_size=8))
def test_concurrent_deliveries_keep_the_newest_and_never_move_the_latest_backwards(types):
    events = history(types)
    store = InterleavingStore()
    plans = [plan_of(event, f"req-{i}") for i, event in enumerate(events)]

    outcomes = deliver_concurrently(store, list(reversed(plans)))[::-1]

    assert outcomes[-1] == "recorded"
    assert all(outcome in ("recorded", "stale") for outcome in outcomes)
    assert store.latest_writes == sorted(store.latest_writes)
    latest = store.objects[changes.latest_key(plans[-1].change)][0]
    assert latest["recordKey"] == plans[-1].key
    for plan, outcome in zip(plans, outcomes, strict=True):
        record = store.objects[plan.key][0]
        assert record.get("stale", False) == (outcome == "stale")
