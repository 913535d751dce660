"""E9002: an AWS-owned Config rule identifier that is known not to exist."""

from __future__ import annotations

from typing import ClassVar

from cfnlint.rules import CloudFormationLintRule, RuleMatch
from cfnlint.template import Template

from compliance_template.cfn_rules._helpers import managed_rule_uses
from compliance_template.generator.catalog import KNOWN_INVALID_IDENTIFIERS


class ConfigRuleIdentifierInvalid(CloudFormationLintRule):
    id = "E9002"
    shortdesc = "AWS Config managed rule identifier does not exist"
    description = (
        "An AWS-owned Config rule (Source.Owner AWS) names a SourceIdentifier that looks "
        "plausible but is not a managed rule; AWS Config rejects the rule at deploy time."
    )
    source_url = (
        "https://docs.aws.amazon.com/config/latest/developerguide/managed-rules-by-aws-config.html"
    )
    tags: ClassVar[list[str]] = ["resources", "config"]

    def match(self, cfn: Template) -> list[RuleMatch]:
        return [
            RuleMatch(
                use.identifier_path,
                f"{use.identifier} is not an AWS Config managed rule; did you mean "
                f"{KNOWN_INVALID_IDENTIFIERS[use.identifier]}?",
            )
            for use in managed_rule_uses(cfn)
            if use.identifier in KNOWN_INVALID_IDENTIFIERS
        ]
