"""What changed since the previous run: each violation new, still open, regressed or fixed.

The state is the previous run's violations table (gzip'd JSON Lines, one row per tracked
violation: open, exempt, or fixed within the last ``REGRESSION_DAYS``). It is read twice from a
local copy: once into a compact index (a 16-byte digest of the violation's identity to one packed
integer: state, first seen, fixed at), and once after this run's results have streamed past, to
write the rows of violations this run did not see (fixed now, or fixed earlier and still carried).
Memory therefore holds the previous state in compact form and a bounded sample of each kind,
never this run's result list; this run's rows go to a temporary gzip file as they come.

A missing or damaged previous file makes this run the baseline (logged as a warning): the report
is never failed for it.

Definitions (docs/functions.md, "What changed"): open = NON_COMPLIANT and not exempt. new = open
now and not tracked before (or tracked exempt, or fixed longer than ``REGRESSION_DAYS`` ago);
still open = open now and open before (keeps its first-seen time); regressed = open now and
fixed before within ``REGRESSION_DAYS`` (its first-seen time restarts at this run); fixed = open
before, neither open nor exempt now, and its rule was found this run. Violations of a rule not
found this run are neither fixed nor carried.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import shutil
import tempfile
import zlib
from collections.abc import Container, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from types import TracebackType
from typing import IO, Any

import keys
import observability
from botocore.exceptions import ClientError
from collect import Result

logger = observability.get_logger("reporting.violations")

CHANGE_SAMPLES = 100
REGRESSION_DAYS = 90
# Lower bound of days open for each bucket of openByAge.
AGE_BUCKETS = (("0-6", 0), ("7-29", 7), ("30-89", 30), ("90+", 90))
STATES = ("open", "exempt", "fixed")
_OPEN, _EXEMPT, _FIXED = range(3)
_IDENTITY = ("rule_name", "account", "region", "resource_type", "resource_id")
_DAY = 86_400
_CHUNK = 1 << 20


class Damaged(ValueError):
    """A previous violations file that cannot be trusted as state."""


def violation_key(rule: str, account: str, region: str, kind: str, resource: str) -> bytes:
    """16 bytes per violation instead of its five strings: the index's whole memory cost per
    entry stays about 135 bytes (docs/functions.md, "What changed", gives the measured figure)."""
    joined = "\x1f".join((rule, account, region, kind, resource)).encode("utf-8")
    return hashlib.blake2b(joined, digest_size=16).digest()


def _pack(state: int, first_seen: int, fixed_at: int) -> int:
    # Epoch seconds fit 34 bits until the year 2514.
    return state | first_seen << 2 | fixed_at << 36


def _unpack(value: int) -> tuple[int, int, int]:
    return value & 3, (value >> 2) & ((1 << 34) - 1), value >> 36


def _seconds(moment: datetime) -> int:
    return int(moment.astimezone(UTC).timestamp())


def _iso(seconds: int) -> str:
    return keys.iso_time(datetime.fromtimestamp(seconds, UTC))


def _time(row: Mapping[str, Any], field: str, line: int) -> int:
    value = row.get(field)
    try:
        if not isinstance(value, str):
            raise ValueError
        moment = datetime.fromisoformat(value)
        if moment.tzinfo is None:
            raise ValueError
    except ValueError:
        raise Damaged(f"line {line}: {field} is {value!r}, expected an ISO 8601 UTC time") from None
    return _seconds(moment)


def _rows(source: IO[bytes]) -> Iterator[tuple[int, dict[str, Any]]]:
    source.seek(0)
    with gzip.GzipFile(fileobj=source, mode="rb") as lines:
        for number, line in enumerate(lines, 1):
            row = json.loads(line)
            if not isinstance(row, dict):
                raise Damaged(f"line {number}: expected a JSON object, got {type(row).__name__}")
            yield number, row


def _index(source: IO[bytes]) -> dict[bytes, int]:
    """The previous state, validated whole before any of it is used."""
    states: dict[bytes, int] = {}
    for number, row in _rows(source):
        for field in _IDENTITY:
            if not isinstance(row.get(field), str):
                raise Damaged(f"line {number}: {field} is {row.get(field)!r}, expected a string")
        state = row.get("state")
        if state not in STATES:
            raise Damaged(f"line {number}: state is {state!r}, expected one of {list(STATES)}")
        code = STATES.index(state)
        first_seen = _time(row, "first_seen", number)
        fixed_at = _time(row, "fixed_at", number) if code == _FIXED else 0
        states[violation_key(*(row[f] for f in _IDENTITY))] = _pack(code, first_seen, fixed_at)
    return states


def _download(s3: Any, bucket: str, uri: Any) -> IO[bytes] | None:
    """A local copy of the previous violations file, or None (warned) when there is none."""
    head = f"s3://{bucket}/"
    if not isinstance(uri, str) or not uri.startswith(head):
        logger.warning(
            "previous run names no violations file of this bucket: this run is the baseline",
            extra=observability.fields(violations=repr(uri)[:300]),
        )
        return None
    # Closed by the tracker that reads it twice (or below, when unusable).
    copy = tempfile.TemporaryFile()  # noqa: SIM115
    try:
        body = s3.get_object(Bucket=bucket, Key=uri[len(head) :])["Body"]
        shutil.copyfileobj(body, copy, _CHUNK)
    except ClientError as error:
        copy.close()
        logger.warning(
            "previous violations file unreadable: this run is the baseline",
            extra=observability.fields(violations=uri, error=str(error)),
        )
        return None
    return copy


@dataclass
class _Sample:
    """The first ``limit`` entries in sort order, trimmed as they come (as tally's table)."""

    limit: int
    items: list[tuple[Any, dict[str, Any]]]

    def add(self, order: Any, entry: dict[str, Any]) -> None:
        self.items.append((order, entry))
        if len(self.items) >= 2 * self.limit:
            self._trim()

    def entries(self) -> list[dict[str, Any]]:
        self._trim()
        return [entry for _, entry in self.items]

    def _trim(self) -> None:
        self.items.sort(key=lambda item: item[0])
        del self.items[self.limit :]


class Tracker:
    """One run's violations: ``observe`` each non-compliant result (the tally's ``track``),
    then ``finish``; ``file`` is the violations table to upload (gzip, mtime 0)."""

    def __init__(
        self,
        run_id: str,
        generated_at: str,
        moment: datetime,
        previous_run_id: str | None,
        states: dict[bytes, int],
        previous_file: IO[bytes] | None,
    ) -> None:
        self.run_id, self.generated_at = run_id, generated_at
        self.previous_run_id = previous_run_id
        self._now = _seconds(moment)
        self._states = states
        self._previous = previous_file
        # Open until the tracker's exit, after the caller uploaded it.
        self.file: IO[bytes] = tempfile.TemporaryFile()  # noqa: SIM115
        self._gzip = gzip.GzipFile(fileobj=self.file, mode="wb", mtime=0, filename="")
        self.counts = {"new": 0, "fixed": 0, "regressed": 0, "stillOpen": 0}
        self.ages = dict.fromkeys((name for name, _ in AGE_BUCKETS), 0)
        self._samples = {name: _Sample(CHANGE_SAMPLES, []) for name in self.counts}

    def __enter__(self) -> Tracker:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self._gzip.close()
        self.file.close()
        if self._previous is not None:
            self._previous.close()

    @property
    def baseline(self) -> bool:
        return self.previous_run_id is None

    def observe(self, result: Result, identifier: str, exemption: str | None) -> None:
        identity = (
            result.rule_name,
            result.account,
            result.region,
            result.resource_type,
            result.resource_id,
        )
        before = self._states.pop(violation_key(*identity), None)
        state, first_before, fixed_before = _unpack(before) if before is not None else (-1, 0, 0)
        fields = {
            "rule_identifier": identifier,
            "annotation": result.annotation,
            "recorded": result.recorded,
        }
        if exemption is not None:
            # The violation's first sighting is kept while it stays tracked; exempt is no change.
            first = first_before if state in (_OPEN, _EXEMPT) else self._now
            self._write(identity, fields, "exempt", "none", first, None, exemption)
            return
        if self.baseline:
            change, first = "stillOpen", self._now
        elif state == _OPEN:
            change, first = "stillOpen", first_before
        elif state == _FIXED and self._now - fixed_before <= REGRESSION_DAYS * _DAY:
            change, first = "regressed", self._now
        else:
            change, first = "new", self._now
        self._count(change, identity, fields, first, None)
        self._write(identity, fields, "open", _CHANGE[change], first, None, None)

    def finish(
        self, found_rules: Container[str], unread: Container[tuple[str, str]] = ()
    ) -> dict[str, Any]:
        """Write the rows of the previous violations this run did not see; the ``changes``
        section of the summary. ``found_rules``: the rules Config had this run; ``unread``:
        the (account, region) scopes it could not read (an organization's missing sources),
        whose violations, like a missing rule's, are neither fixed nor carried."""
        if self._previous is not None:
            horizon = self._now - REGRESSION_DAYS * _DAY
            for _, row in _rows(self._previous):
                identity = tuple(row[f] for f in _IDENTITY)
                before = self._states.pop(violation_key(*identity), None)
                if before is None or row["rule_name"] not in found_rules:
                    continue  # seen this run, a duplicate line, or its rule is gone
                if (row["account"], row["region"]) in unread:
                    continue  # not read this run: not evidence of a fix
                state, first_seen, fixed_at = _unpack(before)
                fields = {f: row.get(f) for f in ("rule_identifier", "annotation", "recorded")}
                if state == _OPEN:
                    self._count("fixed", identity, fields, first_seen, self._now)
                    self._write(identity, fields, "fixed", "fixed", first_seen, self._now, None)
                elif state == _FIXED and fixed_at >= horizon:
                    self._write(identity, fields, "fixed", "none", first_seen, fixed_at, None)
        self._gzip.close()
        self.file.seek(0)
        return {
            "previousRunId": self.previous_run_id,
            **self.counts,
            "openByAge": dict(self.ages),
            "samples": {name: sample.entries() for name, sample in self._samples.items()},
        }

    def _count(
        self,
        change: str,
        identity: tuple[str, ...],
        fields: Mapping[str, Any],
        first_seen: int,
        fixed_at: int | None,
    ) -> None:
        self.counts[change] += 1
        age = ((fixed_at if fixed_at is not None else self._now) - first_seen) // _DAY
        if fixed_at is None:
            bucket = next(name for name, low in reversed(AGE_BUCKETS) if age >= low)
            self.ages[bucket] += 1
        rule, account, region, kind, resource = identity
        entry = {
            "ruleName": rule,
            "ruleIdentifier": fields["rule_identifier"],
            "account": account,
            "region": region,
            "resourceType": kind,
            "resourceId": resource,
            "firstSeen": _iso(first_seen),
            "ageDays": max(0, age),
            "fixedAt": _iso(fixed_at) if fixed_at is not None else None,
        }
        # Still open: oldest first; the others in key order.
        order = (first_seen, identity) if change == "stillOpen" else identity
        self._samples[change].add(order, entry)

    def _write(
        self,
        identity: tuple[str, ...],
        fields: Mapping[str, Any],
        state: str,
        change: str,
        first_seen: int,
        fixed_at: int | None,
        exemption: str | None,
    ) -> None:
        row = {
            "run_id": self.run_id,
            "generated_at": self.generated_at,
            **dict(zip(_IDENTITY, identity, strict=True)),
            **fields,
            "state": state,
            "change": change,
            "first_seen": _iso(first_seen),
            "fixed_at": _iso(fixed_at) if fixed_at is not None else None,
            "exemption": exemption,
        }
        self._gzip.write(json_line(row))


_CHANGE = {"new": "new", "regressed": "regressed", "stillOpen": "still-open"}


def json_line(row: Mapping[str, Any]) -> bytes:
    """One JSON Lines row, the same bytes for the same content."""
    return (
        json.dumps(row, sort_keys=True, ensure_ascii=False, separators=(",", ":")) + "\n"
    ).encode("utf-8")


def start(
    s3: Any,
    bucket: str,
    previous_summary: Mapping[str, Any] | None,
    run_id: str,
    generated_at: str,
    moment: datetime,
) -> Tracker:
    """A tracker over the previous run's state; the baseline when there is none to trust."""
    if previous_summary is None:
        return Tracker(run_id, generated_at, moment, None, {}, None)
    artifacts = previous_summary.get("artifacts")
    uri = artifacts.get("violations") if isinstance(artifacts, Mapping) else None
    copy = _download(s3, bucket, uri)
    if copy is None:
        return Tracker(run_id, generated_at, moment, None, {}, None)
    try:
        states = _index(copy)
    except (Damaged, OSError, EOFError, zlib.error, UnicodeDecodeError, ValueError) as error:
        # gzip.BadGzipFile is an OSError, a JSON error a ValueError.
        copy.close()
        logger.warning(
            "previous violations file damaged: this run is the baseline",
            extra=observability.fields(violations=uri, error=str(error)[:500]),
        )
        return Tracker(run_id, generated_at, moment, None, {}, None)
    previous_run = previous_summary.get("runId")
    return Tracker(
        run_id,
        generated_at,
        moment,
        previous_run if isinstance(previous_run, str) else "unknown",
        states,
        copy,
    )


def empty(open_count: int) -> dict[str, Any]:
    """The baseline's ``changes`` without samples, for a summary built without a tracker."""
    return {
        "previousRunId": None,
        "new": 0,
        "fixed": 0,
        "regressed": 0,
        "stillOpen": open_count,
        "openByAge": {name: open_count if low == 0 else 0 for name, low in AGE_BUCKETS},
        "samples": {"new": [], "regressed": [], "fixed": [], "stillOpen": []},
    }
