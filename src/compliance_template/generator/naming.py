"""ARN and name builders. Every ARN carries ${AWS::Partition} so the stack works in every
partition (aws, aws-cn, aws-us-gov); a literal `arn:aws:` is a bug here."""

from __future__ import annotations

from troposphere import Sub

FUNCTION_NAMES = ("processing", "reporting", "remediation")
METRICS_NAMESPACE = "ComplianceMonitoring"
# Tag remediation puts on an EC2 instance of an undesired type (value: the rule identifier).
FINDING_TAG_KEY = "compliance:finding"
# Prefixes of the reports bucket, one per writer; IAM policies are scoped to them.
CHANGES_PREFIX = "compliance-changes"
# Processing's newest evaluation per rule and resource, replaced by conditional writes only.
LATEST_PREFIX = "compliance-latest"
REPORTS_PREFIX = "reports"
# Processing's OpsItem id per evaluation key (CreateOpsItems=true), so a resolution finds it.
TICKETS_PREFIX = "tickets"
# Processing's digest: changes waiting for the next digest, and the digests claimed and sent.
DIGEST_PENDING_PREFIX = "digest-pending"
DIGEST_SENT_PREFIX = "digest-sent"
# Tag processing puts on every OpsItem it opens (value: the stack name); its policy may update
# only OpsItems carrying it.
OPS_ITEM_TAG_KEY = "compliance-monitoring:stack"
REMEDIATION_PREFIX = "remediation"
CONFIG_PREFIX = "config"
# Longest Config rule name the reporting function can read: GetComplianceDetailsByConfigRule takes
# at most 64 characters (botocore: StringWithCharLimit64), though PutConfigRule accepts 128.
MAX_RULE_NAME = 64


def arn(service: str, resource: str, region: bool = True, account: bool = True) -> Sub:
    """`arn:${AWS::Partition}:<service>:<region>:<account>:<resource>` as an Fn::Sub."""
    region_part = "${AWS::Region}" if region else ""
    account_part = "${AWS::AccountId}" if account else ""
    return Sub(f"arn:${{AWS::Partition}}:{service}:{region_part}:{account_part}:{resource}")


def account_root() -> Sub:
    return arn("iam", "root", region=False)


def managed_policy(name: str) -> Sub:
    return Sub(f"arn:${{AWS::Partition}}:iam::aws:policy/{name}")


def service_principal(service: str, regional: bool = False) -> str | Sub:
    """Service principal; CloudWatch Logs' is regional (logs.<region>.amazonaws.com)."""
    if regional:
        return Sub(f"{service}.${{AWS::Region}}.amazonaws.com")
    return f"{service}.amazonaws.com"


def rule_name(slug: str) -> Sub:
    return Sub(f"${{RuleNamePrefix}}-{slug}")


def framework_stem(framework: str) -> str:
    """`cis-aws-v1.4-level1` -> `CisAwsV14Level1`: the stem of a framework's logical ids."""
    parts = "".join(c if c.isalnum() else "-" for c in framework).split("-")
    return "Framework" + "".join(part.capitalize() for part in parts if part)


def logical(name: str) -> str:
    """`processing` -> `Processing`: logical ids are alphanumeric only."""
    return name[:1].upper() + name[1:]


def function_logical_id(name: str) -> str:
    """The logical id of a function of FUNCTION_NAMES: `processing` -> `ProcessingFunction`."""
    return f"{logical(name)}Function"
