"""What each catalog rule checks and what a person should do about a finding.

The functions run without the project package, so the one-line descriptions are repeated here
from the rule catalog; a test keeps the two in step.
"""

from __future__ import annotations

from typing import NamedTuple


class RuleText(NamedTuple):
    description: str
    what_to_do: str


RULES: dict[str, RuleText] = {
    "DESIRED_INSTANCE_TYPE": RuleText(
        "EC2 instances are of one of the allowed instance types.",
        "Plan a resize to an allowed type in a maintenance window (resizing stops the "
        "instance), or exempt the instance with the exemption tag if the type is approved.",
    ),
    "S3_BUCKET_SERVER_SIDE_ENCRYPTION_ENABLED": RuleText(
        "S3 buckets have default server-side encryption enabled.",
        "Turn on default encryption (SSE-KMS or SSE-S3) for the bucket.",
    ),
    "DB_INSTANCE_BACKUP_ENABLED": RuleText(
        "RDS DB instances have automated backups enabled, kept long enough.",
        "Set the backup retention period to at least the required minimum; for Aurora, set it "
        "on the cluster.",
    ),
    "ENCRYPTED_VOLUMES": RuleText(
        "Attached EBS volumes are encrypted.",
        "Snapshot the volume, copy the snapshot with encryption, create a volume from the copy "
        "and swap it in; turn on EBS encryption by default so new volumes are encrypted.",
    ),
    "S3_BUCKET_PUBLIC_READ_PROHIBITED": RuleText(
        "S3 buckets do not allow public read access.",
        "Turn on S3 Block Public Access for the bucket and remove public grants and policies.",
    ),
    "S3_BUCKET_SSL_REQUESTS_ONLY": RuleText(
        "S3 bucket policies deny requests that do not use TLS.",
        "Add a bucket policy statement denying requests where aws:SecureTransport is false.",
    ),
    "S3_BUCKET_VERSIONING_ENABLED": RuleText(
        "S3 buckets have versioning enabled.",
        "Turn on versioning for the bucket (and a lifecycle rule for old versions).",
    ),
    "RDS_STORAGE_ENCRYPTED": RuleText(
        "RDS DB instances have storage encryption enabled.",
        "Restore an encrypted copy from an encrypted snapshot copy and switch over to it.",
    ),
    "RDS_INSTANCE_PUBLIC_ACCESS_CHECK": RuleText(
        "RDS DB instances are not publicly accessible.",
        "Set the instance to not publicly accessible and review its security groups.",
    ),
    "RESTRICTED_INCOMING_TRAFFIC": RuleText(
        "Security groups do not allow unrestricted incoming traffic to risky ports.",
        "Replace the 0.0.0.0/0 (or ::/0) rule on the port with the sources that need it.",
    ),
    "EC2_EBS_ENCRYPTION_BY_DEFAULT": RuleText(
        "EBS encryption by default is turned on in the region.",
        "Turn on EBS encryption by default in the EC2 settings of the region.",
    ),
    "IAM_PASSWORD_POLICY": RuleText(
        "The account password policy meets the requirements.",
        "Update the account password policy to meet the configured requirements.",
    ),
    "CLOUD_TRAIL_ENABLED": RuleText(
        "A CloudTrail trail is enabled in the account.",
        "Create a multi-region CloudTrail trail delivering to a protected bucket.",
    ),
}

_UNKNOWN = RuleText(
    "A rule this version of the functions does not describe.",
    "Read the rule's runbook.",
)


def text(identifier: str) -> RuleText:
    return RULES.get(identifier, _UNKNOWN)


def runbook_url(base_url: str, identifier: str) -> str:
    """``<base>/<IDENTIFIER>.md``; the repository path when no base URL is configured."""
    return f"{base_url.rstrip('/') if base_url else 'docs/runbooks'}/{identifier}.md"
