"""Deploy-time CloudFormation parameters: their constraints, defaults and console labels.

A parameter's constraints are declared once, here, and used twice: CloudFormation enforces them
at deploy time, and `check_value` enforces the same constraints on a default overridden in the
settings file, so a bad default fails at generation time instead of in the console.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from troposphere import Parameter, Template

from ..errors import SettingsError, shown
from ..parameter_spec import GROUP_FRAMEWORKS, GROUP_RULES, ParameterSpec
from .catalog import ManagedRule
from .naming import MAX_RULE_NAME

if TYPE_CHECKING:
    from .selection import RuleChoice

LOG_RETENTION_DAYS = (
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557,
    2922, 3288, 3653,
)  # fmt: skip
RULE_FREQUENCIES = ("One_Hour", "Three_Hours", "Six_Hours", "Twelve_Hours", "TwentyFour_Hours")
EMAIL_PATTERN = r"^([A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,})?$"
ACCOUNT_ID_PATTERN = r"^([0-9]{12})?$"
REGION_PATTERN = r"^([a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-[0-9])?$"
SCHEDULE_PATTERN = (
    r"^(rate\((1 (minute|hour|day)|[1-9][0-9]* (minutes|hours|days))\)"
    r"|cron\([^ ()]+( [^ ()]+){5}\))$"
)
HTTPS_URL_PATTERN = r"^(https://[^\s]+)?$"
# AWS reserves the prefix aws: in any letter case, in tag keys and values (docs/aws-facts.md,
# "Tags"). Written without a case-insensitive flag so CloudFormation, cfn-lint and Python read
# the pattern the same way. The remediation function applies the same rule to its environment
# (functions/_shared/settings.py, RESERVED_TAG_PREFIX); a test ties the two together.
RESERVED_TAG_PREFIX = "aws:"
NOT_RESERVED = (
    "(?!"
    + "".join(f"[{c.upper()}{c.lower()}]" if c.isalpha() else c for c in RESERVED_TAG_PREFIX)
    + ")"
)
TAG_KEY_PATTERN = rf"^{NOT_RESERVED}[A-Za-z0-9 _.:/=+@-]{{1,128}}$"
TAG_VALUE_PATTERN = rf"^{NOT_RESERVED}[A-Za-z0-9 _.:/=+@-]{{0,256}}$"
RULE_PREFIX_PATTERN = r"^[A-Za-z][A-Za-z0-9-]*$"
RULE_PREFIX_MAX = 40  # also the most any rule set allows (`rule_name_prefix`)
RUNBOOK_URL_PATTERN = r"^(https://[^\s]+[^/\s])?$"
# The formats of the AWS::Chatbot resource schemas (docs/aws-facts.md, "Chat"), each also empty.
SLACK_WORKSPACE_PATTERN = r"^([0-9A-Z]{1,255})?$"
SLACK_CHANNEL_PATTERN = r"^([A-Za-z0-9]{1,255})?$"
UUID_PATTERN = r"^([0-9A-Fa-f]{8}(-[0-9A-Fa-f]{4}){3}-[0-9A-Fa-f]{12})?$"
TEAMS_CHANNEL_PATTERN = r"^([a-zA-Z0-9_=+/.,-]*%3[aA][a-zA-Z0-9_=+/.,-]*%40[a-zA-Z0-9_=+/.,-]*)?$"


GROUP_NOTIFY = "Notifications and reports"
GROUP_REMEDIATION = "Automatic remediation"
GROUP_OPERATIONS = "Operations"
GROUP_SECURITY_HUB = "Security Hub"
GROUP_AGGREGATION = "Config recorder and aggregation"
GROUP_CHAT = "Chat (Slack, Microsoft Teams)"
GROUP_ORDER = (
    GROUP_RULES,
    GROUP_FRAMEWORKS,
    GROUP_NOTIFY,
    GROUP_CHAT,
    GROUP_REMEDIATION,
    GROUP_SECURITY_HUB,
    GROUP_OPERATIONS,
    GROUP_AGGREGATION,
)

_AUTHORISED = "authorised once in the Amazon Q Developer in chat applications (AWS Chatbot) console"
CHAT_PARAMETERS: tuple[ParameterSpec, ...] = (
    ParameterSpec(
        "SlackWorkspaceId",
        GROUP_CHAT,
        "Slack workspace id",
        f"Id of a Slack workspace {_AUTHORISED} (shown there, e.g. T0123ABCD). With "
        "SlackChannelId: notifications also go to that channel. Empty: no Slack.",
        "",
        allowed_pattern=SLACK_WORKSPACE_PATTERN,
        constraint_description="a Slack workspace id of upper-case letters and digits such as "
        "T0123ABCD, or empty",
    ),
    ParameterSpec(
        "SlackChannelId",
        GROUP_CHAT,
        "Slack channel id",
        "Id of the Slack channel (the end of the channel's Copy link URL, e.g. C0123ABCD; invite "
        "@Amazon Q to a private channel). Required with the workspace id.",
        "",
        allowed_pattern=SLACK_CHANNEL_PATTERN,
        constraint_description="a Slack channel id of letters and digits such as C0123ABCD, "
        "or empty",
    ),
    ParameterSpec(
        "TeamsTenantId",
        GROUP_CHAT,
        "Microsoft Teams tenant id",
        f"Id (a UUID) of the Microsoft Entra tenant of a team {_AUTHORISED}. With TeamsTeamId "
        "and TeamsChannelId: notifications also go to that channel. Empty: no Teams.",
        "",
        allowed_pattern=UUID_PATTERN,
        constraint_description="a UUID such as 0a1b2c3d-4e5f-1a2b-3c4d-0a1b2c3d4e5f, or empty",
    ),
    ParameterSpec(
        "TeamsTeamId",
        GROUP_CHAT,
        "Microsoft Teams team id",
        "Id (a UUID) of the team, as the console shows it. Required with the tenant id.",
        "",
        allowed_pattern=UUID_PATTERN,
        constraint_description="a UUID such as 0a1b2c3d-4e5f-1a2b-3c4d-0a1b2c3d4e5f, or empty",
    ),
    ParameterSpec(
        "TeamsChannelId",
        GROUP_CHAT,
        "Microsoft Teams channel id",
        "Id of the channel, URL-encoded as in its Get link URL (19%3a...%40thread.tacv2). "
        "Required with the tenant id.",
        "",
        allowed_pattern=TEAMS_CHANNEL_PATTERN,
        constraint_description="a URL-encoded Teams channel id such as "
        "19%3aabc123%40thread.tacv2, or empty",
        max_length=256,
    ),
)

# Each tool's ids, which only work together: the template's Rules and the settings check refuse
# some without the others.
CHAT_TOGETHER = (
    ("SlackWorkspaceId", "SlackChannelId"),
    ("TeamsTenantId", "TeamsTeamId", "TeamsChannelId"),
)

# The reports bucket's optional Object Lock and Athena tables (storage, report_tables).
OBJECT_LOCK_MODES = ("off", "GOVERNANCE", "COMPLIANCE")
REPORT_STORAGE_PARAMETERS: tuple[ParameterSpec, ...] = (
    ParameterSpec(
        "ReportObjectLockMode",
        GROUP_NOTIFY,
        "Report Object Lock mode",
        "off: no Object Lock; GOVERNANCE or COMPLIANCE: every new object version in the reports "
        "bucket is locked for ReportRetentionDays, as long as it is kept. COMPLIANCE cannot be "
        "shortened or removed by anyone, the root user included; Object Lock stays enabled on "
        "the bucket (see README).",
        "off",
        allowed_values=OBJECT_LOCK_MODES,
    ),
    ParameterSpec(
        "ReportTables",
        GROUP_NOTIFY,
        "Athena report tables",
        "true: a Glue database with the tables rule_results and violations over the reports' "
        "table files, an Athena workgroup (results encrypted in the reports bucket) and three "
        "saved queries.",
        "false",
        allowed_values=("false", "true"),
    ),
)

BASE_PARAMETERS: tuple[ParameterSpec, ...] = (
    ParameterSpec(
        "RuleNamePrefix",
        GROUP_RULES,
        "Config rule name prefix",
        "Prefix of every Config rule name this stack creates (<prefix>-<rule>). Must not clash "
        "with rules that already exist in the account and region.",
        "compliance",
        allowed_pattern=RULE_PREFIX_PATTERN,
        constraint_description=f"1-{RULE_PREFIX_MAX} letters, digits or hyphens, starting with a "
        "letter",
        max_length=RULE_PREFIX_MAX,
    ),
    ParameterSpec(
        "NotificationEmail",
        GROUP_NOTIFY,
        "Notification e-mail",
        "E-mail address subscribed to the notification topic. Empty: no e-mail subscription.",
        "",
        allowed_pattern=EMAIL_PATTERN,
        constraint_description="an e-mail address such as security@example.com, or empty",
    ),
    ParameterSpec(
        "NotificationHttpsUrl",
        GROUP_NOTIFY,
        "Notification HTTPS endpoint",
        "HTTPS endpoint subscribed to the notification topic, with a delivery retry policy "
        "(SNS honours retry policies only for HTTP/S). Empty: no HTTPS subscription.",
        "",
        allowed_pattern=HTTPS_URL_PATTERN,
        constraint_description="an https:// URL without spaces, or empty",
    ),
    ParameterSpec(
        "ReportSchedule",
        GROUP_NOTIFY,
        "Report schedule",
        "EventBridge schedule expression for the compliance report.",
        "rate(1 day)",
        allowed_pattern=SCHEDULE_PATTERN,
        constraint_description="an EventBridge schedule such as rate(1 day), rate(6 hours) "
        "or cron(0 6 * * ? *)",
    ),
    ParameterSpec(
        "ReportRetentionDays",
        GROUP_NOTIFY,
        "Report retention (days)",
        "Days after which objects in the reports bucket expire (current and old versions).",
        "30",
        cfn_type="Number",
        min_value=1,
        max_value=3650,
    ),
    *REPORT_STORAGE_PARAMETERS,
    ParameterSpec(
        "RunbookBaseUrl",
        GROUP_NOTIFY,
        "Runbook base URL",
        "HTTPS base URL where docs/runbooks is published; notifications link to "
        "<url>/<RULE>.md. Empty: notifications give the runbook's path in this repository.",
        "",
        allowed_pattern=RUNBOOK_URL_PATTERN,
        constraint_description="an https:// URL without a trailing slash, or empty",
    ),
    ParameterSpec(
        "NonCompliantThreshold",
        GROUP_NOTIFY,
        "Non-compliant alarm threshold",
        "A rule's alarm fires when its non-compliant resources exceed this number.",
        "0",
        cfn_type="Number",
        min_value=0,
        max_value=100000,
    ),
    ParameterSpec(
        "CreateOpsItems",
        GROUP_NOTIFY,
        "Open OpsCenter OpsItems",
        "true: processing opens a Systems Manager OpsCenter OpsItem for each new violation "
        "(de-duplicated per rule and resource) and resolves it when the resource is compliant "
        "again. OpsItems are charged per item (see README).",
        "false",
        allowed_values=("false", "true"),
    ),
    ParameterSpec(
        "RemediationMode",
        GROUP_REMEDIATION,
        "Remediation mode",
        "off: no remediation; dry-run: decide and record, change nothing; enforce: apply fixes "
        "(the function is granted write permissions only in this mode).",
        "dry-run",
        allowed_values=("off", "dry-run", "enforce"),
    ),
    ParameterSpec(
        "ExemptionTagKey",
        GROUP_REMEDIATION,
        "Exemption tag key",
        "Resources carrying this tag key are never changed by remediation.",
        "compliance:exempt",
        allowed_pattern=TAG_KEY_PATTERN,
        constraint_description="a tag key of 1-128 letters, digits, spaces or _.:/=+-@, "
        "not starting with aws: (in any case)",
    ),
    ParameterSpec(
        "S3RemediationEncryption",
        GROUP_REMEDIATION,
        "S3 default encryption to set",
        "Default encryption remediation sets on a bucket: aws:kms (SSE-KMS with the AWS managed "
        "key aws/s3) or AES256 (SSE-S3).",
        "aws:kms",
        allowed_values=("aws:kms", "AES256"),
    ),
    ParameterSpec(
        "EnableEbsEncryptionByDefault",
        GROUP_REMEDIATION,
        "Turn on EBS encryption by default",
        "Whether remediation may turn on EBS encryption by default for the region when it finds "
        "an unencrypted volume (affects new volumes only; existing ones need the runbook).",
        "false",
        allowed_values=("false", "true"),
    ),
    ParameterSpec(
        "SecurityHubFindings",
        GROUP_SECURITY_HUB,
        "Security Hub findings",
        "off: nothing goes to Security Hub; config: annotate the findings AWS Config sends to "
        "Security Hub (exemptions suppress them, notes give the runbook and remediation); "
        "import: import this stack's own findings, for accounts where the AWS Config "
        "integration is off. Security Hub must be enabled in the account and region.",
        "off",
        allowed_values=("off", "config", "import"),
    ),
    ParameterSpec(
        "LogRetentionDays",
        GROUP_OPERATIONS,
        "Log retention (days)",
        "Retention of the three functions' log groups.",
        "90",
        cfn_type="Number",
        allowed_values=tuple(str(d) for d in LOG_RETENTION_DAYS),
    ),
    ParameterSpec(
        "LogLevel",
        GROUP_OPERATIONS,
        "Function log level",
        "Log level of the three functions.",
        "INFO",
        allowed_values=("DEBUG", "INFO", "WARNING", "ERROR"),
    ),
    ParameterSpec(
        "ReservedConcurrency",
        GROUP_OPERATIONS,
        "Processing reserved concurrency",
        "Reserved concurrency of the processing function (reporting gets 1, remediation 2). "
        "Lambda keeps 100 executions unreserved (10 or 50 in new accounts with a low quota), "
        "so reserving needs a quota of at least 108. 0: reserve nothing.",
        "5",
        cfn_type="Number",
        min_value=0,
        max_value=1000,
    ),
    ParameterSpec(
        "CreateConfigRecorder",
        GROUP_AGGREGATION,
        "Create a Config recorder",
        "true only in an account and region that has no AWS Config configuration recorder and "
        "delivery channel yet (there can be only one of each; Control Tower accounts have them).",
        "false",
        allowed_values=("false", "true"),
    ),
    ParameterSpec(
        "AggregatorAccountId",
        GROUP_AGGREGATION,
        "Aggregator account id",
        "Account of a central Config aggregator allowed to collect this account's data. "
        "Empty: no aggregation authorization.",
        "",
        allowed_pattern=ACCOUNT_ID_PATTERN,
        constraint_description="a 12-digit AWS account id, or empty",
    ),
    ParameterSpec(
        "AggregatorRegion",
        GROUP_AGGREGATION,
        "Aggregator region",
        "Region of that central aggregator (required with the account id).",
        "",
        allowed_pattern=REGION_PATTERN,
        constraint_description="a region code such as eu-west-1, or empty",
    ),
    ParameterSpec(
        "ReportAcrossRegions",
        GROUP_AGGREGATION,
        "Report across regions",
        "true: the reporting function reads this stack's account aggregator (all regions) "
        "instead of this region's rules only.",
        "false",
        allowed_values=("false", "true"),
    ),
    *CHAT_PARAMETERS,
)

GROUP_ORGANIZATION = "Organization"
ORGANIZATION_PARAMETERS: tuple[ParameterSpec, ...] = (
    ParameterSpec(
        "OrganizationId",
        GROUP_ORGANIZATION,
        "Organization id",
        "AWS Organizations id (o-...): member accounts of it may write records to the central "
        "bucket, publish to the central topic and use the central key.",
        None,
        allowed_pattern=r"^o-[a-z0-9]{10,32}$",
        constraint_description="an organization id such as o-a1b2c3d4e5",
    ),
    ParameterSpec(
        "CentralBucketName",
        GROUP_ORGANIZATION,
        "Central reports bucket",
        "Name of the central account's reports bucket (output ReportsBucketName of the central "
        "stack).",
        None,
        allowed_pattern=r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$",
        constraint_description="an S3 bucket name",
    ),
    ParameterSpec(
        "CentralTopicArn",
        GROUP_ORGANIZATION,
        "Central notification topic",
        "ARN of the central account's topic (output NotificationTopicArn of the central stack).",
        None,
        allowed_pattern=r"^arn:aws[a-z-]*:sns:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]{1,256}$",
        constraint_description="an SNS topic ARN",
    ),
    ParameterSpec(
        "CentralKeyArn",
        GROUP_ORGANIZATION,
        "Central KMS key",
        "ARN of the central account's KMS key (output KeyArn of the central stack), which "
        "encrypts the central bucket and topic.",
        None,
        allowed_pattern=r"^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[a-zA-Z0-9-]{1,64}$",
        constraint_description="a KMS key ARN",
    ),
    ParameterSpec(
        "CentralChatNotifications",
        GROUP_ORGANIZATION,
        "Central chat channel",
        "true when the central stack has a Slack or Teams channel (its SlackWorkspaceId or "
        "TeamsTenantId is set): this account's notifications then carry the chat card too.",
        "false",
        allowed_values=("false", "true"),
    ),
    ParameterSpec(
        "ArtifactBucketPrefix",
        GROUP_ORGANIZATION,
        "Code bucket prefix",
        "The processing code is read from the bucket <prefix>-<region> in each region (Lambda "
        "reads code only from its own region); make deploy-org fills them.",
        None,
        allowed_pattern=r"^[a-z0-9][a-z0-9.-]{1,40}$",
        constraint_description="lower-case letters, digits, dots and hyphens, at most 41",
    ),
    ParameterSpec(
        "ProcessingCodeKey",
        GROUP_ORGANIZATION,
        "Processing code object",
        "S3 key of the processing function's zip in every code bucket (content-addressed, so a "
        "new version is a new key and StackSets update the functions).",
        None,
        allowed_pattern=r"^[A-Za-z0-9/._-]{1,1000}\.zip$",
        constraint_description="an S3 key ending in .zip",
    ),
)

# Parameters only ssm-engine remediations take (remediations.json `stackParameter`), added to a
# template by remediation_configs when a rule of the stack uses one.
REMEDIATION_PARAMETERS: tuple[ParameterSpec, ...] = (
    ParameterSpec(
        "SnsRemediationKmsKeyArn",
        GROUP_REMEDIATION,
        "KMS key for SNS topic encryption",
        "ARN of the KMS key AWSConfigRemediation-EncryptSNSTopic encrypts an unencrypted topic "
        "with; its key policy must let the topic's publishers use it.",
        None,
        allowed_pattern=r"^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[A-Za-z0-9-]+$",
        constraint_description="a KMS key ARN (arn:<partition>:kms:<region>:<account>:key/<id>)",
    ),
)

# Only in a stack whose settings list `digest` rules.
DIGEST_SCHEDULE = ParameterSpec(
    "DigestSchedule",
    GROUP_NOTIFY,
    "Digest schedule",
    "EventBridge schedule expression of the digest: one message per digest rule listing its "
    "changes since the last one.",
    "rate(1 hour)",
    allowed_pattern=SCHEDULE_PATTERN,
    constraint_description="an EventBridge schedule such as rate(1 hour), rate(30 minutes) "
    "or cron(0 8 * * ? *)",
)

PERIODIC_FREQUENCY = ParameterSpec(
    "PeriodicRuleFrequency",
    GROUP_RULES,
    "Periodic rule frequency",
    "How often periodic rules are evaluated.",
    "TwentyFour_Hours",
    allowed_values=RULE_FREQUENCIES,
)


def check_value(spec: ParameterSpec, value: object, field: str) -> str:
    """Return `value` as the string CloudFormation would receive, or raise SettingsError."""
    if isinstance(value, bool):
        # JSON true/false is not the string CloudFormation compares with "true"/"false".
        raise SettingsError(
            field, value, f'{spec.allowed_text()}, written as a JSON string ("{shown(value)}")'
        )
    if not isinstance(value, str | int):
        kind = "" if spec.cfn_type == "Number" else ", as a JSON string"
        raise SettingsError(field, value, spec.allowed_text() + kind)
    text = str(value)
    if spec.cfn_type == "Number":
        if not re.fullmatch(r"-?[0-9]+", text):
            raise SettingsError(field, value, spec.allowed_text())
        number = int(text)
        too_low = spec.min_value is not None and number < spec.min_value
        too_high = spec.max_value is not None and number > spec.max_value
        if too_low or too_high:
            raise SettingsError(field, value, spec.allowed_text())
    if spec.allowed_values and text not in spec.allowed_values:
        raise SettingsError(field, value, spec.allowed_text())
    if spec.allowed_pattern and not re.fullmatch(spec.allowed_pattern, text):
        raise SettingsError(field, value, spec.allowed_text())
    if spec.max_length is not None and len(text) > spec.max_length:
        raise SettingsError(field, value, spec.allowed_text())
    return text


def rule_name_prefix(rules: Sequence[ManagedRule] | Sequence[RuleChoice]) -> ParameterSpec:
    """RuleNamePrefix for these rules: short enough that the longest name, <prefix>-<slug>, stays
    within MAX_RULE_NAME, so the reporting function can read every rule's results."""
    base = next(spec for spec in BASE_PARAMETERS if spec.name == "RuleNamePrefix")
    longest = max((rule.slug for rule in rules), key=len)
    room = min(RULE_PREFIX_MAX, MAX_RULE_NAME - 1 - len(longest))
    return replace(
        base,
        max_length=room,
        constraint_description=f"1-{room} letters, digits or hyphens, starting with a letter "
        f"(rule names <prefix>-<rule> of at most {MAX_RULE_NAME} characters, the longest rule "
        f"being {longest})",
    )


def add_parameter(template: Template, spec: ParameterSpec, default: str | None) -> Parameter:
    """Add the parameter; without a default (None) CloudFormation requires a value."""
    kwargs: dict[str, object] = {"Type": spec.cfn_type, "Description": spec.description}
    if default is not None:
        kwargs["Default"] = default
    if spec.allowed_values:
        kwargs["AllowedValues"] = list(spec.allowed_values)
    if spec.allowed_pattern:
        kwargs["AllowedPattern"] = spec.allowed_pattern
    if spec.constraint_description:
        kwargs["ConstraintDescription"] = spec.constraint_description
    if spec.min_value is not None:
        kwargs["MinValue"] = spec.min_value
    if spec.max_value is not None:
        kwargs["MaxValue"] = spec.max_value
    if spec.max_length is not None:
        kwargs["MaxLength"] = spec.max_length
    parameter = template.add_parameter(Parameter(spec.name, **kwargs))
    template.set_parameter_label(parameter, spec.label)
    template.add_parameter_to_group(parameter, spec.group)
    return parameter
