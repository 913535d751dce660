"""S3_BUCKET_SERVER_SIDE_ENCRYPTION_ENABLED: turn on default encryption of the bucket."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import rulebook
from aws import error_code
from botocore.exceptions import ClientError
from decide import Action, Plan, skip_if_gone_or_exempt
from findings import Finding, RemediationSettings
from reading import missing, tag_map

IDENTIFIER = "S3_BUCKET_SERVER_SIDE_ENCRYPTION_ENABLED"
RESOURCE_TYPE = rulebook.text(IDENTIFIER).resource_types[0]
READS = {"s3-bucket": ("s3:GetBucketTagging", "s3:GetEncryptionConfiguration")}
WRITES = {"EnableBucketEncryption": ("s3-bucket", ("s3:PutEncryptionConfiguration",))}
_NOT_FOUND = {"NoSuchBucket"}


@dataclass(frozen=True)
class BucketState:
    exists: bool
    tags: Mapping[str, str] = field(default_factory=dict)
    algorithms: tuple[str, ...] = ()  # of the default-encryption rules; empty: none


def read(
    client: Callable[[str], Any], finding: Finding, config: RemediationSettings
) -> BucketState:
    s3 = client("s3")
    name = finding.resource_id
    try:
        tags = tag_map(s3.get_bucket_tagging(Bucket=name)["TagSet"])
    except ClientError as error:
        if missing(error, _NOT_FOUND):
            return BucketState(False)
        if error_code(error) != "NoSuchTagSet":
            raise
        tags = {}
    try:
        rules = s3.get_bucket_encryption(Bucket=name)["ServerSideEncryptionConfiguration"]
    except ClientError as error:
        if missing(error, _NOT_FOUND):
            return BucketState(False)
        if error_code(error) != "ServerSideEncryptionConfigurationNotFoundError":
            raise
        rules = {"Rules": []}
    algorithms = {
        rule["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"]
        for rule in rules.get("Rules", [])
        if "ApplyServerSideEncryptionByDefault" in rule
    }
    return BucketState(True, tags, tuple(sorted(algorithms)))


def plan(finding: Finding, state: BucketState, config: RemediationSettings) -> Plan:
    observed = {"defaultEncryption": list(state.algorithms)}
    if early := skip_if_gone_or_exempt(state.exists, state.tags, config, "the bucket"):
        return early
    if state.algorithms:
        return Plan(
            "skip",
            "already compliant: default encryption is on (" + ", ".join(state.algorithms) + ")",
            observed=observed,
        )
    rule: dict[str, Any] = {
        "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": config.sse_algorithm}
    }
    if config.sse_algorithm == "aws:kms":
        rule["BucketKeyEnabled"] = True  # far fewer KMS requests, and no key of ours to manage
    label = (
        "SSE-KMS with the AWS managed key aws/s3" if config.sse_algorithm == "aws:kms" else "SSE-S3"
    )
    return Plan(
        "act",
        "the bucket has no default encryption",
        Action(
            "s3:PutBucketEncryption",
            {
                "Bucket": finding.resource_id,
                "ServerSideEncryptionConfiguration": {"Rules": [rule]},
            },
            f"turn on default encryption ({label})",
        ),
        observed,
    )


def apply(client: Callable[[str], Any], action: Action) -> None:
    client("s3").put_bucket_encryption(**action.params)
