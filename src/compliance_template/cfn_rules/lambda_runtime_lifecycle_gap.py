"""W9009: deprecated Lambda runtimes that cfn-lint's own lifecycle rules cannot report."""

from __future__ import annotations

from datetime import date
from typing import Any, ClassVar

from cfnlint.data import AdditionalSpecs
from cfnlint.helpers import load_resource
from cfnlint.rules import CloudFormationLintRule, RuleMatch
from cfnlint.template import Template

from compliance_template.cfn_rules._helpers import branches, properties, resources_of_type


def _date(value: Any) -> date | None:
    return date.fromisoformat(value) if isinstance(value, str) else None


def uncovered_deprecation(entry: dict[str, Any], today: date) -> bool:
    """True for a runtime deprecated by `today` that none of cfn-lint's W2531, E2531 and E2533
    reports. Those rules compare the deprecated, create-block and update-block dates, and stop
    with an exception when a block date is null (the data has such entries); E2533 still works
    when only the create-block date is null.
    """
    deprecated = _date(entry.get("deprecated"))
    create_block = _date(entry.get("create-block"))
    update_block = _date(entry.get("update-block"))
    if deprecated is None or deprecated > today:
        return False
    if create_block is not None and update_block is not None:
        return False
    return update_block is None or update_block > today


class LambdaRuntimeLifecycleGap(CloudFormationLintRule):
    id = "W9009"
    shortdesc = "Deprecated Lambda runtime that cfn-lint's lifecycle rules miss"
    description = (
        "Reports a runtime whose deprecation date in cfn-lint's runtime lifecycle data has "
        "passed but which cfn-lint's own W2531/E2531/E2533 cannot report because a block date "
        "is unknown. All other deprecated runtimes are left to those rules."
    )
    source_url = "https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtimes.html"
    tags: ClassVar[list[str]] = ["resources", "lambda", "runtime"]

    def __init__(self) -> None:
        super().__init__()
        self.lifecycle: dict[str, dict[str, Any]] = load_resource(
            AdditionalSpecs, "LmbdRuntimeLifecycle.json"
        )

    def match(self, cfn: Template) -> list[RuleMatch]:
        today = date.today()
        matches = []
        for name, resource in resources_of_type(cfn, "AWS::Lambda::Function"):
            base = ["Resources", name, "Properties", "Runtime"]
            for runtime, path in branches(properties(resource).get("Runtime"), base):
                entry = self.lifecycle.get(runtime) if isinstance(runtime, str) else None
                if entry and uncovered_deprecation(entry, today):
                    matches.append(
                        RuleMatch(
                            path,
                            f"Runtime {runtime!r} was deprecated on {entry['deprecated']}; "
                            f"move to {entry.get('successor') or 'a supported runtime'}",
                        )
                    )
        return matches
