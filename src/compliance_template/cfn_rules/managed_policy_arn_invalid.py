"""E9007: AWS-managed policy ARNs that are known to be wrong."""

from __future__ import annotations

import re
from typing import ClassVar

from cfnlint.rules import CloudFormationLintRule, RuleMatch
from cfnlint.template import Template

from compliance_template.cfn_rules._helpers import items, properties, render, resources_of_type

CONFIG_ROLE_POLICY = "arn:${AWS::Partition}:iam::aws:policy/service-role/AWS_ConfigRole"
# Policy path after "policy/" -> why it is wrong. Both broke deploys of Config recorders.
WRONG_POLICIES = {
    "service-role/ConfigRole": "does not exist",
    "ConfigRole": "does not exist",
    "service-role/AWSConfigRole": "is the deprecated name of the Config role policy",
    "AWSConfigRole": "is the deprecated name of the Config role policy",
}
_AWS_MANAGED = re.compile(r"arn:(?:\$\{AWS::Partition\}|[^:]+):iam::aws:policy/(.+)")
IAM_TYPES = ("AWS::IAM::Role", "AWS::IAM::User", "AWS::IAM::Group")


class ManagedPolicyArnInvalid(CloudFormationLintRule):
    id = "E9007"
    shortdesc = "AWS-managed policy ARN is known to be wrong"
    description = (
        "ManagedPolicyArns names an AWS-managed policy that does not exist "
        "(service-role/ConfigRole) or is deprecated (AWSConfigRole). The policy for an AWS "
        f"Config recorder role is {CONFIG_ROLE_POLICY}."
    )
    source_url = (
        "https://docs.aws.amazon.com/config/latest/developerguide/security-iam-awsmanpol.html"
    )
    tags: ClassVar[list[str]] = ["resources", "iam", "config"]

    def match(self, cfn: Template) -> list[RuleMatch]:
        matches = []
        for name, resource in resources_of_type(cfn, *IAM_TYPES):
            props = properties(resource)
            base = ["Resources", name, "Properties", "ManagedPolicyArns"]
            for value, path in items(props.get("ManagedPolicyArns", []), base):
                rendered = render(value)
                found = _AWS_MANAGED.fullmatch(rendered.text) if rendered else None
                if found and found.group(1) in WRONG_POLICIES:
                    matches.append(
                        RuleMatch(
                            path,
                            f"AWS-managed policy {found.group(1)} "
                            f"{WRONG_POLICIES[found.group(1)]}: use {CONFIG_ROLE_POLICY}",
                        )
                    )
        return matches
