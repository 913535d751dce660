"""The customer-managed KMS key that encrypts the bucket, log groups, topic and queue."""

from __future__ import annotations

from troposphere import GetAtt, Sub, kms

from . import policies
from .stack import Stack


def add_encryption(stack: Stack) -> None:
    function_roles = [GetAtt(stack.id(f"{name}-role"), "Arn") for name in stack.functions]
    key = stack.add(
        kms.Key(
            "ComplianceKey",
            Description=Sub("Encrypts compliance reports, logs and messages of ${AWS::StackName}"),
            EnableKeyRotation=True,
            KeyPolicy=policies.key_policy(
                function_roles,
                stack.organization_id,
                # A member's bucket and topic are the central account's, encrypted by its key.
                alarms_publish=stack.remote_key_arn is None,
            ),
            # The key protects retained reports: deleting it would make them unreadable.
            DeletionPolicy="Retain",
            UpdateReplacePolicy="Retain",
        ),
        role="key",
    )
    stack.add(
        kms.Alias(
            "ComplianceKeyAlias",
            AliasName=Sub("alias/${AWS::StackName}/compliance"),
            TargetKeyId=key.ref(),
        )
    )
    stack.output(
        "KeyArn", "KMS key that encrypts reports, logs, topic and queue", GetAtt(key, "Arn")
    )
