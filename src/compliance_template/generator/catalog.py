"""The catalog of AWS Config managed rules this project supports.

Everything rule-shaped (the Config rules, their CloudFormation parameters, the dashboard, the
alarms, the runbooks, the functions' rulebook) is derived from this catalog. It has two layers:

- generator/data/managed_rules.json: the facts of every managed rule AWS's sample conformance
  packs use (resource types, trigger kinds, parameters, regions, a description), each rule with
  where its facts come from, when they were read, and which of them are verified on the current
  AWS page. The maintainer script compliance_template.maintenance.refresh keeps it in step with
  AWS's packs (docs/catalog.md).
- CURATED below: the rules this project knows in depth (runbooks, what to do about a finding,
  deploy-time parameters, automatic remediation in functions/remediation/rules/). Their facts
  were checked against the AWS Config developer guide's managed-rule page; ``facts`` records
  which copy of the page was read, when, and whether its region list could be verified; the data
  file's entry for each must agree (tests/test_catalog.py).

Facts that are not verified are deployed conservatively: a rule whose region list is unverified
is left out of every region launched after its facts were written (``REGIONS_SINCE_2023``), and
a rule whose trigger kinds are unverified gets neither a scope nor a frequency (Config then uses
the rule's own defaults). A region the facts do not cover at all (``FACTS_REGIONS``) gets every
rule deployed, and preflight warns that availability there is unknown.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from enum import StrEnum
from pathlib import Path

from ..parameter_spec import GROUP_RULES, ParameterSpec

DOCS_BASE_URL = "https://docs.aws.amazon.com/config/latest/developerguide/"


# Rule-name suffixes stay within this many characters, so the default prefix ("compliance")
# fits every stack: <prefix>-<suffix> must stay within 64 characters (naming.MAX_RULE_NAME).
MAX_SUFFIX = 48


def slug_of(identifier: str) -> str:
    """A managed rule's rule-name suffix: its identifier in lower case with dashes, cut at a dash
    to MAX_SUFFIX characters for the few longer identifiers."""
    slug = identifier.lower().replace("_", "-")
    if len(slug) <= MAX_SUFFIX:
        return slug
    return slug[:MAX_SUFFIX].rsplit("-", 1)[0]


class Trigger(StrEnum):
    CHANGE = "change"
    PERIODIC = "periodic"


class Severity(StrEnum):
    """The severity labels of the AWS Security Finding Format (ASFF), lowest first."""

    INFORMATIONAL = "INFORMATIONAL"
    LOW = "LOW"
    MEDIUM = "MEDIUM"
    HIGH = "HIGH"
    CRITICAL = "CRITICAL"


class ParamKind(StrEnum):
    """Types AWS documents for managed-rule input parameters."""

    STRING = "string"
    CSV = "csv"
    INT = "int"
    DOUBLE = "double"
    BOOLEAN = "boolean"
    STRING_MAP = "string-map"


@dataclass(frozen=True)
class RuleParameter:
    name: str
    kind: ParamKind
    required: bool = False
    # A rule input set at deploy time: the stack parameter that supplies it.
    deploy_parameter: ParameterSpec | None = None
    # The default AWS documents (as Config receives it, a string); None where none is documented.
    default: str | None = None


VERIFIABLE = frozenset({"description", "parameters", "regions", "resourceTypes", "triggers"})


@dataclass(frozen=True)
class Provenance:
    """Where facts come from: the page read (the English page, or its newest translation when the
    stored English copy was older), the day it was read (None: not read since the 2023 copy of
    the guide or the sample packs), and which facts are verified on it."""

    url: str
    read_on: str | None
    regions_verified: bool
    verified: frozenset[str] = field(default=VERIFIABLE)
    # Where unverified facts come from, for people: "developer-guide-2023" or "sample-packs".
    origin: str = ""

    def __post_init__(self) -> None:
        # A page whose region list could not be read verifies everything but the regions.
        if not self.regions_verified and "regions" in self.verified:
            object.__setattr__(self, "verified", self.verified - {"regions"})

    @property
    def triggers_verified(self) -> bool:
        return "triggers" in self.verified


@dataclass(frozen=True)
class ManagedRule:
    identifier: str
    docs_page: str
    description: str
    rationale: str
    # What a person should do about a finding: one sentence for notifications and reports.
    what_to_do: str
    resource_types: tuple[str, ...]
    triggers: frozenset[Trigger]
    facts: Provenance
    parameters: tuple[RuleParameter, ...] = ()
    unavailable_regions: tuple[str, ...] = ()
    # Set where AWS offers the rule only in these regions ("Only available in ...").
    only_regions: tuple[str, ...] | None = None
    # A rule a person evaluates (AWS_CONFIG_PROCESS_CHECK): Config never evaluates it on its own.
    manual: bool = False
    enabled_by_default: bool = False
    # The severity of its findings in Security Hub (import mode). MEDIUM, the label AWS Config's
    # own Security Hub findings carry, unless the rule flags a resource reachable from the
    # internet (HIGH); docs/catalog.md, "Severity".
    severity: Severity = Severity.MEDIUM
    # What the remediation function does for this rule; None: no automatic remediation.
    remediation: str | None = None
    # Runbook text: an AWS CLI command that shows the setting the rule checks (<resource-id>
    # stands for the flagged resource), and the manual fix, step by step.
    check_by_hand: str = ""
    fix_by_hand: tuple[str, ...] = ()

    @property
    def slug(self) -> str:
        """Rule-name suffix: lower-case with dashes, as the AWS console names managed rules."""
        return slug_of(self.identifier)

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
        if self.only_regions is not None:
            return region in self.only_regions
        return region not in self.unavailable_regions

    @property
    def regional(self) -> bool:
        """True where some region lacks the rule: it is deployed under a region condition."""
        return self.only_regions is not None or bool(self.unavailable_regions)


# Region codes of the names used on the developer guide's rule pages.
HYDERABAD, MELBOURNE, SPAIN, ZURICH = "ap-south-2", "ap-southeast-4", "eu-south-2", "eu-central-2"
UAE, OSAKA = "me-central-1", "ap-northeast-3"
MEXICO, TAIPEI, THAILAND = "mx-central-1", "ap-east-2", "ap-southeast-7"
BEIJING, NINGXIA = "cn-north-1", "cn-northwest-1"
GOVCLOUD_EAST, GOVCLOUD_WEST = "us-gov-east-1", "us-gov-west-1"

READ_ON = "2026-12-01"


def _read(page: str, verified: bool = True, language: str = "") -> Provenance:
    """The developer guide's page for a rule, in `language` (e.g. "es_es/") when that translation
    was newer than the stored English copy."""
    return Provenance(
        f"https://docs.aws.amazon.com/{language}config/latest/developerguide/{page}.html",
        READ_ON,
        verified,
    )


# The regions the rule pages' region lists speak about: those listed on the guide's "Managed
# Rules by Region Availability" page when it was read. A region outside this set is newer than
# the facts, whatever the rule pages say.
FACTS_REGIONS_SOURCE = _read("managing-rules-by-region-availability")
FACTS_REGIONS: frozenset[str] = frozenset(
    {
        "us-east-1", "us-east-2", "us-west-1", "us-west-2", "af-south-1", "ap-east-1",
        "ap-east-2", "ap-northeast-1", "ap-northeast-2", "ap-northeast-3", "ap-south-1",
        "ap-south-2", "ap-southeast-1", "ap-southeast-2", "ap-southeast-3", "ap-southeast-4",
        "ap-southeast-5", "ap-southeast-7", "ca-central-1", "ca-west-1", "cn-north-1",
        "cn-northwest-1", "eu-central-1", "eu-central-2", "eu-north-1", "eu-south-1",
        "eu-south-2", "eu-west-1", "eu-west-2", "eu-west-3", "il-central-1", "me-central-1",
        "me-south-1", "mx-central-1", "sa-east-1", "us-gov-east-1", "us-gov-west-1",
    }
)  # fmt: skip


def has_facts_for(region: str) -> bool:
    """False for a region the catalog's region lists predate: availability there is unknown."""
    return region in FACTS_REGIONS


