"""W9002: an AWS-owned Config rule identifier this project has not checked."""

from __future__ import annotations

from typing import ClassVar

from cfnlint.rules import CloudFormationLintRule, RuleMatch
from cfnlint.template import Template

from compliance_template.cfn_rules._helpers import managed_rule_uses
from compliance_template.generator.catalog import BY_IDENTIFIER, KNOWN_INVALID_IDENTIFIERS


class ConfigRuleIdentifierUnknown(CloudFormationLintRule):
    id = "W9002"
    shortdesc = "AWS Config managed rule identifier is not in the catalog"
    description = (
        "An AWS-owned Config rule names a SourceIdentifier that is not in this project's catalog "
        "of checked managed rules. It may well exist, but its name, parameters and trigger type "
        "have not been verified: check it against the managed-rules list."
    )
    source_url = (
        "https://docs.aws.amazon.com/config/latest/developerguide/managed-rules-by-aws-config.html"
    )
    tags: ClassVar[list[str]] = ["resources", "config"]

    def match(self, cfn: Template) -> list[RuleMatch]:
        return [
            RuleMatch(
                use.identifier_path,
                f"{use.identifier} is not in the catalog of checked managed rules: verify that it "
                "exists and takes the parameters given, on the AWS Config managed-rules list",
            )
            for use in managed_rule_uses(cfn)
            if use.identifier not in BY_IDENTIFIER
            and use.identifier not in KNOWN_INVALID_IDENTIFIERS
        ]
