"""The evidence manifest: the SHA-256 of every file a run wrote, checked against S3."""

from __future__ import annotations

import base64
import hashlib
import io

import manifest
import pytest
from conftest import BUCKET, lambda_context, load_app
from function_fakes import FakeConfig

reporting = load_app("reporting")
RUN = "2024-05-01T060000Z"
PREFIX = f"reports/{RUN}/"


@pytest.fixture
def puts(world):
    """The PutObject calls in order, with their parameters."""
    calls = []
    world.s3.meta.events.register(
        "before-parameter-build.s3.PutObject", lambda params, **_: calls.append(dict(params))
    )
    return calls


def report(world):
    config = FakeConfig()
    config.attach(world.aws.client("config"))
    config.add("compliance-encrypted-volumes", 40, 7)
    config.add("compliance-desired-instance-type", 3, 0)
    reporting.handler({"time": "2024-05-01T06:00:00Z"}, lambda_context("r", "reporting"))
    return world.read_json(f"{PREFIX}manifest.json")


def test_the_manifest_lists_every_file_of_the_run_with_its_stored_hash(world):
    document = report(world)
    assert {k: document[k] for k in ("schemaVersion", "kind", "runId", "algorithm")} == {
        "schemaVersion": 1,
        "kind": "evidence-manifest",
        "runId": RUN,
        "algorithm": "SHA-256",
    }
    listed = {f["key"]: f for f in document["files"]}
    # Everything the run wrote except the manifest itself, the summary included.
    assert set(listed) == set(world.keys("reports/")) - {f"{PREFIX}manifest.json"}
    assert f"{PREFIX}summary.json" in listed
    assert [f["key"] for f in document["files"]] == sorted(listed)
    for key, entry in listed.items():
        stored = world.read(key)
        assert entry["sha256"] == hashlib.sha256(stored).hexdigest(), key
        assert entry["bytes"] == len(stored)
        head = world.s3.head_object(Bucket=BUCKET, Key=key, ChecksumMode="ENABLED")
        assert head["ChecksumSHA256"] == base64.b64encode(hashlib.sha256(stored).digest()).decode()
        assert head["ContentType"] == entry["contentType"]


def test_the_summary_names_the_manifest(world):
    report(world)
    summary = world.read_json(f"{PREFIX}summary.json")
    assert summary["artifacts"]["manifest"] == f"s3://{BUCKET}/{PREFIX}manifest.json"


def test_files_are_written_in_order_summary_last_each_with_its_sha256(world, puts):
    report(world)
    assert [p["Key"] for p in puts] == [
        f"{PREFIX}details.csv",
        f"reports/tables/rule_results/dt=2024-05-01/{RUN}.json.gz",
        f"reports/tables/violations/dt=2024-05-01/{RUN}.json.gz",
        f"{PREFIX}report.html",
        f"{PREFIX}manifest.json",
        f"{PREFIX}summary.json",
    ]
    assert {p["ChecksumAlgorithm"] for p in puts} == {"SHA256"}
    assert all(len(base64.b64decode(p["ChecksumSHA256"])) == 32 for p in puts)


def test_a_streamed_file_hashes_as_its_bytes_and_is_left_rewound():
    body = bytes(range(256)) * 9000  # larger than one read chunk
    stream = io.BytesIO(body)
    stream.seek(100)
    from_file = manifest.entry("k", stream, "text/csv")
    assert stream.tell() == 0
    assert from_file == manifest.entry("k", body, "text/csv")
    assert from_file.sha256 == hashlib.sha256(body).hexdigest() and from_file.size == len(body)
    assert base64.b64decode(from_file.checksum) == hashlib.sha256(body).digest()


def test_a_manifest_listing_a_key_twice_is_refused():
    entry = manifest.entry("reports/x", b"1", "text/plain")
    with pytest.raises(ValueError, match=r"files lists a key twice: \['reports/x'"):
        manifest.document(RUN, "t", [entry, entry])


def test_uploads_send_the_checksum_headers_s3_and_object_lock_need(world):
    """What goes over the wire: the algorithm header Object Lock requires and our digest, for
    the bytes bodies and the files streamed from disk alike (no trailer checksum of botocore's)."""
    sent = []
    world.s3.meta.events.register(
        "before-send.s3.PutObject", lambda request, **_: sent.append(dict(request.headers))
    )
    report(world)
    assert len(sent) == 6
    for headers in sent:
        assert headers["x-amz-sdk-checksum-algorithm"] == b"SHA256"
        assert len(base64.b64decode(headers["x-amz-checksum-sha256"])) == 32
        assert "X-Amz-Trailer" not in headers and "Content-Encoding" not in headers
