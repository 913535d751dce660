"""E9006: a key policy that would lock the account out of its own key."""

from __future__ import annotations

from typing import ClassVar

from cfnlint.rules import CloudFormationLintRule, RuleMatch
from cfnlint.template import Template

from compliance_template.cfn_rules._helpers import (
    KMS_KEY_TYPES,
    account_root_principal,
    key_policies,
    policy_grants,
    resources_of_type,
)

# The safety check asks whether the account can still change the policy; administrator
# statements that grant kms:Put* or kms:* satisfy it as well as the default statement does.
ADMIN_ACTIONS = ("kms:PutKeyPolicy",)


class KmsKeyAdminStatement(CloudFormationLintRule):
    id = "E9006"
    shortdesc = "KMS key policy must let the account administer the key"
    description = (
        "A key policy needs an Allow statement for the account root principal (the account id, "
        "arn:${AWS::Partition}:iam::${AWS::AccountId}:root, in any spelling) that covers "
        "kms:PutKeyPolicy (kms:*, kms:Put*...). Without it KMS's policy lockout safety check "
        "rejects the policy and the key becomes unmanageable."
    )
    source_url = "https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html"
    tags: ClassVar[list[str]] = ["resources", "kms", "iam"]

    def match(self, cfn: Template) -> list[RuleMatch]:
        matches = []
        for name, _ in resources_of_type(cfn, *KMS_KEY_TYPES):
            for policy, path in key_policies(cfn, name):
                # No KeyPolicy means the default policy, which is exactly the root statement.
                if policy is None:
                    continue
                if policy_grants(policy, account_root_principal, ADMIN_ACTIONS) is False:
                    matches.append(
                        RuleMatch(
                            path,
                            f"Key policy of {name} has no Allow statement giving the account "
                            "root (arn:${AWS::Partition}:iam::${AWS::AccountId}:root) "
                            "kms:PutKeyPolicy (e.g. kms:*): the account would be locked out",
                        )
                    )
        return matches
