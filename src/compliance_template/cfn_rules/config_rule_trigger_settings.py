"""E9004: trigger settings a managed rule's trigger type does not allow."""

from __future__ import annotations

from typing import ClassVar

from cfnlint.rules import CloudFormationLintRule, RuleMatch
from cfnlint.template import Template

from compliance_template.cfn_rules._helpers import managed_rule_uses, present
from compliance_template.generator.catalog import BY_IDENTIFIER, Trigger


class ConfigRuleTriggerSettings(CloudFormationLintRule):
    id = "E9004"
    shortdesc = "MaximumExecutionFrequency or Scope does not fit the managed rule's trigger"
    description = (
        "MaximumExecutionFrequency only applies to periodic rules, and AWS Config rejects a "
        "Scope on a rule that is only periodic. Checked for the managed rules whose trigger "
        "kinds the catalog has verified on a current AWS page (an unverified 2023 fact is not "
        "enough to contradict AWS's own sample packs)."
    )
    source_url = "https://docs.aws.amazon.com/config/latest/developerguide/managed-rules-by-trigger-type.html"
    tags: ClassVar[list[str]] = ["resources", "config"]

    def match(self, cfn: Template) -> list[RuleMatch]:
        matches = []
        for use in managed_rule_uses(cfn):
            rule = BY_IDENTIFIER.get(use.identifier)
            if rule is None or not rule.facts.triggers_verified:
                continue
            if Trigger.PERIODIC not in rule.triggers:
                matches.extend(
                    RuleMatch(
                        path,
                        f"{use.identifier} is triggered by configuration changes only; "
                        "MaximumExecutionFrequency applies to periodic rules: remove it",
                    )
                    for path in present(
                        use.settings, "MaximumExecutionFrequency", use.settings_path
                    )
                )
            if rule.triggers == {Trigger.PERIODIC}:
                matches.extend(
                    RuleMatch(
                        path,
                        f"{use.identifier} is a periodic rule; AWS Config rejects a scope "
                        f"({path[len(use.settings_path)]}) on it: remove it",
                    )
                    for key in use.scope_keys
                    for path in present(use.settings, key, use.settings_path)
                )
        return matches
