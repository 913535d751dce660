"""W9007: ARNs with a literal partition instead of ${AWS::Partition}."""

from __future__ import annotations

import re
from typing import Any, ClassVar

from cfnlint.rules import CloudFormationLintRule, RuleMatch
from cfnlint.template import Template

from compliance_template.cfn_rules._helpers import Path, render, walk

_LITERAL_PARTITION = re.compile(r"(?<![A-Za-z0-9-])arn:(aws(-[a-z]+)*):")
# Sections whose values end up in the stack; Metadata and descriptions are prose or tool
# settings where an example ARN is harmless.
SECTIONS = ("Parameters", "Mappings", "Conditions", "Resources", "Outputs", "Rules")
PROSE_KEYS = frozenset({"Description", "ConstraintDescription", "Metadata"})


def _literal_partition(node: Any) -> str | None:
    text = node if isinstance(node, str) else None
    if isinstance(node, dict) and "Fn::Join" in node:
        rendered = render(node)
        text = rendered.text if rendered else None
    found = _LITERAL_PARTITION.search(text) if text else None
    return found.group(1) if found else None


def _in_prose(path: Path) -> bool:
    return any(part in PROSE_KEYS for part in path)


def _deployer_value(path: Path) -> bool:
    """A parameter's default, in the template or in a conformance pack's body (whose values the
    outer template passes in), is a starting value the deployer replaces in another partition:
    AWS's sample packs default IamPolicyInUseParamPolicyARN to an aws-partition policy, and we
    keep the pack's defaults. The rule is about ARNs the template itself builds."""
    return (len(path) == 3 and path[0] == "Parameters" and path[2] == "Default") or (
        "TemplateBody" in path
    )


class HardcodedPartition(CloudFormationLintRule):
    id = "W9007"
    shortdesc = "ARN with a hard-coded partition"
    description = (
        "An ARN spells its partition (arn:aws:...) instead of using ${AWS::Partition}, so the "
        "template breaks in the China and GovCloud partitions."
    )
    source_url = "https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/pseudo-parameter-reference.html"
    tags: ClassVar[list[str]] = ["resources", "arn", "partition"]

    def match(self, cfn: Template) -> list[RuleMatch]:
        matches: list[RuleMatch] = []
        reported: list[Path] = []
        for section in SECTIONS:
            for node, path in walk(cfn.template.get(section), [section]):
                if _in_prose(path) or _deployer_value(path):
                    continue
                if any(path[: len(p)] == p for p in reported):
                    continue
                partition = _literal_partition(node)
                if partition:
                    reported.append(path)
                    matches.append(
                        RuleMatch(
                            path,
                            f"ARN with the literal partition {partition!r}: use "
                            "${AWS::Partition} (Fn::Sub) so the template works in every "
                            "partition",
                        )
                    )
        return matches
