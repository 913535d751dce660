"""The Athena/Glue tables' objects: gzip'd JSON Lines under ``reports/tables/<table>/``.

One object per run and table, in a Hive-style partition of the run's UTC date
(``dt=YYYY-MM-DD``), so a query over a date range reads only those days. gzip's header carries
no time or file name (mtime 0), so the same rows give the same bytes.
"""

from __future__ import annotations

import gzip
import io
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import IO, Any

from report_store import PREFIX
from tally import Tally
from violations import json_line

TABLES = ("rule_results", "violations")
# The objects are .json.gz files (Athena reads them by their extension), not encoded JSON.
CONTENT_TYPE = "application/gzip"


def table_key(table: str, run_id: str, moment: datetime) -> str:
    if table not in TABLES:
        raise ValueError(f"table is {table!r}, expected one of {list(TABLES)}")
    return f"{PREFIX}tables/{table}/dt={moment.astimezone(UTC):%Y-%m-%d}/{run_id}.json.gz"


def rule_results_row(
    run_id: str,
    generated_at: str,
    rule: str,
    identifier: str,
    account: str,
    region: str,
    counts: Sequence[int],
    frameworks: Sequence[str],
) -> dict[str, Any]:
    compliant, non_compliant, exempt = counts
    return {
        "run_id": run_id,
        "generated_at": generated_at,
        "rule_name": rule,
        "rule_identifier": identifier,
        "account": account,
        "region": region,
        "compliant": compliant,
        "non_compliant": non_compliant,
        "exempt": exempt,
        "frameworks": list(frameworks),
    }


def rule_results_rows(
    run_id: str, generated_at: str, tally: Tally, frameworks: Mapping[str, Sequence[str]]
) -> list[dict[str, Any]]:
    """One row per rule x account x region with results, rules and scopes sorted."""
    return [
        rule_results_row(
            run_id,
            generated_at,
            rule.name,
            rule.identifier,
            account,
            region,
            counts,
            frameworks.get(rule.name, ()),
        )
        for rule in sorted(tally.rules.values(), key=lambda r: r.name)
        for (account, region), counts in sorted(rule.scopes.items())
    ]


def gzip_lines(rows: Iterable[Mapping[str, Any]]) -> bytes:
    buffer = io.BytesIO()
    with gzip.GzipFile(fileobj=buffer, mode="wb", mtime=0, filename="") as out:
        write_lines(out, rows)
    return buffer.getvalue()


_CHUNK = 1 << 20


def write_lines(out: IO[bytes], rows: Iterable[Mapping[str, Any]]) -> None:
    """JSON Lines in chunks of about a megabyte: one compressor call a chunk, not a row (a
    million rows cost seconds less)."""
    chunk: list[bytes] = []
    size = 0
    for row in rows:
        line = json_line(row)
        chunk.append(line)
        size += len(line)
        if size >= _CHUNK:
            out.write(b"".join(chunk))
            chunk, size = [], 0
    if chunk:
        out.write(b"".join(chunk))
