"""The AWS side of remediation: read a resource's current state, apply one planned action.

Reads use paginators (one page for one resource) and take tags from the describe responses, so
checking a resource costs one or two calls. Only the four write APIs the planners produce can run.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

from aws import error_code
from botocore import xform_name
from botocore.exceptions import ClientError
from decide import Action, BucketState, DbInstanceState, InstanceState, VolumeState
from findings import Finding, RemediationSettings

WRITE_APIS = frozenset(
    {
        "s3:PutBucketEncryption",
        "rds:ModifyDBInstance",
        "ec2:EnableEbsEncryptionByDefault",
        "ec2:CreateTags",
    }
)
# Config names RDS instances by their resource id (db-ABC..., upper case); instance identifiers
# are always lower case, so the two cannot be confused.
_DBI_RESOURCE_ID = re.compile(r"db-[A-Z0-9]+")
_NOT_FOUND = {
    "NoSuchBucket",
    "DBInstanceNotFound",
    "DBInstanceNotFoundFault",
    "InvalidVolume.NotFound",
    "InvalidVolumeID.Malformed",
    "InvalidInstanceID.NotFound",
    "InvalidInstanceID.Malformed",
}


def _tags(items: Iterable[dict[str, str]] | None) -> dict[str, str]:
    return {item["Key"]: item.get("Value", "") for item in items or ()}


def _missing(error: ClientError) -> bool:
    return error_code(error) in _NOT_FOUND


class Resources:
    def __init__(self, client: Callable[[str], Any]) -> None:
        self._client = client

    def inspect(self, finding: Finding, config: RemediationSettings) -> object:
        readers = {
            "S3_BUCKET_SERVER_SIDE_ENCRYPTION_ENABLED": self.bucket,
            "DB_INSTANCE_BACKUP_ENABLED": self.db_instance,
            "ENCRYPTED_VOLUMES": lambda rid: self.volume(rid, config.ebs_default_encryption),
            "DESIRED_INSTANCE_TYPE": self.instance,
        }
        return readers[finding.identifier](finding.resource_id)

    def bucket(self, name: str) -> BucketState:
        s3 = self._client("s3")
        try:
            tags = _tags(s3.get_bucket_tagging(Bucket=name)["TagSet"])
        except ClientError as error:
            if _missing(error):
                return BucketState(False)
            if error_code(error) != "NoSuchTagSet":
                raise
            tags = {}
        try:
            rules = s3.get_bucket_encryption(Bucket=name)["ServerSideEncryptionConfiguration"]
        except ClientError as error:
            if _missing(error):
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

    def db_instance(self, resource_id: str) -> DbInstanceState:
        rds = self._client("rds")
        query: dict[str, Any] = (
            {"Filters": [{"Name": "dbi-resource-id", "Values": [resource_id]}]}
            if _DBI_RESOURCE_ID.fullmatch(resource_id)
            else {"DBInstanceIdentifier": resource_id}
        )
        try:
            found = [
                db
                for page in rds.get_paginator("describe_db_instances").paginate(**query)
                for db in page["DBInstances"]
            ]
        except ClientError as error:
            if _missing(error):
                return DbInstanceState(False)
            raise
        if not found:
            return DbInstanceState(False)
        db = found[0]
        tags = (
            _tags(db["TagList"])
            if "TagList" in db
            else _tags(rds.list_tags_for_resource(ResourceName=db["DBInstanceArn"])["TagList"])
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

    def volume(self, volume_id: str, read_default: bool) -> VolumeState:
        ec2 = self._client("ec2")
        try:
            volumes = [
                volume
                for page in ec2.get_paginator("describe_volumes").paginate(VolumeIds=[volume_id])
                for volume in page["Volumes"]
            ]
        except ClientError as error:
            if _missing(error):
                return VolumeState(False)
            raise
        if not volumes:
            return VolumeState(False)
        volume = volumes[0]
        by_default = (
            bool(ec2.get_ebs_encryption_by_default()["EbsEncryptionByDefault"])
            if read_default and not volume.get("Encrypted")
            else None
        )
        return VolumeState(
            True,
            bool(volume.get("Encrypted")),
            volume.get("State", ""),
            _tags(volume.get("Tags")),
            by_default,
        )

    def instance(self, instance_id: str) -> InstanceState:
        ec2 = self._client("ec2")
        try:
            instances = [
                instance
                for page in ec2.get_paginator("describe_instances").paginate(
                    InstanceIds=[instance_id]
                )
                for reservation in page["Reservations"]
                for instance in reservation["Instances"]
            ]
        except ClientError as error:
            if _missing(error):
                return InstanceState(False)
            raise
        if not instances:
            return InstanceState(False)
        instance = instances[0]
        return InstanceState(
            True,
            instance.get("State", {}).get("Name", ""),
            instance.get("InstanceType", ""),
            _tags(instance.get("Tags")),
        )

    def apply(self, action: Action) -> None:
        if action.api not in WRITE_APIS:
            raise ValueError(f"remediation never calls {action.api}")
        service, operation = action.api.split(":")
        getattr(self._client(service), xform_name(operation))(**action.params)
