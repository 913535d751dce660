"""ENCRYPTED_VOLUMES: nothing encrypts a volume in place; optionally turn on EBS encryption by
default for the region, and report the volume with the manual runbook."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import rulebook
from decide import Action, Plan, skip_if_gone_or_exempt
from findings import Finding, RemediationSettings
from reading import first_described, tag_map

IDENTIFIER = "ENCRYPTED_VOLUMES"
RESOURCE_TYPE = rulebook.text(IDENTIFIER).resource_types[0]
# EC2's Describe calls and the account-level setting take no resource-level permissions.
READS = {"any": ("ec2:DescribeVolumes", "ec2:GetEbsEncryptionByDefault")}
WRITES = {"EnableEbsEncryptionByDefault": ("any", ("ec2:EnableEbsEncryptionByDefault",))}
_NOT_FOUND = {"InvalidVolume.NotFound", "InvalidVolumeID.Malformed"}


@dataclass(frozen=True)
class VolumeState:
    exists: bool
    encrypted: bool = False
    state: str = ""
    tags: Mapping[str, str] = field(default_factory=dict)
    encryption_by_default: bool | None = None  # None: not read (remediation may not change it)


def read(
    client: Callable[[str], Any], finding: Finding, config: RemediationSettings
) -> VolumeState:
    ec2 = client("ec2")
    volume = first_described(
        ec2,
        "describe_volumes",
        lambda page: page["Volumes"],
        _NOT_FOUND,
        VolumeIds=[finding.resource_id],
    )
    if volume is None:
        return VolumeState(False)
    by_default = (
        bool(ec2.get_ebs_encryption_by_default()["EbsEncryptionByDefault"])
        if config.ebs_default_encryption and not volume.get("Encrypted")
        else None
    )
    return VolumeState(
        True,
        bool(volume.get("Encrypted")),
        volume.get("State", ""),
        tag_map(volume.get("Tags")),
        by_default,
    )


def plan(finding: Finding, state: VolumeState, config: RemediationSettings) -> Plan:
    observed = {
        "encrypted": state.encrypted,
        "state": state.state,
        "ebsEncryptionByDefault": state.encryption_by_default,
    }
    if early := skip_if_gone_or_exempt(state.exists, state.tags, config, "the volume"):
        return early
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


def apply(client: Callable[[str], Any], action: Action) -> None:
    client("ec2").enable_ebs_encryption_by_default(**action.params)
