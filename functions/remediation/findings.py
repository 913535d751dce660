"""Remediation input and configuration: the hand-off message and the environment, validated.

The message is the one the processing function sends (``kind: compliance-finding``); a message
that is not one is rejected with the field, the value and what is allowed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import keys
import security_hub
import settings as env_settings
import validation as v

FINDING_KIND = "compliance-finding"
MODES = ("off", "dry-run", "enforce")
SSE_ALGORITHMS = ("aws:kms", "AES256")
AUDIT_PREFIX = "remediation/"
_INSTANCE_TYPES = re.compile(r"[a-z][a-z0-9-]*\.[a-z0-9]+(,[a-z][a-z0-9-]*\.[a-z0-9]+)*")


@dataclass(frozen=True)
class RemediationSettings:
    common: env_settings.CommonSettings
    mode: str
    exemption_tag_key: str
    sse_algorithm: str
    backup_retention_days: int
    ebs_default_encryption: bool
    # Empty: unknown, so an instance flagged by Config is taken as still of an undesired type.
    allowed_instance_types: frozenset[str]
    security_hub_mode: str = "off"


def load_settings(env: Mapping[str, str]) -> RemediationSettings:
    tag_key = env_settings.tag_key(env, "EXEMPTION_TAG_KEY", "compliance:exempt")
    types = env_settings.optional(env, "ALLOWED_INSTANCE_TYPES", "")
    if types and not _INSTANCE_TYPES.fullmatch(types):
        raise env_settings.invalid(
            "ALLOWED_INSTANCE_TYPES",
            types,
            "empty or comma-separated types such as t3.micro,m5.large",
        )
    return RemediationSettings(
        common=env_settings.common(env),
        mode=env_settings.choice(env, "REMEDIATION_MODE", MODES, "dry-run"),
        exemption_tag_key=tag_key,
        sse_algorithm=env_settings.choice(env, "S3_SSE_ALGORITHM", SSE_ALGORITHMS, "aws:kms"),
        backup_retention_days=env_settings.integer(env, "BACKUP_RETENTION_DAYS", 1, 35, 7),
        ebs_default_encryption=env_settings.boolean(env, "EBS_DEFAULT_ENCRYPTION", False),
        allowed_instance_types=frozenset(types.split(",")) if types else frozenset(),
        security_hub_mode=security_hub.mode(env),
    )


@dataclass(frozen=True)
class Finding:
    account: str
    region: str
    rule_name: str
    identifier: str
    resource_type: str
    resource_id: str
    annotation: str | None
    ordering: datetime
    change_record: str | None
    message: Mapping[str, Any]

    def summary(self) -> dict[str, Any]:
        return {
            "account": self.account,
            "region": self.region,
            "ruleName": self.rule_name,
            "ruleIdentifier": self.identifier,
            "resourceType": self.resource_type,
            "resourceId": self.resource_id,
            "annotation": self.annotation,
            "orderingTimestamp": keys.iso_time(self.ordering),
            "changeRecord": self.change_record,
        }


def parse_finding(message: Any) -> Finding:
    message = v.require_object(message, "event")
    v.choice(message, "kind", "", (FINDING_KIND,))
    if message.get("schemaVersion") != 1:
        raise v.ValidationError("schemaVersion", message.get("schemaVersion"), "1")
    v.choice(message, "complianceType", "", ("NON_COMPLIANT",))
    return Finding(
        account=v.string(
            message, "account", "", pattern=v.ACCOUNT_ID, description="a 12-digit AWS account id"
        ),
        region=v.string(
            message,
            "region",
            "",
            pattern=v.REGION_CODE,
            description="an AWS region code such as eu-west-1",
        ),
        rule_name=v.string(message, "ruleName", "", max_length=128),
        identifier=v.string(
            message,
            "ruleIdentifier",
            "",
            pattern=env_settings.IDENTIFIER,
            description="a catalog identifier such as ENCRYPTED_VOLUMES",
        ),
        resource_type=v.string(
            message,
            "resourceType",
            "",
            pattern=v.RESOURCE_TYPE,
            description="a resource type such as AWS::S3::Bucket",
        ),
        resource_id=v.string(message, "resourceId", "", max_length=768),
        annotation=v.optional_string(message, "annotation", ""),
        ordering=v.timestamp(message, "orderingTimestamp", ""),
        change_record=v.optional_string(message, "changeRecord", ""),
        message=message,
    )


def audit_key(finding: Finding, request_id: str) -> str:
    """One key per finding and invocation: Lambda's retries (same request id) find their record.

    Partitioned by the evaluation's date, which a retry after midnight shares.
    """
    return (
        f"{AUDIT_PREFIX}{keys.date_partitions(finding.ordering)}/"
        f"account={finding.account}/region={finding.region}/rule={keys.key_part(finding.rule_name)}/"
        f"{keys.key_part(finding.resource_type)}/{keys.key_part(finding.resource_id)}/"
        f"{keys.compact_time(finding.ordering)}_{keys.key_part(request_id)}.json"
    )
