"""Where reports live in the bucket: ``reports/<run id>/`` with run ids that sort by time.

Earlier runs are found by listing the run prefixes of the last 90 days (one call for a daily
schedule) and reading the newest complete summary; each summary carries the trend, so one read
is enough to extend it.
"""

from __future__ import annotations

import re
from collections import deque
from datetime import datetime, timedelta
from typing import IO, Any

import manifest
import observability
from aws import get_json
from botocore.exceptions import ClientError

logger = observability.get_logger("reporting.store")

PREFIX = "reports/"
_RUN_ID = re.compile(r"\d{4}-\d{2}-\d{2}T\d{6}Z")
_LOOKBACK = timedelta(days=90)
_CANDIDATES = 3  # an interrupted run leaves no summary.json; try a couple of older ones


def run_id(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H%M%SZ")


def run_prefix(run: str) -> str:
    return f"{PREFIX}{run}/"


def previous_summary(s3: Any, bucket: str, run: str, moment: datetime) -> dict[str, Any] | None:
    start = run_prefix(run_id(moment - _LOOKBACK))
    candidates: deque[str] = deque(maxlen=_CANDIDATES)
    pages = s3.get_paginator("list_objects_v2").paginate(
        Bucket=bucket, Prefix=PREFIX, Delimiter="/", StartAfter=start
    )
    for page in pages:
        for common in page.get("CommonPrefixes", []):
            name = common["Prefix"][len(PREFIX) : -1]
            if _RUN_ID.fullmatch(name) and name < run:
                candidates.append(name)
    for name in reversed(candidates):
        key = f"{run_prefix(name)}summary.json"
        try:
            document = get_json(s3, bucket, key)
        except (ValueError, ClientError) as error:
            # A damaged or unreadable summary (a missing key reads as AccessDenied when listing
            # is granted only by prefix) costs the trend a point, never the report.
            logger.warning(
                "skipped an earlier summary", extra=observability.fields(key=key, error=str(error))
            )
            continue
        if isinstance(document, dict):
            return document
    return None


def put(
    s3: Any, bucket: str, key: str, body: bytes | IO[bytes], content_type: str
) -> manifest.Entry:
    """One PutObject with the body's SHA-256, which S3 checks and keeps with the object (and
    which an Object Lock retention period requires: docs/aws-facts.md, "Reports as evidence");
    no encryption header (the bucket's default encryption applies). The manifest's entry."""
    described = manifest.entry(key, body, content_type)
    s3.put_object(
        Bucket=bucket,
        Key=key,
        Body=body,
        ContentType=content_type,
        ChecksumAlgorithm="SHA256",
        ChecksumSHA256=described.checksum,
    )
    return described
