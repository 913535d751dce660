"""Findings we suppress on purpose, each with the reason a reviewer needs to accept it.

cfn-lint reads `Metadata.cfn-lint.config.ignore_checks`; checkov reads `Metadata.checkov.skip`
(id and comment). The reasons for cfn-lint checks sit beside them under `Metadata.Suppressions`,
and a test fails when an ignored check has no reason.

The IAM policy linter (parliament, run by `scripts/scan.py`) has no suppression syntax of its own:
the scanner reads `Metadata.parliament.skip` (finding id, statement Sid, comment) the same way.
A skip that no longer matches a finding fails the scan, so a reason cannot outlive its finding.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

# Security-scanner checks we skip, by resource type: (check id, reason a reviewer accepts).
SCANNER_SKIPS: Mapping[str, tuple[tuple[str, str], ...]] = {
    "AWS::Lambda::Function": (
        (
            "CKV_AWS_117",
            "Not in a VPC on purpose: the functions call only AWS APIs (Config, S3, SNS, SQS, "
            "EC2, RDS, Lambda, SSM) and reach nothing on a private network. A VPC would add a NAT "
            "gateway or interface endpoints in every region for no isolation gain: what the "
            "functions may do is bounded by their IAM roles, not by where they run.",
        ),
        (
            "CKV_AWS_173",
            "The environment holds no secrets, only values anyone who can read the stack sees "
            "(log level, metric namespace, bucket, topic and function names or ARNs, rule names, "
            "remediation mode, names of the exemptions' SSM parameters); Lambda encrypts it at "
            "rest with the AWS-managed key. A customer key would add a grant and a KMS call on "
            "every cold start for no confidentiality gain. Secrets never go into the "
            "environment, and CKV_AWS_45 stays on to catch one.",
        ),
    ),
    "AWS::S3::Bucket": (
        (
            "CKV_AWS_18",
            "No server access logs: object-level access is audited with CloudTrail S3 data "
            "events from the account's or organization's trail (docs/security.md), which record "
            "the authenticated caller and outcome of every request, while access logs are "
            "delivered best effort and need a second bucket. The bucket is private: public "
            "access blocked, TLS only, SSE-KMS with our key, writes limited by prefix to the "
            "function roles its policies name and to AWS Config.",
        ),
    ),
}

# IAM policy linter findings we skip, by resource type: (finding id, statement Sid, reason).
POLICY_LINT_SKIPS: Mapping[str, tuple[tuple[str, str, str], ...]] = {
    "AWS::KMS::Key": (
        (
            "RESOURCE_MISMATCH",
            "AccountAdministersKey",
            "kms:* for the account root is AWS's default key policy statement: it lets IAM "
            "policies in this account govern the key and keeps CloudFormation's lockout check "
            "satisfied. A key policy applies only to its own key, so the actions kms:* also "
            "names that act on no key (CreateKey, aliases, custom key stores) grant nothing.",
        ),
        *(
            (
                finding,
                "CloudWatchLogsEncryptsLogGroups",
                "AWS's documented key policy statement for CloudWatch Logs, kept verbatim and "
                "enforced by lint rule E9005: kms:Describe* with an ArnLike condition on "
                "kms:EncryptionContext:aws:logs:arn. Describe calls carry no encryption context, "
                "so the condition lets none of them through (the grant is inert, not broad), and "
                "ArnLike matches the ARN-valued context entry exactly as StringLike would.",
            )
            for finding in (
                "RESOURCE_MISMATCH",
                "UNKNOWN_CONDITION_FOR_ACTION",
                "MISMATCHED_TYPE",
            )
        ),
    ),
    "AWS::S3::BucketPolicy": (
        (
            "MISMATCHED_TYPE_BUT_USABLE",
            "DenyOtherKmsKey",
            "A string comparison on purpose in a Deny: StringNotEquals, together with Null "
            "false on the same key, refuses every upload that names a key other than our key's "
            "exact ARN, whatever form the value takes, so the statement fails closed. For an "
            "exact match an ARN operator adds nothing, and this is the operator S3 bucket "
            "policies commonly use here.",
        ),
    ),
}


# Policy linter findings of one resource (by logical id), for a finding other resources of its
# type do not have: (finding id, statement Sid or None for the whole policy, reason).
RESOURCE_POLICY_LINT_SKIPS: Mapping[str, tuple[tuple[str, str | None, str], ...]] = {
    "ReportStateMachineManagedPolicy": (
        (
            "PERMISSIONS_MANAGEMENT_ACTIONS",
            None,
            "logs:PutResourcePolicy is among the actions Step Functions requires of its role to "
            "deliver logs to CloudWatch Logs (it sets the log group's resource policy for the "
            "delivery); like the other delivery actions it takes no resource-level permission. "
            "The role is assumable only by Step Functions for this account, and the state "
            "machine logs errors only.",
        ),
    ),
}


def resource_policy_lint_metadata(logical_id: str) -> dict[str, object]:
    """The policy-linter skips of one resource (RESOURCE_POLICY_LINT_SKIPS)."""
    return {
        "parliament": {
            "skip": [
                {"id": finding, **({"sid": sid} if sid else {}), "comment": reason}
                for finding, sid, reason in RESOURCE_POLICY_LINT_SKIPS[logical_id]
            ]
        }
    }


def _principal_is_anyone(principal: Any) -> bool:
    """Principal "*", {"AWS": "*"} or a list holding "*": the cases checkov's CKV_AWS_33 fails."""
    if isinstance(principal, dict):
        principal = principal.get("AWS")
    return principal == "*" or (isinstance(principal, list) and "*" in principal)


