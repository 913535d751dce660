"""W9013: a condition named like a parameter, resource, mapping or output of the template."""

from __future__ import annotations

from typing import ClassVar

from cfnlint.rules import CloudFormationLintRule, RuleMatch
from cfnlint.template import Template

# The sections whose names a `Ref`, `Fn::GetAtt`, `Fn::FindInMap` or `Condition` can mean.
OTHER_SECTIONS = ("Parameters", "Resources", "Mappings", "Outputs")


class ConditionNameShadows(CloudFormationLintRule):
    id = "W9013"
    shortdesc = "Condition named like a parameter, resource, mapping or output"
    description = (
        "CloudFormation keeps conditions in their own namespace and accepts a condition named "
        "like the parameter it tests, but other engines and tools that read templates (local "
        "emulators, converters, policy scanners) resolve the shared name ambiguously. Give each "
        "condition a name of its own."
    )
    source_url = "https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/conditions-section-structure.html"
    tags: ClassVar[list[str]] = ["conditions"]

    def match(self, cfn: Template) -> list[RuleMatch]:
        conditions = cfn.template.get("Conditions")
        if not isinstance(conditions, dict):
            return []
        matches = []
        for name in conditions:
            for section in OTHER_SECTIONS:
                names = cfn.template.get(section)
                if isinstance(names, dict) and name in names:
                    matches.append(
                        RuleMatch(
                            ["Conditions", name],
                            f"Condition {name} has the name of an entry in {section}: "
                            "rename the condition",
                        )
                    )
        return matches
