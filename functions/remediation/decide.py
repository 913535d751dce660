"""The pure remediation decisions: from a resource's current state to skip, act or report.

Every function gets the state read just now (never the state in the finding, which may be stale)
and returns a Plan; whether an ``act`` plan runs depends on the mode, decided by the caller.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from findings import Finding, RemediationSettings

FINDING_TAG_KEY = "compliance:finding"  # the only key the template lets remediation write


@dataclass(frozen=True)
class Action:
    api: str  # "service:Operation", as IAM names it
    params: Mapping[str, Any]
    description: str


@dataclass(frozen=True)
class Plan:
    kind: str  # "act", "skip" or "manual"
    reason: str
    action: Action | None = None
    observed: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class BucketState:
    exists: bool
    tags: Mapping[str, str] = field(default_factory=dict)
    algorithms: tuple[str, ...] = ()  # of the default-encryption rules; empty: none


@dataclass(frozen=True)
class DbInstanceState:
    exists: bool
    identifier: str = ""
    engine: str = ""
    cluster: str | None = None
    status: str = ""
    retention: int = 0
    pending_retention: int | None = None
    tags: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class VolumeState:
    exists: bool
    encrypted: bool = False
    state: str = ""
    tags: Mapping[str, str] = field(default_factory=dict)
    encryption_by_default: bool | None = None  # None: not read (remediation may not change it)


@dataclass(frozen=True)
class InstanceState:
    exists: bool
    state: str = ""
    instance_type: str = ""
    tags: Mapping[str, str] = field(default_factory=dict)


def skip_if_exempt(tags: Mapping[str, str], config: RemediationSettings) -> Plan | None:
    """Any value counts: the tag's presence is the exemption, its value the reason people give."""
    key = config.exemption_tag_key
    if key in tags:
        return Plan("skip", f"exempt: tagged {key}={tags[key]!r}", observed={"exemptionTag": key})
    return None


def plan_bucket(finding: Finding, state: BucketState, config: RemediationSettings) -> Plan:
    observed = {"defaultEncryption": list(state.algorithms)}
    if not state.exists:
        return Plan("skip", "the bucket no longer exists")
    if exempt := skip_if_exempt(state.tags, config):
        return exempt
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


def plan_db_instance(finding: Finding, state: DbInstanceState, config: RemediationSettings) -> Plan:
    minimum = config.backup_retention_days
    observed = {
        "dbInstanceIdentifier": state.identifier,
        "engine": state.engine,
        "status": state.status,
        "backupRetentionPeriod": state.retention,
        "pendingBackupRetentionPeriod": state.pending_retention,
    }
    if not state.exists:
        return Plan("skip", "the DB instance no longer exists")
    if exempt := skip_if_exempt(state.tags, config):
        return exempt
    if state.engine.startswith("aurora") or state.cluster:
        return Plan(
            "skip",
            f"Aurora member of cluster {state.cluster or '(unknown)'}: backup retention is a "
            "cluster setting, not an instance one; fix it on the cluster (see the runbook)",
            observed=observed,
        )
    if state.retention >= minimum:
        return Plan(
            "skip", f"already compliant: backups kept {state.retention} days", observed=observed
        )
    if state.pending_retention is not None and state.pending_retention >= minimum:
        return Plan(
            "skip",
            f"already remediated: a retention of {state.pending_retention} days is pending",
            observed=observed,
        )
    if state.status != "available":
        return Plan(
            "skip",
            f"the instance is {state.status!r}; RDS only modifies available instances, and a "
            "later evaluation will hand it over again",
            observed=observed,
        )
    timing = (
        "RDS applies it in the next maintenance window, because turning backups on can "
        "briefly suspend I/O"
        if state.retention == 0
        else "RDS applies it as soon as possible"
    )
    return Plan(
        "act",
        f"backups kept {state.retention} days, below the minimum of {minimum}",
        Action(
            "rds:ModifyDBInstance",
            {
                "DBInstanceIdentifier": state.identifier,
                "BackupRetentionPeriod": minimum,
                "ApplyImmediately": False,
            },
            f"set the backup retention period to {minimum} days ({timing})",
        ),
        observed,
    )


def plan_volume(finding: Finding, state: VolumeState, config: RemediationSettings) -> Plan:
    observed = {
        "encrypted": state.encrypted,
        "state": state.state,
        "ebsEncryptionByDefault": state.encryption_by_default,
    }
    if not state.exists:
        return Plan("skip", "the volume no longer exists")
    if exempt := skip_if_exempt(state.tags, config):
        return exempt
    if state.encrypted:
        return Plan("skip", "already compliant: the volume is encrypted", observed=observed)
    manual = (
        "EBS cannot encrypt an existing volume in place: follow the runbook (snapshot, "
        "encrypted copy, new volume, swap)"
    )
    if config.ebs_default_encryption and state.encryption_by_default is False:
        return Plan(
            "act",
            f"{manual}; turning on EBS encryption by default protects only new volumes",
            Action(
                "ec2:EnableEbsEncryptionByDefault",
                {},
                f"turn on EBS encryption by default in {finding.region}",
            ),
            observed,
        )
    return Plan("manual", manual, observed=observed)


def plan_instance(finding: Finding, state: InstanceState, config: RemediationSettings) -> Plan:
    observed = {"instanceType": state.instance_type, "state": state.state}
    if not state.exists or state.state in ("shutting-down", "terminated"):
        return Plan("skip", "the instance no longer exists", observed=observed)
    if exempt := skip_if_exempt(state.tags, config):
        return exempt
    if config.allowed_instance_types and state.instance_type in config.allowed_instance_types:
        return Plan(
            "skip",
            f"already compliant: {state.instance_type} is an allowed type",
            observed=observed,
        )
    if state.tags.get(FINDING_TAG_KEY) == finding.identifier:
        return Plan(
            "skip",
            f"already flagged: tagged {FINDING_TAG_KEY}={finding.identifier}",
            observed=observed,
        )
    return Plan(
        "act",
        f"{state.instance_type} is not an allowed type; changing the type would stop the "
        "instance, so it is flagged for its owners instead",
        Action(
            "ec2:CreateTags",
            {
                "Resources": [finding.resource_id],
                "Tags": [{"Key": FINDING_TAG_KEY, "Value": finding.identifier}],
            },
            f"tag the instance {FINDING_TAG_KEY}={finding.identifier}",
        ),
        observed,
    )


# identifier -> (resource type it evaluates, planner)
PLANNERS: dict[str, tuple[str, Any]] = {
    "S3_BUCKET_SERVER_SIDE_ENCRYPTION_ENABLED": ("AWS::S3::Bucket", plan_bucket),
    "DB_INSTANCE_BACKUP_ENABLED": ("AWS::RDS::DBInstance", plan_db_instance),
    "ENCRYPTED_VOLUMES": ("AWS::EC2::Volume", plan_volume),
    "DESIRED_INSTANCE_TYPE": ("AWS::EC2::Instance", plan_instance),
}


def unsupported(finding: Finding) -> Plan | None:
    """A finding no planner handles; None when one does."""
    entry = PLANNERS.get(finding.identifier)
    if entry is None:
        return Plan("skip", f"no automatic remediation exists for {finding.identifier}")
    if entry[0] != finding.resource_type:
        return Plan(
            "skip",
            f"{finding.identifier} remediates {entry[0]}, not {finding.resource_type}",
        )
    return None
