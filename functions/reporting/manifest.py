"""The evidence manifest: the SHA-256 of every file a run wrote, from the bytes uploaded.

Each object is uploaded with that digest as its ``ChecksumSHA256``, so S3 refuses the upload
when the bytes it received differ (BadDigest) and keeps the checksum with the object, where
GetObjectAttributes or HeadObject (ChecksumMode) returns it later. The same digest is what the
manifest lists, so an auditor can check a download against the manifest and the manifest against
S3. A file streamed from a temporary file is hashed in chunks, never loaded whole.

The summary cannot hold its own hash: the manifest, written just before it, holds the summary's,
and the summary names the manifest.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import IO, Any

ALGORITHM = "SHA-256"
KIND = "evidence-manifest"
CONTENT_TYPE = "application/json"
_CHUNK = 1 << 20


@dataclass(frozen=True)
class Entry:
    key: str
    size: int
    sha256: str  # lowercase hex
    content_type: str

    @property
    def checksum(self) -> str:
        """The digest as S3's ChecksumSHA256 carries it: base64 of the 32 bytes."""
        return base64.b64encode(bytes.fromhex(self.sha256)).decode("ascii")


def entry(key: str, body: bytes | IO[bytes], content_type: str) -> Entry:
    """The digest and size of ``body``; a file is read from its start and left rewound."""
    digest = hashlib.sha256()
    if isinstance(body, bytes):
        digest.update(body)
        size = len(body)
    else:
        body.seek(0)
        size = 0
        while chunk := body.read(_CHUNK):
            digest.update(chunk)
            size += len(chunk)
        body.seek(0)
    return Entry(key, size, digest.hexdigest(), content_type)


def document(run_id: str, generated_at: str, entries: Iterable[Entry]) -> dict[str, Any]:
    files = sorted(entries, key=lambda e: e.key)
    keys = [e.key for e in files]
    if len(set(keys)) != len(keys):
        raise ValueError(f"files lists a key twice: {sorted(k for k in keys if keys.count(k) > 1)}")
    return {
        "schemaVersion": 1,
        "kind": KIND,
        "runId": run_id,
        "generatedAt": generated_at,
        "algorithm": ALGORITHM,
        "files": [
            {"key": e.key, "bytes": e.size, "sha256": e.sha256, "contentType": e.content_type}
            for e in files
        ],
    }
