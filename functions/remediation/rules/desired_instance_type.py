"""DESIRED_INSTANCE_TYPE: tag the instance for its owners; never stop or resize it."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import rulebook
from decide import Action, Plan, skip_if_exempt
from findings import Finding, RemediationSettings
from reading import first_described, tag_map

IDENTIFIER = "DESIRED_INSTANCE_TYPE"
RESOURCE_TYPE = rulebook.text(IDENTIFIER).resource_types[0]
READS = {"any": ("ec2:DescribeInstances",)}
# "ec2-instance-finding-tag": instances, and only the tag key below.
WRITES = {"FlagInstances": ("ec2-instance-finding-tag", ("ec2:CreateTags",))}
FINDING_TAG_KEY = "compliance:finding"  # the only key the template lets remediation write
_NOT_FOUND = {"InvalidInstanceID.NotFound", "InvalidInstanceID.Malformed"}


@dataclass(frozen=True)
class InstanceState:
    exists: bool
    state: str = ""
    instance_type: str = ""
    tags: Mapping[str, str] = field(default_factory=dict)


def read(
    client: Callable[[str], Any], finding: Finding, config: RemediationSettings
) -> InstanceState:
    ec2 = client("ec2")
    instance = first_described(
        ec2,
        "describe_instances",
        lambda page: (i for reservation in page["Reservations"] for i in reservation["Instances"]),
        _NOT_FOUND,
        InstanceIds=[finding.resource_id],
    )
    if instance is None:
        return InstanceState(False)
    return InstanceState(
        True,
        instance.get("State", {}).get("Name", ""),
        instance.get("InstanceType", ""),
        tag_map(instance.get("Tags")),
    )


def plan(finding: Finding, state: InstanceState, config: RemediationSettings) -> Plan:
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


def apply(client: Callable[[str], Any], action: Action) -> None:
    client("ec2").create_tags(**action.params)
