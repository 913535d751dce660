"""The catalog of AWS Config managed rules this project supports.

Everything rule-shaped (the Config rules, their CloudFormation parameters, the event pattern, the
dashboard, the alarms, the function configuration) is derived from this one table, so adding a
rule is one entry here plus its tests.

Every fact in an entry (identifier, resource types, trigger kind, parameter names and types,
regions where the rule is missing) was checked against the AWS Config developer guide's
managed-rule page named in ``docs_page`` (``source_url``). The region lists are those pages as
archived in mid-2023: regions launched since then are not listed on them, so a rule's availability
there is unknown until someone re-reads the page (docs/catalog.md says how).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum

DOCS_BASE_URL = "https://docs.aws.amazon.com/config/latest/developerguide/"


class Trigger(StrEnum):
    CHANGE = "change"
    PERIODIC = "periodic"


class ParamKind(StrEnum):
    """Types AWS documents for managed-rule input parameters."""

    STRING = "string"
    CSV = "csv"
    INT = "int"
    BOOLEAN = "boolean"


@dataclass(frozen=True)
class DeployParameter:
    """A CloudFormation parameter that supplies a rule input at deploy time."""

    logical_name: str
    label: str
    description: str
    default: str
    cfn_type: str = "String"
    allowed_pattern: str | None = None
    constraint_description: str | None = None
    min_value: int | None = None
    max_value: int | None = None


@dataclass(frozen=True)
class RuleParameter:
    name: str
    kind: ParamKind
    required: bool = False
    deploy_parameter: DeployParameter | None = None


@dataclass(frozen=True)
class ManagedRule:
    identifier: str
    docs_page: str
    description: str
    rationale: str
    resource_types: tuple[str, ...]
    triggers: frozenset[Trigger]
    parameters: tuple[RuleParameter, ...] = ()
    unavailable_regions: tuple[str, ...] = ()
    enabled_by_default: bool = False
    # What the remediation function does for this rule; None: no automatic remediation.
    remediation: str | None = None
    tags: tuple[str, ...] = field(default=())

    @property
    def slug(self) -> str:
        """Rule-name suffix: lower-case with dashes, as the AWS console names managed rules."""
        return self.identifier.lower().replace("_", "-")

    @property
    def stem(self) -> str:
        """CamelCase identifier, the stem of every logical id that belongs to this rule."""
        return "".join(part.capitalize() for part in self.identifier.split("_"))

    @property
    def logical_id(self) -> str:
        """CloudFormation logical id; derived from the identifier so it never changes."""
        return f"{self.stem}Rule"

    @property
    def source_url(self) -> str:
        return f"{DOCS_BASE_URL}{self.docs_page}.html"

    @property
    def deploy_trigger(self) -> Trigger:
        """How we deploy it. Rules that support both triggers run on changes: cheaper and faster."""
        return Trigger.CHANGE if Trigger.CHANGE in self.triggers else Trigger.PERIODIC

    def parameter(self, name: str) -> RuleParameter | None:
        return next((p for p in self.parameters if p.name == name), None)

    def available_in(self, region: str) -> bool:
        return region not in self.unavailable_regions


# Region codes of the names used on the developer guide's rule pages.
HYDERABAD, MELBOURNE, SPAIN, ZURICH = "ap-south-2", "ap-southeast-4", "eu-south-2", "eu-central-2"
UAE, JAKARTA, CAPE_TOWN, OSAKA, MILAN = (
    "me-central-1",
    "ap-southeast-3",
    "af-south-1",
    "ap-northeast-3",
    "eu-south-1",
)

_NEWER_REGIONS_MISSING = (HYDERABAD, MELBOURNE, SPAIN, ZURICH)

INSTANCE_TYPES_PATTERN = r"^[a-z][a-z0-9-]*\.[a-z0-9]+(,[a-z][a-z0-9-]*\.[a-z0-9]+)*$"

CATALOG: tuple[ManagedRule, ...] = (
    ManagedRule(
        identifier="DESIRED_INSTANCE_TYPE",
        docs_page="desired-instance-type",
        description="EC2 instances are of one of the allowed instance types.",
        rationale="Unapproved instance types break cost budgets and capacity planning.",
        resource_types=("AWS::EC2::Instance",),
        triggers=frozenset({Trigger.CHANGE}),
        parameters=(
            RuleParameter(
                "instanceType",
                ParamKind.CSV,
                required=True,
                deploy_parameter=DeployParameter(
                    logical_name="AllowedInstanceTypes",
                    label="Allowed EC2 instance types",
                    description="Comma-separated EC2 instance types that are compliant "
                    "(DESIRED_INSTANCE_TYPE rule), e.g. t3.micro,t3.small.",
                    default="t3.micro,t3.small,t3.medium",
                    allowed_pattern=INSTANCE_TYPES_PATTERN,
                    constraint_description="comma-separated instance types such as "
                    "t3.micro,m5.large, without spaces",
                ),
            ),
        ),
        enabled_by_default=True,
        remediation="Tags the instance and notifies; never stops or resizes it.",
    ),
    ManagedRule(
        identifier="S3_BUCKET_SERVER_SIDE_ENCRYPTION_ENABLED",
        docs_page="s3-bucket-server-side-encryption-enabled",
        description="S3 buckets have default server-side encryption enabled.",
        rationale="Unencrypted buckets expose data at rest and fail most audit frameworks.",
        resource_types=("AWS::S3::Bucket",),
        triggers=frozenset({Trigger.CHANGE}),
        unavailable_regions=_NEWER_REGIONS_MISSING,
        enabled_by_default=True,
        remediation="Enables default encryption (SSE-KMS with the AWS managed key, or SSE-S3).",
    ),
    ManagedRule(
        identifier="DB_INSTANCE_BACKUP_ENABLED",
        docs_page="db-instance-backup-enabled",
        description="RDS DB instances have automated backups enabled, kept long enough.",
        rationale="Without automated backups a deleted or corrupted database cannot be restored.",
        resource_types=("AWS::RDS::DBInstance",),
        triggers=frozenset({Trigger.CHANGE}),
        parameters=(
            RuleParameter("backupRetentionPeriod", ParamKind.INT),
            RuleParameter(
                "backupRetentionMinimum",
                ParamKind.INT,
                deploy_parameter=DeployParameter(
                    logical_name="BackupRetentionMinimum",
                    label="Minimum RDS backup retention (days)",
                    description="Minimum automated-backup retention, in days, that an RDS "
                    "instance needs to be compliant (DB_INSTANCE_BACKUP_ENABLED rule) and that "
                    "remediation sets.",
                    default="7",
                    cfn_type="Number",
                    min_value=1,
                    max_value=35,
                ),
            ),
            RuleParameter("preferredBackupWindow", ParamKind.STRING),
            RuleParameter("checkReadReplicas", ParamKind.BOOLEAN),
        ),
        unavailable_regions=_NEWER_REGIONS_MISSING,
        enabled_by_default=True,
        remediation="Sets the backup retention period to the minimum; never on Aurora members.",
    ),
    ManagedRule(
        identifier="ENCRYPTED_VOLUMES",
        docs_page="encrypted-volumes",
        description="Attached EBS volumes are encrypted.",
        rationale="Unencrypted volumes and their snapshots expose data at rest.",
        resource_types=("AWS::EC2::Volume",),
        triggers=frozenset({Trigger.CHANGE}),
        parameters=(RuleParameter("kmsId", ParamKind.STRING),),
        unavailable_regions=(JAKARTA, CAPE_TOWN, OSAKA, MELBOURNE, MILAN),
        enabled_by_default=True,
        remediation="No in-place fix exists: optionally turns on EBS encryption by default "
        "for the region and reports the volume with the manual runbook.",
    ),
    ManagedRule(
        identifier="S3_BUCKET_PUBLIC_READ_PROHIBITED",
        docs_page="s3-bucket-public-read-prohibited",
        description="S3 buckets do not allow public read access.",
        rationale="Public read access is the most common cause of S3 data leaks.",
        resource_types=("AWS::S3::Bucket",),
        triggers=frozenset({Trigger.CHANGE, Trigger.PERIODIC}),
        unavailable_regions=_NEWER_REGIONS_MISSING,
    ),
    ManagedRule(
        identifier="S3_BUCKET_SSL_REQUESTS_ONLY",
        docs_page="s3-bucket-ssl-requests-only",
        description="S3 bucket policies deny requests that do not use TLS.",
        rationale="Requests without TLS can be read or changed in transit.",
        resource_types=("AWS::S3::Bucket",),
        triggers=frozenset({Trigger.CHANGE}),
        unavailable_regions=_NEWER_REGIONS_MISSING,
    ),
    ManagedRule(
        identifier="S3_BUCKET_VERSIONING_ENABLED",
        docs_page="s3-bucket-versioning-enabled",
        description="S3 buckets have versioning enabled.",
        rationale="Versioning lets you recover objects that were overwritten or deleted.",
        resource_types=("AWS::S3::Bucket",),
        triggers=frozenset({Trigger.CHANGE}),
        parameters=(RuleParameter("isMfaDeleteEnabled", ParamKind.STRING),),
    ),
    ManagedRule(
        identifier="RDS_STORAGE_ENCRYPTED",
        docs_page="rds-storage-encrypted",
        description="RDS DB instances have storage encryption enabled.",
        rationale="Unencrypted database storage and its snapshots expose data at rest.",
        resource_types=("AWS::RDS::DBInstance",),
        triggers=frozenset({Trigger.CHANGE}),
        parameters=(RuleParameter("kmsKeyId", ParamKind.STRING),),
        unavailable_regions=_NEWER_REGIONS_MISSING,
    ),
    ManagedRule(
        identifier="RDS_INSTANCE_PUBLIC_ACCESS_CHECK",
        docs_page="rds-instance-public-access-check",
        description="RDS DB instances are not publicly accessible.",
        rationale="A publicly accessible database is reachable from the internet.",
        resource_types=("AWS::RDS::DBInstance",),
        triggers=frozenset({Trigger.CHANGE}),
        unavailable_regions=_NEWER_REGIONS_MISSING,
    ),
    ManagedRule(
        identifier="RESTRICTED_INCOMING_TRAFFIC",
        docs_page="restricted-common-ports",
        description="Security groups do not allow unrestricted incoming traffic to risky ports.",
        rationale="Ports such as 3389 or 3306 open to 0.0.0.0/0 are scanned within minutes.",
        resource_types=("AWS::EC2::SecurityGroup",),
        triggers=frozenset({Trigger.CHANGE}),
        parameters=tuple(RuleParameter(f"blockedPort{i}", ParamKind.INT) for i in range(1, 6)),
        unavailable_regions=(
            JAKARTA,
            CAPE_TOWN,
            UAE,
            HYDERABAD,
            OSAKA,
            MELBOURNE,
            MILAN,
            SPAIN,
            ZURICH,
        ),
    ),
    ManagedRule(
        identifier="EC2_EBS_ENCRYPTION_BY_DEFAULT",
        docs_page="ec2-ebs-encryption-by-default",
        description="EBS encryption by default is turned on in the region.",
        rationale="With it on, every new volume and snapshot copy is encrypted.",
        resource_types=(),
        triggers=frozenset({Trigger.PERIODIC}),
        unavailable_regions=(UAE, HYDERABAD, OSAKA, MELBOURNE, SPAIN, ZURICH),
    ),
    ManagedRule(
        identifier="IAM_PASSWORD_POLICY",
        docs_page="iam-password-policy",
        description="The account password policy meets the requirements.",
        rationale="Weak password policies make console credentials easy to guess.",
        resource_types=(),
        triggers=frozenset({Trigger.PERIODIC}),
        parameters=(
            RuleParameter("RequireUppercaseCharacters", ParamKind.BOOLEAN),
            RuleParameter("RequireLowercaseCharacters", ParamKind.BOOLEAN),
            RuleParameter("RequireSymbols", ParamKind.BOOLEAN),
            RuleParameter("RequireNumbers", ParamKind.BOOLEAN),
            RuleParameter("MinimumPasswordLength", ParamKind.INT),
            RuleParameter("PasswordReusePrevention", ParamKind.INT),
            RuleParameter("MaxPasswordAge", ParamKind.INT),
        ),
        unavailable_regions=(MELBOURNE,),
    ),
    ManagedRule(
        identifier="CLOUD_TRAIL_ENABLED",
        docs_page="cloudtrail-enabled",
        description="A CloudTrail trail is enabled in the account.",
        rationale="Without CloudTrail there is no record of who changed what.",
        resource_types=(),
        triggers=frozenset({Trigger.PERIODIC}),
        parameters=(
            RuleParameter("s3BucketName", ParamKind.STRING),
            RuleParameter("snsTopicArn", ParamKind.STRING),
            RuleParameter("cloudWatchLogsLogGroupArn", ParamKind.STRING),
        ),
    ),
)

# Identifiers that look plausible but do not exist; each one broke a real deploy.
KNOWN_INVALID_IDENTIFIERS: dict[str, str] = {
    "DB_BACKUP_RETENTION_CHECK": "DB_INSTANCE_BACKUP_ENABLED",
}

BY_IDENTIFIER: dict[str, ManagedRule] = {rule.identifier: rule for rule in CATALOG}

DEFAULT_RULES: tuple[str, ...] = tuple(r.identifier for r in CATALOG if r.enabled_by_default)

_IDENTIFIER = re.compile(r"^[A-Z0-9_]+$")


def get_rule(identifier: str) -> ManagedRule:
    """Return the catalog entry; raises KeyError for identifiers we do not ship."""
    return BY_IDENTIFIER[identifier]


def looks_like_identifier(value: str) -> bool:
    return bool(_IDENTIFIER.match(value))
