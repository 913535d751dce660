"""W9014: a remediation configuration this project cannot vouch for, or one that runs with the
permissions of whoever starts it. The analysis is E9012's (remediation_configuration.py)."""

from __future__ import annotations

from typing import ClassVar

from cfnlint.rules import CloudFormationLintRule, RuleMatch
from cfnlint.template import Template

# A function, not the E9012 class: cfn-lint registers every rule class a rule module holds.
from compliance_template.cfn_rules.remediation_configuration import remediation_findings


class RemediationConfigurationReview(CloudFormationLintRule):
    id = "W9014"
    shortdesc = "Remediation configuration to review by hand"
    description = (
        "An AWS::Config::RemediationConfiguration (also inside a conformance pack's "
        "TemplateBody) whose TargetId is a customer document neither AWS-owned nor in this "
        "template, so its parameters cannot be checked; or a manual remediation of a document "
        "that takes an assume role without AutomationAssumeRole, which then runs with the "
        "permissions of whoever starts it."
    )
    source_url = "https://docs.aws.amazon.com/config/latest/APIReference/API_PutRemediationConfigurations.html"
    tags: ClassVar[list[str]] = ["resources", "config", "remediation"]

    def match(self, cfn: Template) -> list[RuleMatch]:
        return [
            RuleMatch(finding.path, finding.message)
            for finding in remediation_findings(cfn)
            if finding.warning
        ]
