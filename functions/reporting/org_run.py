"""Collecting an organization's results in resumable segments.

The state of a collection lives in the reports bucket under ``reports/<run id>/state/``: the
plan (sources, missing sources, our rules, the batches of accounts), the progress (batch, next
page token, the fallback queue), a dense array of counts per scope and rule, the exemptions each
scope matched and the detail objects written. A segment reads until it is done or its time is
nearly up, then saves the state; the next segment (a Step Functions loop, or a retry of the
invocation) continues from the saved page. A checkpoint is also saved every
``CHECKPOINT_SECONDS``, so a crash costs at most that much reading.

Everything kept per scope can be reset (its slice of the counts, its exemption matches, its
detail object), so a scope read again (the per-rule fallback) or a batch restarted (Config no
longer accepts a saved page token) is counted once.

Each scope's non-compliant and exempt results are written as one gzip'd JSON Lines object
``reports/tables/results/dt=<date>/<run id>_<account>_<region>.json.gz`` when the scope is
complete: memory holds one scope's rows, never the organization's.
"""

from __future__ import annotations

import gzip
import json
from array import array
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import manifest
import observability
import org_collect as oc
import report_store
from aws import canonical_json, error_code
from botocore.exceptions import ClientError
from collect import Result
from tables import gzip_lines
from tally import ExemptOf, csv_row

logger = observability.get_logger("reporting.org")

STATE_VERSION = 1
CHECKPOINT_SECONDS = 120.0
UPLOAD_WORKERS = 8
_KINDS = 3  # compliant, non-compliant, exempt
Scope = tuple[str, str]
RESULT_COLUMNS = (
    "run_id",
    "rule_name",
    "rule_identifier",
    "account",
    "region",
    "resource_type",
    "resource_id",
    "compliance_type",
    "annotation",
    "result_recorded_time",
    "frameworks",
    "exemption",
)


def state_key(run: str, name: str) -> str:
    return f"{report_store.run_prefix(run)}state/{name}"


def result_key(run: str, day: str, scope: Scope) -> str:
    """One object per run, account and region, directly in the run's date partition (whether
    Athena also reads folders below a partition's location is not verified here, so none)."""
    account, region = scope
    return f"{report_store.PREFIX}tables/results/dt={day}/{run}_{account}_{region}.json.gz"


