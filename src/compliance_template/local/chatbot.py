"""AWS Chatbot's channel configurations for the local emulator.

moto 5.2.5 has no Chatbot at all: no backend, no API, no CloudFormation handler, so a stack with
a chat channel would fail on `Fn::GetAtt`/`Ref` of the configuration. These handlers keep each
configuration, as the template gave it, in `CONFIGURATIONS` for as long as the process runs, with
the ARN Chatbot would give it; `configurations()` reads them (there is no API to ask). They
check what the resource schema requires, so a template missing a property fails here as it would
in AWS. Nothing is delivered to a channel: SNS (moto) delivers the card to no one.
"""

from __future__ import annotations

import re
from typing import Any, ClassVar

from ..extras import extra_of, missing_extra
from .emulated import EmulatedResource

try:
    from moto.utilities.utils import get_partition
except ModuleNotFoundError as missing:  # installed without this subpackage's extra
    raise missing_extra(extra_of(__package__), missing) from None

# (account, ARN) -> {"Type": ..., "Properties": ...}
CONFIGURATIONS: dict[tuple[str, str], dict[str, Any]] = {}
_NAME = re.compile(r"[A-Za-z0-9-_]{1,128}")


class ChannelConfiguration(EmulatedResource):
    """Stored in `CONFIGURATIONS`, keyed by account and ARN; updated in place unless a
    create-only property changes (then replaced, as CloudFormation does)."""

    ATTRIBUTES: ClassVar[dict[str, str]] = {"Arn": "physical_resource_id"}
    REQUIRED: ClassVar[tuple[str, ...]] = ()
    CREATE_ONLY: ClassVar[tuple[str, ...]] = ("ConfigurationName",)
    KIND = ""

    def __init__(self, physical_id: str, properties: dict, account_id: str, region: str) -> None:
        super().__init__(physical_id, properties, account_id, region)
        name = properties.get("ConfigurationName", "")
        # Chatbot's configurations belong to the account (the ARN has no region).
        self.physical_resource_id = (
            f"arn:{get_partition(region)}:chatbot::{account_id}:chat-configuration/"
            f"{self.KIND}/{name}"
        )

    @classmethod
    def update_from_cloudformation_json(
        cls,
        original_resource: EmulatedResource,
        new_resource_name: str,
        cloudformation_json: dict,
        account_id: str,
        region_name: str,
    ) -> EmulatedResource:
        new = cloudformation_json["Properties"]
        if any(new.get(p) != original_resource.properties.get(p) for p in cls.CREATE_ONLY):
            original_resource.delete(account_id, region_name)
            return cls.create_from_cloudformation_json(
                new_resource_name, cloudformation_json, account_id, region_name
            )
        original_resource.properties = new
        original_resource.apply()
        return original_resource

    def apply(self) -> None:
        missing = [name for name in self.REQUIRED if not self.properties.get(name)]
        if missing:
            raise ValueError(f"{self.TYPE}: required properties missing: {', '.join(missing)}")
        name = self.properties["ConfigurationName"]
        if not _NAME.fullmatch(name):
            raise ValueError(f"{self.TYPE}: ConfigurationName {name!r} is not ^[A-Za-z0-9-_]+$")
        CONFIGURATIONS[(self.account_id, self.physical_resource_id)] = {
            "Type": self.TYPE,
            "Properties": dict(self.properties),
        }

    def delete(self, account_id: str, region_name: str) -> None:
        CONFIGURATIONS.pop((account_id, self.physical_resource_id), None)


class SlackChannelConfiguration(ChannelConfiguration):
    TYPE = "AWS::Chatbot::SlackChannelConfiguration"
    KIND = "slack-channel"
    REQUIRED = ("ConfigurationName", "IamRoleArn", "SlackWorkspaceId", "SlackChannelId")
    CREATE_ONLY = ("ConfigurationName", "SlackWorkspaceId")


class MicrosoftTeamsChannelConfiguration(ChannelConfiguration):
    TYPE = "AWS::Chatbot::MicrosoftTeamsChannelConfiguration"
    KIND = "microsoft-teams-channel"
    REQUIRED = ("ConfigurationName", "IamRoleArn", "TeamsTenantId", "TeamId", "TeamsChannelId")
    CREATE_ONLY = ("ConfigurationName", "TeamsTenantId", "TeamId")


def configurations(account_id: str) -> dict[str, dict[str, Any]]:
    """The account's stored configurations by ARN: {"Type", "Properties"}."""
    return {
        arn: dict(config)
        for (account, arn), config in CONFIGURATIONS.items()
        if account == account_id
    }
