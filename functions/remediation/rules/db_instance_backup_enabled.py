"""DB_INSTANCE_BACKUP_ENABLED: raise the instance's backup retention to the minimum."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import rulebook
from decide import Action, Plan, skip_if_gone_or_exempt
from findings import Finding, RemediationSettings
from reading import first_described, tag_map

IDENTIFIER = "DB_INSTANCE_BACKUP_ENABLED"
RESOURCE_TYPE = rulebook.text(IDENTIFIER).resource_types[0]
READS = {"rds-db-instance": ("rds:DescribeDBInstances", "rds:ListTagsForResource")}
WRITES = {"SetBackupRetention": ("rds-db-instance", ("rds:ModifyDBInstance",))}
_NOT_FOUND = {"DBInstanceNotFound", "DBInstanceNotFoundFault"}
# Config names RDS instances by their resource id (db-ABC..., upper case); instance identifiers
# are always lower case, so the two cannot be confused.
_DBI_RESOURCE_ID = re.compile(r"db-[A-Z0-9]+")


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


def read(
    client: Callable[[str], Any], finding: Finding, config: RemediationSettings
) -> DbInstanceState:
    rds = client("rds")
    resource_id = finding.resource_id
    query: dict[str, Any] = (
        {"Filters": [{"Name": "dbi-resource-id", "Values": [resource_id]}]}
        if _DBI_RESOURCE_ID.fullmatch(resource_id)
        else {"DBInstanceIdentifier": resource_id}
    )
    db = first_described(
        rds, "describe_db_instances", lambda page: page["DBInstances"], _NOT_FOUND, **query
    )
    if db is None:
        return DbInstanceState(False)
    tags = (
        tag_map(db["TagList"])
        if "TagList" in db
        else tag_map(rds.list_tags_for_resource(ResourceName=db["DBInstanceArn"])["TagList"])
    )
    pending = db.get("PendingModifiedValues", {}).get("BackupRetentionPeriod")
    return DbInstanceState(
        exists=True,
        identifier=db["DBInstanceIdentifier"],
        engine=db.get("Engine", ""),
        cluster=db.get("DBClusterIdentifier"),
        status=db.get("DBInstanceStatus", ""),
        retention=int(db.get("BackupRetentionPeriod", 0)),
        pending_retention=int(pending) if pending is not None else None,
        tags=tags,
    )


def plan(finding: Finding, state: DbInstanceState, config: RemediationSettings) -> Plan:
    minimum = config.backup_retention_days
    observed = {
        "dbInstanceIdentifier": state.identifier,
        "engine": state.engine,
        "status": state.status,
        "backupRetentionPeriod": state.retention,
        "pendingBackupRetentionPeriod": state.pending_retention,
    }
    if early := skip_if_gone_or_exempt(state.exists, state.tags, config, "the DB instance"):
        return early
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


def apply(client: Callable[[str], Any], action: Action) -> None:
    client("rds").modify_db_instance(**action.params)