_NOT_IN_CHINA_GOVCLOUD_MEXICO_TAIPEI = (
    BEIJING,
    GOVCLOUD_EAST,
    GOVCLOUD_WEST,
    MEXICO,
    TAIPEI,
    NINGXIA,
)
_AND_NOT_THAILAND = (*_NOT_IN_CHINA_GOVCLOUD_MEXICO_TAIPEI, THAILAND)

INSTANCE_TYPES_PATTERN = r"^[a-z][a-z0-9-]*\.[a-z0-9]+(,[a-z][a-z0-9-]*\.[a-z0-9]+)*$"

CURATED: tuple[ManagedRule, ...] = (
    ManagedRule(
        identifier="DESIRED_INSTANCE_TYPE",
        docs_page="desired-instance-type",
        description="EC2 instances are of one of the allowed instance types.",
        rationale="Unapproved instance types break cost budgets and capacity planning.",
        what_to_do="Plan a resize to an allowed type in a maintenance window (resizing stops the instance), or exempt the instance with the exemption tag if the type is approved.",
        resource_types=("AWS::EC2::Instance",),
        triggers=frozenset({Trigger.CHANGE}),
        facts=_read("desired-instance-type"),
        parameters=(
            RuleParameter(
                "instanceType",
                ParamKind.CSV,
                required=True,
                deploy_parameter=ParameterSpec(
                    name="AllowedInstanceTypes",
                    group=GROUP_RULES,
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
        check_by_hand='aws ec2 describe-instances --instance-ids <resource-id> --query "Reservations[].Instances[].InstanceType"',
        fix_by_hand=(
            "Decide with the owner whether the instance should run on an allowed type or be replaced.",
            'Changing the type stops the instance: schedule a window, then `aws ec2 stop-instances --instance-ids <resource-id>`, `aws ec2 modify-instance-attribute --instance-id <resource-id> --instance-type \'{"Value": "t3.small"}\'`, `aws ec2 start-instances --instance-ids <resource-id>`.',
            "Better: change the launch template or Auto Scaling group so replacements come up on an allowed type.",
        ),
    ),
    ManagedRule(
        identifier="S3_BUCKET_SERVER_SIDE_ENCRYPTION_ENABLED",
        docs_page="s3-bucket-server-side-encryption-enabled",
        description="S3 buckets have default server-side encryption enabled.",
        rationale="Unencrypted buckets expose data at rest and fail most audit frameworks.",
        what_to_do="Turn on default encryption (SSE-KMS or SSE-S3) for the bucket.",
        resource_types=("AWS::S3::Bucket",),
        triggers=frozenset({Trigger.CHANGE}),
        facts=_read("s3-bucket-server-side-encryption-enabled", language="us_en/"),
        enabled_by_default=True,
        remediation="Enables default encryption (SSE-KMS with the AWS managed key, or SSE-S3).",
        check_by_hand="aws s3api get-bucket-encryption --bucket <resource-id>",
        fix_by_hand=(
            'Turn on default encryption: `aws s3api put-bucket-encryption --bucket <resource-id> --server-side-encryption-configuration \'{"Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms"}, "BucketKeyEnabled": true}]}\'`.',
            "Existing objects keep their encryption; copy them in place if they must be re-encrypted.",
        ),
    ),
    ManagedRule(
        identifier="DB_INSTANCE_BACKUP_ENABLED",
        docs_page="db-instance-backup-enabled",
        description="RDS DB instances have automated backups enabled, kept long enough.",
        rationale="Without automated backups a deleted or corrupted database cannot be restored.",
        what_to_do="Set the backup retention period to at least the required minimum; for Aurora, set it on the cluster.",
        resource_types=("AWS::RDS::DBInstance",),
        triggers=frozenset({Trigger.CHANGE}),
        facts=_read("db-instance-backup-enabled", language="es_es/"),
        parameters=(
            RuleParameter("backupRetentionPeriod", ParamKind.INT),
            RuleParameter(
                "backupRetentionMinimum",
                ParamKind.INT,
                deploy_parameter=ParameterSpec(
                    name="BackupRetentionMinimum",
                    group=GROUP_RULES,
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
        unavailable_regions=_NOT_IN_CHINA_GOVCLOUD_MEXICO_TAIPEI,
        enabled_by_default=True,
        remediation="Sets the backup retention period to the minimum; never on Aurora members.",
        check_by_hand='aws rds describe-db-instances --db-instance-identifier <resource-id> --query "DBInstances[].[BackupRetentionPeriod,DBClusterIdentifier,Engine]"',
        fix_by_hand=(
            "For an RDS instance: `aws rds modify-db-instance --db-instance-identifier <resource-id> --backup-retention-period 7`. Going from 0 to a positive value causes a brief I/O suspension, applied in the next maintenance window unless you add `--apply-immediately`.",
            "For an Aurora member the cluster owns the setting: `aws rds modify-db-cluster --db-cluster-identifier <cluster> --backup-retention-period 7`.",
        ),
    ),
    ManagedRule(
        identifier="ENCRYPTED_VOLUMES",
        docs_page="encrypted-volumes",
        description="Attached EBS volumes are encrypted.",
        rationale="Unencrypted volumes and their snapshots expose data at rest.",
        what_to_do="Snapshot the volume, copy the snapshot with encryption, create a volume from the copy and swap it in; turn on EBS encryption by default so new volumes are encrypted.",
        resource_types=("AWS::EC2::Volume",),
        triggers=frozenset({Trigger.CHANGE}),
        facts=_read("encrypted-volumes"),
        parameters=(RuleParameter("kmsId", ParamKind.STRING),),
        unavailable_regions=_NOT_IN_CHINA_GOVCLOUD_MEXICO_TAIPEI,
        enabled_by_default=True,
        remediation="No in-place fix exists: optionally turns on EBS encryption by default "
        "for the region and reports the volume with the manual runbook.",
        check_by_hand='aws ec2 describe-volumes --volume-ids <resource-id> --query "Volumes[].[Encrypted,Attachments[].InstanceId]"',
        fix_by_hand=(
            "Nothing encrypts a volume in place. In a window: `aws ec2 create-snapshot --volume-id <resource-id>`, then `aws ec2 copy-snapshot --source-snapshot-id <snapshot> --source-region <region> --encrypted`, create a volume from the encrypted copy in the same Availability Zone, stop the instance, detach the old volume, attach the new one on the same device, start the instance.",
            "Prevent new ones: `aws ec2 enable-ebs-encryption-by-default` in every region you use.",
        ),
    ),
    ManagedRule(
        identifier="S3_BUCKET_PUBLIC_READ_PROHIBITED",
        docs_page="s3-bucket-public-read-prohibited",
        description="S3 buckets do not allow public read access.",
        rationale="Public read access is the most common cause of S3 data leaks.",
        what_to_do="Turn on S3 Block Public Access for the bucket and remove public grants and policies.",
        resource_types=("AWS::S3::Bucket",),
        triggers=frozenset({Trigger.CHANGE, Trigger.PERIODIC}),
        severity=Severity.HIGH,
        facts=_read("s3-bucket-public-read-prohibited"),
        check_by_hand="aws s3api get-bucket-policy-status --bucket <resource-id> && aws s3api get-public-access-block --bucket <resource-id>",
        fix_by_hand=(
            "Block public access: `aws s3api put-public-access-block --bucket <resource-id> --public-access-block-configuration BlockPublicAcls=true,IgnorePublicAcls=true,BlockPublicPolicy=true,RestrictPublicBuckets=true`.",
            "If the bucket must serve public content, put CloudFront in front of it instead and exempt the bucket.",
        ),
    ),
    ManagedRule(
        identifier="S3_BUCKET_SSL_REQUESTS_ONLY",
        docs_page="s3-bucket-ssl-requests-only",
        description="S3 bucket policies deny requests that do not use TLS.",
        rationale="Requests without TLS can be read or changed in transit.",
        what_to_do="Add a bucket policy statement denying requests where aws:SecureTransport is false.",
        resource_types=("AWS::S3::Bucket",),
        triggers=frozenset({Trigger.CHANGE}),
        facts=_read("s3-bucket-ssl-requests-only"),
        check_by_hand="aws s3api get-bucket-policy --bucket <resource-id>",
        fix_by_hand=(
            "Add a statement to the bucket policy that denies `s3:*` on the bucket and its objects when `aws:SecureTransport` is `false`.",
        ),
    ),
    ManagedRule(
        identifier="S3_BUCKET_VERSIONING_ENABLED",
        docs_page="s3-bucket-versioning-enabled",
        description="S3 buckets have versioning enabled.",
        rationale="Versioning lets you recover objects that were overwritten or deleted.",
        what_to_do="Turn on versioning for the bucket (and a lifecycle rule for old versions).",
        resource_types=("AWS::S3::Bucket",),
        triggers=frozenset({Trigger.CHANGE}),
        facts=_read("s3-bucket-versioning-enabled"),
        parameters=(RuleParameter("isMfaDeleteEnabled", ParamKind.STRING),),
        unavailable_regions=_AND_NOT_THAILAND,
        check_by_hand="aws s3api get-bucket-versioning --bucket <resource-id>",
        fix_by_hand=(
            "`aws s3api put-bucket-versioning --bucket <resource-id> --versioning-configuration Status=Enabled`, and add a lifecycle rule that expires old versions.",
        ),
    ),
    ManagedRule(
        identifier="RDS_STORAGE_ENCRYPTED",
        docs_page="rds-storage-encrypted",
        description="RDS DB instances have storage encryption enabled.",
        rationale="Unencrypted database storage and its snapshots expose data at rest.",
        what_to_do="Restore an encrypted copy from an encrypted snapshot copy and switch over to it.",
        resource_types=("AWS::RDS::DBInstance",),
        triggers=frozenset({Trigger.CHANGE}),
        facts=_read("rds-storage-encrypted"),
        parameters=(RuleParameter("kmsKeyId", ParamKind.STRING),),
        unavailable_regions=_AND_NOT_THAILAND,
        check_by_hand='aws rds describe-db-instances --db-instance-identifier <resource-id> --query "DBInstances[].StorageEncrypted"',
        fix_by_hand=(
            "Storage encryption cannot be turned on in place: snapshot the instance, copy the snapshot with `--kms-key-id`, restore a new instance from the encrypted copy, and switch clients over.",
        ),
    ),
    ManagedRule(
        identifier="RDS_INSTANCE_PUBLIC_ACCESS_CHECK",
        docs_page="rds-instance-public-access-check",
        description="RDS DB instances are not publicly accessible.",
        rationale="A publicly accessible database is reachable from the internet.",
        what_to_do="Set the instance to not publicly accessible and review its security groups.",
        resource_types=("AWS::RDS::DBInstance",),
        triggers=frozenset({Trigger.CHANGE}),
        severity=Severity.HIGH,
        facts=_read("rds-instance-public-access-check", language="en_us/"),
        check_by_hand='aws rds describe-db-instances --db-instance-identifier <resource-id> --query "DBInstances[].PubliclyAccessible"',
        fix_by_hand=(
            "`aws rds modify-db-instance --db-instance-identifier <resource-id> --no-publicly-accessible --apply-immediately`, after checking that no client connects from outside the VPC.",
        ),
    ),
    ManagedRule(
        identifier="RESTRICTED_INCOMING_TRAFFIC",
        docs_page="restricted-common-ports",
        description="Security groups do not allow unrestricted incoming traffic to risky ports.",
        rationale="Ports such as 3389 or 3306 open to 0.0.0.0/0 are scanned within minutes.",
        what_to_do="Replace the 0.0.0.0/0 (or ::/0) rule on the port with the sources that need it.",
        resource_types=("AWS::EC2::SecurityGroup",),
        triggers=frozenset({Trigger.CHANGE, Trigger.PERIODIC}),
        severity=Severity.HIGH,
        facts=_read("restricted-common-ports"),
        parameters=(
            *(RuleParameter(f"blockedPort{i}", ParamKind.INT) for i in range(1, 6)),
            RuleParameter("blockedPorts", ParamKind.CSV),
        ),
        check_by_hand='aws ec2 describe-security-groups --group-ids <resource-id> --query "SecurityGroups[].IpPermissions"',
        fix_by_hand=(
            "Remove the rules that open the blocked ports to 0.0.0.0/0 or ::/0 with `aws ec2 revoke-security-group-ingress`, and allow only the address ranges that need them.",
        ),
    ),
    ManagedRule(
        identifier="EC2_EBS_ENCRYPTION_BY_DEFAULT",
        docs_page="ec2-ebs-encryption-by-default",
        description="EBS encryption by default is turned on in the region.",
        rationale="With it on, every new volume and snapshot copy is encrypted.",
        what_to_do="Turn on EBS encryption by default in the EC2 settings of the region.",
        resource_types=(),
        triggers=frozenset({Trigger.PERIODIC}),
        # Only the China partition's copy of the page could be read: the 2023 list is kept.
        facts=Provenance(
            "https://docs.amazonaws.cn/en_us/config/latest/developerguide/ec2-ebs-encryption-by-default.html",
            READ_ON,
            regions_verified=False,
        ),
        unavailable_regions=(UAE, HYDERABAD, OSAKA, MELBOURNE, SPAIN, ZURICH),
        check_by_hand="aws ec2 get-ebs-encryption-by-default",
        fix_by_hand=(
            "`aws ec2 enable-ebs-encryption-by-default` (per region; affects new volumes only).",
        ),
    ),
    ManagedRule(
        identifier="IAM_PASSWORD_POLICY",
        docs_page="iam-password-policy",
        description="The account password policy meets the requirements.",
        rationale="Weak password policies make console credentials easy to guess.",
        what_to_do="Update the account password policy to meet the configured requirements.",
        resource_types=(),
        triggers=frozenset({Trigger.PERIODIC}),
        # The stored global page is cut off before its region line: the 2023 list is kept.
        facts=_read("iam-password-policy", verified=False, language="en_us/"),
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
        check_by_hand="aws iam get-account-password-policy",
        fix_by_hand=(
            "`aws iam update-account-password-policy` with the values the rule's parameters require (length, character classes, reuse prevention, maximum age).",
        ),
    ),
    ManagedRule(
        identifier="CLOUD_TRAIL_ENABLED",
        docs_page="cloudtrail-enabled",
        description="A CloudTrail trail is enabled in the account.",
        rationale="Without CloudTrail there is no record of who changed what.",
        what_to_do="Create a multi-region CloudTrail trail delivering to a protected bucket.",
        resource_types=(),
        triggers=frozenset({Trigger.PERIODIC}),
        facts=_read("cloudtrail-enabled"),
        parameters=(
            RuleParameter("s3BucketName", ParamKind.STRING),
            RuleParameter("snsTopicArn", ParamKind.STRING),
            RuleParameter("cloudWatchLogsLogGroupArn", ParamKind.STRING),
        ),
        check_by_hand="aws cloudtrail describe-trails && aws cloudtrail get-trail-status --name <trail>",
        fix_by_hand=(
            "Create a multi-region trail to an encrypted bucket (`aws cloudtrail create-trail --is-multi-region-trail ...`) and start it with `aws cloudtrail start-logging`; in an organization, use an organization trail.",
        ),
    ),
)

# Identifiers that look plausible but do not exist; each one broke a real deploy.
KNOWN_INVALID_IDENTIFIERS: dict[str, str] = {
    "DB_BACKUP_RETENTION_CHECK": "DB_INSTANCE_BACKUP_ENABLED",
}

DATA_FILE = Path(__file__).with_name("data") / "managed_rules.json"
# Regions launched after the 2023 copy of the guide: a rule whose region list is not verified
# on a current page may be missing there, so it is not deployed there (FACTS_REGIONS covers them).
REGIONS_SINCE_2023 = (
    "il-central-1",
    "ca-west-1",
    "ap-southeast-5",
    "ap-southeast-7",
    MEXICO,
    TAIPEI,
)
MANUAL_WHAT_TO_DO = (
    "A person checks this control and records the result in AWS Config "
    "(aws configservice put-external-evaluation); Config never evaluates it on its own."
)


def _from_data(identifier: str, entry: dict) -> ManagedRule:
    """A catalog rule from its data-file entry, with unverified facts made conservative."""
    facts = entry["facts"]
    verified = frozenset(facts["verified"])
    page = entry["docsPage"]
    source = facts["source"]
    provenance = Provenance(
        url=source if source.startswith("https://") else f"{DOCS_BASE_URL}{page}.html",
        read_on=facts["readOn"],
        regions_verified="regions" in verified,
        verified=verified,
        origin="" if source.startswith("https://") else source,
    )
    unavailable = tuple(entry.get("unavailableRegions", ()))
    only = entry.get("onlyRegions")
    manual = bool(entry.get("manual", False))
    return ManagedRule(
        identifier=identifier,
        docs_page=page,
        description=entry["description"],
        rationale="",
        what_to_do=MANUAL_WHAT_TO_DO
        if manual
        else f"Bring the resource in line with the rule; AWS describes it at {DOCS_BASE_URL}{page}.html.",
        resource_types=tuple(entry["resourceTypes"]),
        triggers=frozenset(Trigger(t) for t in entry["triggers"]),
        facts=provenance,
        parameters=tuple(
            RuleParameter(
                p["name"], ParamKind(p["type"]), required=p["required"], default=p.get("default")
            )
            for p in entry["parameters"]
        ),
        unavailable_regions=unavailable,
        only_regions=tuple(only) if only is not None else None,
        manual=manual,
    )


def _conservative(rule: ManagedRule) -> ManagedRule:
    """A rule whose region list is not verified is left out of the regions launched since."""
    if rule.facts.regions_verified or rule.only_regions is not None:
        return rule
    missing = tuple(sorted({*rule.unavailable_regions, *REGIONS_SINCE_2023}))
    return replace(rule, unavailable_regions=missing)


def _load() -> tuple[ManagedRule, ...]:
    entries = json.loads(DATA_FILE.read_text(encoding="utf-8"))["rules"]
    curated = {rule.identifier: rule for rule in CURATED}
    return tuple(
        _conservative(curated.get(identifier) or _from_data(identifier, entries[identifier]))
        for identifier in sorted(entries.keys() | curated.keys())
    )


CATALOG: tuple[ManagedRule, ...] = _load()
BY_IDENTIFIER: dict[str, ManagedRule] = {rule.identifier: rule for rule in CATALOG}

DEFAULT_RULES: tuple[str, ...] = tuple(r.identifier for r in CURATED if r.enabled_by_default)
