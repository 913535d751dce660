"""S3 key segments built from values AWS or users chose (resource ids may hold any character)."""

from __future__ import annotations

import hashlib
from datetime import datetime
from urllib.parse import quote

# Keys stay far below S3's 1,024-byte limit even for the longest (768-character) resource ids.
_PART_MAX = 200


def key_part(value: str) -> str:
    """A value made safe as one key segment; a long value keeps a prefix plus a hash of it all."""
    quoted = quote(value, safe="-_.~")
    if len(quoted) <= _PART_MAX:
        return quoted
    digest = hashlib.sha256(value.encode("utf-8")).hexdigest()[:16]
    return f"{quoted[: _PART_MAX - 18]}~{digest}"


def compact_time(moment: datetime) -> str:
    """``20240501T120000.123Z``: sorts in time order and needs no escaping."""
    return moment.strftime("%Y%m%dT%H%M%S.") + f"{moment.microsecond // 1000:03d}Z"


def iso_time(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def date_partitions(moment: datetime) -> str:
    return f"year={moment:%Y}/month={moment:%m}/day={moment:%d}"