@dataclass
class Collection:
    """A collection's plan, progress and counts (what a checkpoint holds)."""

    run: str
    day: str
    rules: list[str]  # our rules the aggregator knows, sorted
    identifiers: dict[str, str]
    scopes: list[Scope]
    missing: list[oc.Missing]
    # Per scope index: [rules with results, non-compliant sum, capped] from the rule states.
    expected: list[list[int]]
    batches: list[list[str]] = field(default_factory=list)
    # Planning: the rule states are read page by page (5,200 pages at 10,000 accounts x 4
    # regions x 130 rules) and can span segments like the query.
    planned: bool = False
    states_token: str | None = None
    found: set[str] = field(default_factory=set)
    batch: int = 0
    token: str | None = None
    fallback: list[Scope] = field(default_factory=list)
    fallback_done: int = 0
    done: bool = False
    counts: array = field(default_factory=lambda: array("I"))
    matched: dict[str, dict[str, int]] = field(default_factory=dict)  # "acct/region" -> id -> n
    written: dict[str, dict[str, Any]] = field(default_factory=dict)  # "acct/region" -> entry
    # The scope being read when the checkpoint was taken: its rows so far and what was seen.
    open_scope: Scope | None = None
    open_rows: list[dict[str, Any]] = field(default_factory=list)
    open_seen: set[str] = field(default_factory=set)
    calls: int = 0
    throttled: int = 0
    segments: int = 0
    resources: int = 0

    def __post_init__(self) -> None:
        self._scope_index = {scope: i for i, scope in enumerate(self.scopes)}
        self._rule_index = {rule: i for i, rule in enumerate(self.rules)}
        missing = len(self.scopes) * len(self.rules) * _KINDS - len(self.counts)
        if missing > 0:
            self.counts.frombytes(bytes(4 * missing))

    def reindex(self) -> None:
        """Indexes (and the counts' size) after ``rules`` changed."""
        self._rule_index = {rule: i for i, rule in enumerate(self.rules)}
        self.counts = array("I", bytes(4 * len(self.scopes) * len(self.rules) * _KINDS))

    def scope_index(self, scope: Scope) -> int:
        index = self._scope_index.get(scope)
        if index is None:
            # A scope the plan did not know (an account that joined since): counted all the same.
            index = self._scope_index[scope] = len(self.scopes)
            self.scopes.append(scope)
            self.expected.append([0, 0, 0])
            self.counts.frombytes(bytes(4 * len(self.rules) * _KINDS))
        return index

    def rule_index(self, rule: str) -> int | None:
        return self._rule_index.get(rule)

    def add(self, scope_index: int, rule_index: int, kind: int) -> None:
        self.counts[(scope_index * len(self.rules) + rule_index) * _KINDS + kind] += 1

    def reset_scope(self, scope: Scope) -> None:
        index = self.scope_index(scope)
        width = len(self.rules) * _KINDS
        start = index * width
        self.counts[start : start + width] = array("I", bytes(4 * width))
        self.matched.pop(_name(scope), None)
        self.written.pop(_name(scope), None)

    def rule_totals(self) -> dict[str, list[int]]:
        width = len(self.rules)
        totals = [[0, 0, 0] for _ in self.rules]
        for base in range(0, len(self.counts), _KINDS):
            row = totals[(base // _KINDS) % width]
            row[0] += self.counts[base]
            row[1] += self.counts[base + 1]
            row[2] += self.counts[base + 2]
        return {rule: totals[i] for i, rule in enumerate(self.rules)}

    def scope_counts(self) -> Iterable[tuple[Scope, str, tuple[int, int, int]]]:
        """(scope, rule, counts) for every pair with results, scopes then rules in order."""
        width = len(self.rules)
        for s, scope in enumerate(self.scopes):
            for r, rule in enumerate(self.rules):
                base = (s * width + r) * _KINDS
                counts = (self.counts[base], self.counts[base + 1], self.counts[base + 2])
                if any(counts):
                    yield scope, rule, counts

    def scope_totals(self) -> dict[Scope, list[int]]:
        summed: dict[Scope, list[int]] = {}
        for scope, _, counts in self.scope_counts():
            total = summed.setdefault(scope, [0, 0, 0])
            for i in range(_KINDS):
                total[i] += counts[i]
        return summed

    def matched_totals(self) -> dict[str, int]:
        totals: dict[str, int] = {}
        for per_scope in self.matched.values():
            for exemption, count in per_scope.items():
                totals[exemption] = totals.get(exemption, 0) + count
        return totals

    def document(self) -> dict[str, Any]:
        return {
            "version": STATE_VERSION,
            "run": self.run,
            "day": self.day,
            "rules": self.rules,
            "identifiers": self.identifiers,
            "scopes": [list(s) for s in self.scopes],
            "missing": [[m.account, m.region, m.reason] for m in self.missing],
            "expected": self.expected,
            "batches": self.batches,
            "planned": self.planned,
            "statesToken": self.states_token,
            "found": sorted(self.found),
            "batch": self.batch,
            "token": self.token,
            "fallback": [list(s) for s in self.fallback],
            "fallbackDone": self.fallback_done,
            "done": self.done,
            "matched": self.matched,
            "written": self.written,
            "openScope": list(self.open_scope) if self.open_scope else None,
            "openRows": self.open_rows,
            "openSeen": sorted(self.open_seen),
            "calls": self.calls,
            "throttled": self.throttled,
            "segments": self.segments,
            "resources": self.resources,
        }

    @classmethod
    def from_document(cls, document: Mapping[str, Any], counts: bytes) -> Collection:
        if document.get("version") != STATE_VERSION:
            raise ValueError(f"checkpoint version {document.get('version')!r}")
        values = array("I")
        values.frombytes(counts)
        open_scope = document.get("openScope")
        return cls(
            run=document["run"],
            day=document["day"],
            rules=list(document["rules"]),
            identifiers=dict(document["identifiers"]),
            scopes=[(a, r) for a, r in document["scopes"]],
            missing=[oc.Missing(*m) for m in document["missing"]],
            expected=[list(e) for e in document["expected"]],
            batches=[list(b) for b in document["batches"]],
            planned=document["planned"],
            states_token=document["statesToken"],
            found=set(document["found"]),
            batch=document["batch"],
            token=document["token"],
            fallback=[(a, r) for a, r in document["fallback"]],
            fallback_done=document["fallbackDone"],
            done=document["done"],
            counts=values,
            matched=dict(document["matched"]),
            written=dict(document["written"]),
            open_scope=(open_scope[0], open_scope[1]) if open_scope else None,
            open_rows=list(document["openRows"]),
            open_seen=set(document["openSeen"]),
            calls=document["calls"],
            throttled=document["throttled"],
            segments=document["segments"],
            resources=document["resources"],
        )


def _name(scope: Scope) -> str:
    return f"{scope[0]}/{scope[1]}"


def plan(call: oc.Caller, config: Any, aggregator: str, run: str, day: str) -> Collection:
    """The sources to read; the rule states follow in the collector's first pages."""
    listed, missing = oc.sources(call, config, aggregator)
    return Collection(
        run=run,
        day=day,
        rules=[],
        identifiers={},
        scopes=list(listed),
        missing=missing,
        expected=[[0, 0, 0] for _ in listed],
    )


@dataclass
class Store:
    """Checkpoints and detail objects in the reports bucket."""

    s3: Any
    bucket: str

    def load(self, run: str) -> Collection | None:
        try:
            body = self.s3.get_object(Bucket=self.bucket, Key=state_key(run, "collect.json"))
        except ClientError as error:
            if error_code(error) in ("NoSuchKey", "404"):
                return None
            raise
        document = json.loads(body["Body"].read())
        counts = self.s3.get_object(Bucket=self.bucket, Key=state_key(run, "counts.bin.gz"))
        return Collection.from_document(document, gzip.decompress(counts["Body"].read()))

    def save(self, collection: Collection) -> None:
        # The counts first: a checkpoint document never names counts it was not saved with.
        counts = gzip.compress(collection.counts.tobytes(), mtime=0)
        report_store.put(
            self.s3,
            self.bucket,
            state_key(collection.run, "counts.bin.gz"),
            counts,
            "application/gzip",
        )
        body = canonical_json(collection.document()).encode("utf-8")
        report_store.put(
            self.s3,
            self.bucket,
            state_key(collection.run, "collect.json"),
            body,
            "application/json",
        )


@dataclass
class Collector:
    """Reads the batches, then the fallback scopes, into a Collection; see the module doc."""

    collection: Collection
    call: oc.Caller
    config: Any
    aggregator: str
    store: Store
    frameworks_of: Callable[[str], list[str]]
    exempt_of: ExemptOf | None = None
    identifier_of: Callable[[str], str | None] = lambda name: None
    _labels: dict[str, list[str]] = field(default_factory=dict)
    _uploads: list[tuple[str, Future[manifest.Entry]]] = field(default_factory=list)
    _pool: ThreadPoolExecutor | None = None
    # True while a page's items are being counted: a failure then leaves counts that its saved
    # page token would count again, so that state is not saved (the last checkpoint stands).
    _mid_page: bool = False

    def run(self) -> bool:
        """Read until done (True) or out of time (False); the state is saved either way."""
        c = self.collection
        c.segments += 1
        last = self.call.clock.monotonic()
        self._pool = ThreadPoolExecutor(max_workers=UPLOAD_WORKERS)
        try:
            while not c.done:
                if self.call.clock.monotonic() - last >= CHECKPOINT_SECONDS:
                    self._checkpoint()
                    last = self.call.clock.monotonic()
                if not c.planned:
                    self._states_page()
                elif c.batch < len(c.batches):
                    self._page()
                elif c.fallback_done < len(c.fallback):
                    self._fallback(c.fallback[c.fallback_done])
                    c.fallback_done += 1
                else:
                    c.done = True
        except oc.OutOfTime:
            pass
        finally:
            # Also after a failure between pages: the next segment continues from there.
            try:
                if not self._mid_page:
                    self._checkpoint()
            finally:
                self._pool.shutdown(wait=True)
        return c.done

    def _checkpoint(self) -> None:
        for name, future in self._uploads:
            self.collection.written[name] = _entry_document(future.result())
        self._uploads.clear()
        c = self.collection
        c.calls, c.throttled = c.calls + self.call.calls, c.throttled + self.call.throttled
        self.call.calls = self.call.throttled = 0
        self.store.save(c)

    def _states_page(self) -> None:
        """One page of the rule states: our rules found, each scope's expected counts."""
        c = self.collection
        page = oc.states_page(
            self.call, self.config, self.aggregator, self._is_ours, c.states_token
        )
        self._mid_page = True
        c.found |= page.found
        for scope, state in page.scopes.items():
            expected = c.expected[c.scope_index(scope)]
            expected[0] += state.rules
            expected[1] += state.non_compliant
            expected[2] = int(expected[2] or state.capped)
        c.states_token = page.token
        self._mid_page = False
        if page.token is None:
            self._finish_plan()

    def _is_ours(self, name: str) -> bool:
        return self.identifier_of(name) is not None

    def _finish_plan(self) -> None:
        """The rules are known: size the counts, cut the accounts into query batches."""
        c = self.collection
        c.rules = sorted(c.found)
        c.identifiers = {rule: self.identifier_of(rule) or "" for rule in c.rules}
        c.reindex()
        failed = {(m.account, m.region) for m in c.missing}
        accounts = sorted({a for a, r in c.scopes if (a, r) not in failed})
        size = oc.BATCH_ACCOUNTS
        c.batches = [accounts[i : i + size] for i in range(0, len(accounts), size)]
        c.planned = True

    def _page(self) -> None:
        c = self.collection
        accounts = c.batches[c.batch]
        try:
            rows, token = next(
                oc.query_pages(self.call, self.config, self.aggregator, accounts, c.token)
            )
        except ClientError as error:
            if error_code(error) != "InvalidNextTokenException" or c.token is None:
                raise
            logger.warning(
                "page token no longer accepted: reading the batch again",
                extra=observability.fields(batch=c.batch),
            )
            self._restart_batch(accounts)
            return
        self._mid_page = True
        for row in rows:
            self._take(row)
        c.token = token
        self._mid_page = False
        if token is None:
            self._close_scope()
            self._check_batch(accounts)
            c.batch += 1

    def _restart_batch(self, accounts: list[str]) -> None:
        c = self.collection
        wanted = set(accounts)
        for scope in list(c.scopes):
            if scope[0] in wanted:
                c.reset_scope(scope)
        c.fallback = [scope for scope in c.fallback if scope[0] not in wanted]
        c.open_scope, c.open_rows, c.open_seen, c.token = None, [], set(), None

    def _take(self, row: oc.Row) -> None:
        c = self.collection
        scope = (row.account, row.region)
        if scope != c.open_scope:
            self._close_scope()
            c.reset_scope(scope)
            c.open_scope = scope
        c.resources += 1
        index = c.scope_index(scope)
        for rule, kind in row.rules:
            rule_index = c.rule_index(rule)
            if rule_index is None or kind not in ("COMPLIANT", "NON_COMPLIANT"):
                continue
            c.open_seen.add(rule)
            result = Result(
                rule,
                row.account,
                row.region,
                row.resource_type,
                row.resource_id,
                kind,
                "",
                row.captured,
            )
            self._count(index, rule_index, result)

    def _count(self, index: int, rule_index: int, result: Result) -> None:
        c = self.collection
        if result.compliance_type == "COMPLIANT":
            c.add(index, rule_index, 0)
            return
        identifier = c.identifiers[result.rule_name]
        exemption = self.exempt_of(result, identifier) if self.exempt_of else None
        if exemption is not None:
            c.add(index, rule_index, 2)
            per_scope = c.matched.setdefault(_name((result.account, result.region)), {})
            per_scope[exemption] = per_scope.get(exemption, 0) + 1
        else:
            c.add(index, rule_index, 1)
        c.open_rows.append(self._detail(result, identifier, exemption))

    def _detail(self, result: Result, identifier: str, exemption: str | None) -> dict[str, Any]:
        """The CSV's row as the results table's: with the run id, frameworks as a list."""
        *fields, _, exempted = csv_row(result, identifier, "", exemption)
        values = (self.collection.run, *fields, self._frameworks(result.rule_name), exempted)
        return dict(zip(RESULT_COLUMNS, values, strict=True))

    def _frameworks(self, rule: str) -> list[str]:
        if rule not in self._labels:
            self._labels[rule] = list(self.frameworks_of(rule))
        return self._labels[rule]

    def _close_scope(self) -> None:
        """The open scope is complete: check it against the rule states, write its rows."""
        c = self.collection
        scope = c.open_scope
        if scope is None:
            return
        index = c.scope_index(scope)
        rules, non_compliant, capped = c.expected[index]
        width = len(c.rules) * _KINDS
        seen_nc = sum(c.counts[index * width + 1 : (index + 1) * width : _KINDS]) + sum(
            c.counts[index * width + 2 : (index + 1) * width : _KINDS]
        )
        short = seen_nc < non_compliant if capped else seen_nc != non_compliant
        if len(c.open_seen) < rules or short:
            if scope not in c.fallback:
                c.fallback.append(scope)
        elif c.open_rows:
            self._upload(scope, c.open_rows)
        c.open_scope, c.open_rows, c.open_seen = None, [], set()

    def _check_batch(self, accounts: list[str]) -> None:
        """Scopes of the batch the rule states list but the query returned nothing for."""
        c = self.collection
        wanted = set(accounts)
        for index, scope in enumerate(c.scopes):
            unread = c.expected[index][0] and not _has_counts(c, index)
            if scope[0] in wanted and unread and scope not in c.fallback:
                c.fallback.append(scope)

    def _fallback(self, scope: Scope) -> None:
        """Read one scope rule by rule (with annotations), replacing what the query gave."""
        c = self.collection
        c.reset_scope(scope)
        c.open_rows = []
        index = c.scope_index(scope)
        found = oc.scope_states(
            self.call,
            self.config,
            self.aggregator,
            lambda name: c.rule_index(name) is not None,
            scope,
        )
        for rule in sorted(found.names.get(scope, [])):
            rule_index = c.rule_index(rule)
            assert rule_index is not None
            for result in oc.scope_results(self.call, self.config, self.aggregator, rule, *scope):
                self._count(index, rule_index, result)
        if c.open_rows:
            self._upload(scope, c.open_rows)
        c.open_rows = []

    def _upload(self, scope: Scope, rows: list[dict[str, Any]]) -> None:
        key = result_key(self.collection.run, self.collection.day, scope)
        body = gzip_lines(rows)
        assert self._pool is not None
        future = self._pool.submit(
            report_store.put, self.store.s3, self.store.bucket, key, body, "application/gzip"
        )
        self._uploads.append((_name(scope), future))


def _has_counts(c: Collection, index: int) -> bool:
    width = len(c.rules) * _KINDS
    return any(c.counts[index * width : (index + 1) * width])


def _entry_document(entry: manifest.Entry) -> dict[str, Any]:
    return {
        "key": entry.key,
        "size": entry.size,
        "sha256": entry.sha256,
        "contentType": entry.content_type,
    }


def entries(collection: Collection) -> list[manifest.Entry]:
    """The detail objects written, for the run's manifest."""
    return [
        manifest.Entry(e["key"], e["size"], e["sha256"], e["contentType"])
        for _, e in sorted(collection.written.items())
    ]