def _limited_to_organization(statement: Mapping[str, Any]) -> bool:
    condition = statement.get("Condition", {})
    equals = condition.get("StringEquals", {}) if isinstance(condition, dict) else {}
    return any(k.lower() == "aws:principalorgid" and v for k, v in equals.items())


def key_shared_with_organization_only(properties: Mapping[str, Any]) -> bool:
    """True when the key policy grants "*" and every such grant is limited to our organization."""
    policy = properties.get("KeyPolicy", {})
    statements = policy.get("Statement", []) if isinstance(policy, dict) else []
    open_grants = [
        s
        for s in statements
        if isinstance(s, dict)
        and s.get("Effect") != "Deny"
        and _principal_is_anyone(s.get("Principal"))
    ]
    return bool(open_grants) and all(_limited_to_organization(s) for s in open_grants)


# Checks we skip only where the resource itself carries the control that makes the skip sound,
# by resource type: (check id, reason, test on the resource's Properties). Where the test fails,
# the check runs and fails as it should.
CONDITIONAL_SKIPS: Mapping[
    str, tuple[tuple[str, str, Callable[[Mapping[str, Any]], bool]], ...]
] = {
    "AWS::KMS::Key": (
        (
            "CKV_AWS_33",
            "Principal * only with aws:PrincipalOrgID: this is how a key policy grants a whole "
            "AWS organization, whose member accounts are not known in advance. Each such "
            "statement is limited to our organization id (and to use through S3 and SNS by "
            "kms:ViaService); checkov reads the principal without its conditions. The skip is "
            "applied only while every wildcard grant carries the organization condition.",
            key_shared_with_organization_only,
        ),
    ),
}


def cfn_lint_metadata(**reasons: str) -> dict[str, object]:
    return {
        "cfn-lint": {"config": {"ignore_checks": sorted(reasons)}},
        "Suppressions": {"cfn-lint": dict(sorted(reasons.items()))},
    }


def scanner_metadata(
    resource_type: str, properties: Mapping[str, Any] | None = None
) -> dict[str, object]:
    """The checkov and policy-linter skips for a resource of this type, or nothing. With the
    resource's Properties (as in its template), conditional skips whose test holds are added."""
    metadata: dict[str, object] = {}
    skips = list(SCANNER_SKIPS.get(resource_type, ()))
    if properties is not None:
        skips += [
            (check, reason)
            for check, reason, applies in CONDITIONAL_SKIPS.get(resource_type, ())
            if applies(properties)
        ]
    if skips:
        metadata["checkov"] = {
            "skip": [{"id": check, "comment": reason} for check, reason in skips]
        }
    lint_skips = POLICY_LINT_SKIPS.get(resource_type, ())
    if lint_skips:
        metadata["parliament"] = {
            "skip": [
                {"id": finding, "sid": sid, "comment": reason}
                for finding, sid, reason in lint_skips
            ]
        }
    return metadata
