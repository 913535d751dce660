"""E9005: a log group encrypted with a key of this template that CloudWatch Logs cannot use."""

from __future__ import annotations

from typing import Any, ClassVar

from cfnlint.rules import CloudFormationLintRule, RuleMatch
from cfnlint.template import Template

from compliance_template.cfn_rules._helpers import (
    Verdict,
    branches,
    describe_path,
    key_grants,
    properties,
    resolve_kms_key,
    resources_of_type,
    service_principal,
)

# The operations behind the documented kms:Encrypt*, kms:Decrypt*, kms:ReEncrypt*,
# kms:GenerateDataKey* and kms:Describe*; a statement granting those wildcards covers them.
LOGS_ACTIONS = (
    "kms:Encrypt",
    "kms:Decrypt",
    "kms:ReEncryptFrom",
    "kms:ReEncryptTo",
    "kms:GenerateDataKey",
    "kms:DescribeKey",
)
CONTEXT_KEY = "kms:encryptioncontext:aws:logs:arn"
# Operators under which a condition on the log group ARN can match it.
MATCHING_OPERATORS = ("arnlike", "arnequals", "stringlike", "stringequals")


def _context_condition(condition: Any) -> Verdict:
    """False when the statement conditions the encryption context with an operator that can
    never match a log group ARN; other conditions cannot be judged here and pass.
    """
    if not isinstance(condition, dict):
        return True
    for operator, tests in condition.items():
        if not isinstance(operator, str) or not isinstance(tests, dict):
            continue
        base = operator.lower().removeprefix("forallvalues:").removeprefix("foranyvalue:")
        uses_context = any(isinstance(k, str) and k.lower() == CONTEXT_KEY for k in tests)
        if uses_context and base.removesuffix("ifexists") not in MATCHING_OPERATORS:
            return False
    return True


class LogGroupKmsKey(CloudFormationLintRule):
    id = "E9005"
    shortdesc = "Log group KMS key must be an ARN that CloudWatch Logs may use"
    description = (
        "A log group's KmsKeyId takes the key ARN (Fn::GetAtt Key.Arn); Ref to an AWS::KMS::Key "
        "returns the key ID, which CloudWatch Logs rejects. The key's policy must allow "
        "logs.${AWS::Region}.amazonaws.com kms:Encrypt*, kms:Decrypt*, kms:ReEncrypt*, "
        "kms:GenerateDataKey* and kms:Describe*, with an ArnLike/ArnEquals condition on "
        "kms:EncryptionContext:aws:logs:arn; otherwise creating the log group fails."
    )
    source_url = (
        "https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/encrypt-log-data-kms.html"
    )
    tags: ClassVar[list[str]] = ["resources", "logs", "kms"]

    def match(self, cfn: Template) -> list[RuleMatch]:
        matches = []
        for name, resource in resources_of_type(cfn, "AWS::Logs::LogGroup"):
            props = properties(resource)
            if "KmsKeyId" not in props:
                continue
            base = ["Resources", name, "Properties", "KmsKeyId"]
            for value, path in branches(props["KmsKeyId"], base):
                key = resolve_kms_key(cfn, value)
                if key.logical_id is None:
                    continue
                # The property's pattern admits key and alias ARNs, not key ids or alias names.
                is_arn_text = isinstance(value, str) and value.startswith("arn:")
                if key.form != "arn" and not is_arn_text:
                    matches.append(
                        RuleMatch(
                            path,
                            f"KmsKeyId of log group {name} must be the key ARN: use "
                            f'{{"Fn::GetAtt": ["{key.logical_id}", "Arn"]}} (Ref to a key '
                            "returns its ID, Ref to an alias its name)",
                        )
                    )
                matches.extend(
                    RuleMatch(
                        path,
                        f"Key policy of {key.logical_id} ({describe_path(policy_path)}) does "
                        f"not let logs.${{AWS::Region}}.amazonaws.com use the key for log group "
                        f"{name}: allow kms:Encrypt*, kms:Decrypt*, kms:ReEncrypt*, "
                        "kms:GenerateDataKey*, kms:Describe* with an ArnLike condition on "
                        "kms:EncryptionContext:aws:logs:arn",
                    )
                    for verdict, policy_path in key_grants(
                        cfn,
                        key.logical_id,
                        service_principal("logs"),
                        LOGS_ACTIONS,
                        _context_condition,
                    )
                    if verdict is False
                )
        return matches
