"""boto3 clients and the few S3/SNS calls the three functions share.

Clients are created on first use and then kept for the life of the container: creating one costs
tens of milliseconds, and doing it at import time would slow down every cold start, including the
ones that end early on a rejected event.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import boto3
import chat
import subjects
from botocore.config import Config
from botocore.exceptions import ClientError

# Standard mode retries throttling and transient errors with backoff. The timeouts bound one call
# with its retries to well under a minute (processing's Lambda timeout is 60 s), so a stuck call
# fails the invocation, which is then retried, instead of being killed mid-way by the timeout.
CLIENT_CONFIG = Config(
    retries={"mode": "standard", "max_attempts": 3},
    connect_timeout=3,
    read_timeout=10,
    user_agent_extra="compliance-monitoring",
)

_clients: dict[str, Any] = {}


def client(service: str) -> Any:
    existing = _clients.get(service)
    if existing is None:
        existing = _clients[service] = boto3.client(service, config=CLIENT_CONFIG)
    return existing


def reset_clients() -> None:
    _clients.clear()


def error_code(error: Exception) -> str:
    if isinstance(error, ClientError):
        return str(error.response.get("Error", {}).get("Code", "Unknown"))
    return type(error).__name__


def canonical_json(document: Any) -> str:
    """Sorted keys, so the same content always gives the same bytes (and the same ETag)."""
    return json.dumps(document, sort_keys=True, indent=1, ensure_ascii=False, default=str)


def put_json(
    s3: Any, bucket: str, key: str, document: Any, *, only_if_absent: bool = False
) -> bool:
    """Store a JSON document; with ``only_if_absent`` return False when the key already exists.

    No server-side-encryption header is sent: the bucket's default encryption applies, and its
    policy rejects any other encryption setting.
    """
    extra = {"IfNoneMatch": "*"} if only_if_absent else {}
    try:
        _put(s3, bucket, key, document, extra)
    except ClientError as error:
        if only_if_absent and error_code(error) == "PreconditionFailed":
            return False
        raise
    return True


def _put(s3: Any, bucket: str, key: str, document: Any, condition: Mapping[str, str]) -> None:
    s3.put_object(
        Bucket=bucket,
        Key=key,
        Body=canonical_json(document).encode("utf-8"),
        ContentType="application/json",
        **condition,
    )


def put_json_conditionally(
    s3: Any, bucket: str, key: str, document: Any, *, etag: str | None
) -> bool:
    """Store a JSON document only if the key is absent (``etag`` None) or still holds the
    version with that ETag; False when another writer got there first (S3 answers 412, 409
    for a concurrent conditional write, or 404 when If-Match meets a deleted key)."""
    condition = {"IfNoneMatch": "*"} if etag is None else {"IfMatch": etag}
    try:
        _put(s3, bucket, key, document, condition)
    except ClientError as error:
        if error_code(error) in ("PreconditionFailed", "ConditionalRequestConflict", "NoSuchKey"):
            return False
        raise
    return True


def get_json_with_etag(s3: Any, bucket: str, key: str) -> tuple[Any, str | None]:
    """A JSON document and its ETag; (None, None) when the key does not exist."""
    try:
        response = s3.get_object(Bucket=bucket, Key=key)
    except ClientError as error:
        if error_code(error) in ("NoSuchKey", "404"):
            return None, None
        raise
    body = response["Body"].read()
    try:
        document = json.loads(body)
    except ValueError:
        document = None  # not ours: the caller replaces it
    return document, str(response["ETag"])


def get_json(s3: Any, bucket: str, key: str) -> Any:
    """Read a JSON document; None when the key does not exist."""
    try:
        response = s3.get_object(Bucket=bucket, Key=key)
    except ClientError as error:
        if error_code(error) in ("NoSuchKey", "404"):
            return None
        raise
    return json.loads(response["Body"].read())


def publish(
    sns: Any,
    topic_arn: str,
    subject: str,
    message: str,
    attributes: Mapping[str, str],
    card: Mapping[str, Any] | None = None,
) -> str:
    """Publish one notification; string attributes let subscriptions filter on them. With a chat
    `card`, per protocol: the text by e-mail (and to SQS or Lambda), the card over HTTPS."""
    structure = {"MessageStructure": "json"} if card is not None else {}
    response = sns.publish(
        TopicArn=topic_arn,
        Subject=subjects.subject_line(subject),
        Message=chat.per_protocol(message, card) if card is not None else message,
        MessageAttributes={
            name: {"DataType": "String", "StringValue": value}
            for name, value in sorted(attributes.items())
            if value  # SNS rejects empty attribute values
        },
        **structure,
    )
    return str(response["MessageId"])
