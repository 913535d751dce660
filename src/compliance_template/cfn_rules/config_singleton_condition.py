"""E9001: the account-and-region singletons of AWS Config must be created conditionally."""

from __future__ import annotations

from typing import ClassVar

from cfnlint.rules import CloudFormationLintRule, RuleMatch
from cfnlint.template import Template

from compliance_template.cfn_rules._helpers import resources_of_type

SINGLETONS = {
    "AWS::Config::ConfigurationRecorder": "MaxNumberOfConfigurationRecordersExceededException",
    "AWS::Config::DeliveryChannel": "MaxNumberOfDeliveryChannelsExceededException",
}


class ConfigSingletonCondition(CloudFormationLintRule):
    id = "E9001"
    shortdesc = "Config recorder and delivery channel need a Condition"
    description = (
        "An account has one configuration recorder and one delivery channel per region. A stack "
        "that creates them unconditionally fails wherever AWS Config is already set up, so give "
        "them a Condition (for example on a parameter saying whether to create them)."
    )
    source_url = "https://docs.aws.amazon.com/config/latest/developerguide/stop-start-recorder.html"
    tags: ClassVar[list[str]] = ["resources", "config"]

    def match(self, cfn: Template) -> list[RuleMatch]:
        matches = []
        for name, resource in resources_of_type(cfn, *SINGLETONS):
            if "Condition" not in resource:
                kind = resource["Type"]
                matches.append(
                    RuleMatch(
                        ["Resources", name],
                        f"{kind} {name} has no Condition: there can be only one per account and "
                        f"region, so the stack fails with {SINGLETONS[kind]} where one exists",
                    )
                )
        return matches
