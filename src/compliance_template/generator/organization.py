"""The two organization templates: one for every member account and region, one for the central
(audit or delegated-administrator) account.

Members run the rules and their own processing function, and write to the central account's
bucket and topic: events are handled where they happen, so no cross-account event bus, no
forwarding role and no second hop can lose them, and a member keeps working when another region
is impaired. The central account aggregates the organization's Config data, reports and alarms.
Both are pure functions of the settings, like `build_template`.
"""

from __future__ import annotations

from troposphere import Ref, Sub, Template, awslambda

from ..version import VERSION
from .aggregation import add_organization_aggregator
from .alarms import add_alarms
from .chat import add_chat
from .conditions import (
    CHAT_CONDITIONS,
    HAS_EMAIL,
    HAS_HTTPS,
    OPEN_OPS_ITEMS,
    REPORT_BUCKET_CONDITIONS,
    RESERVE_CONCURRENCY,
    SECURITY_HUB_IMPORT,
    SECURITY_HUB_ON,
    add_conditions,
)
from .config_rules import add_rules
from .dashboard import add_dashboard
from .encryption import add_encryption
from .exemptions import add_exemption_parameters
from .functions import add_function_roles, add_functions
from .notifications import add_notifications
from .parameters import BASE_PARAMETERS, GROUP_ORDER, ORGANIZATION_PARAMETERS, add_parameter
from .remediation_configs import add_approval_subscription, add_remediation_configs
from .remediation_engines import plan
from .report_engine import add_report_engine
from .report_tables import add_report_tables
from .settings import (
    Settings,
    base_parameter_specs,
    feature_parameter_specs,
    rule_parameter_specs,
)
from .stack import Stack
from .storage import add_storage
from .triggers import add_triggers

MEMBER_PARAMETERS = (
    "RuleNamePrefix",
    "RunbookBaseUrl",
    "CreateOpsItems",
    "LogRetentionDays",
    "LogLevel",
    "ReservedConcurrency",
    # Findings stay in the member's own Security Hub; its administrator aggregation carries them
    # to the delegated administrator.
    "SecurityHubFindings",
    "CentralBucketName",
    "CentralTopicArn",
    "CentralKeyArn",
    "CentralChatNotifications",
    "ArtifactBucketPrefix",
    "ProcessingCodeKey",
)
CENTRAL_PARAMETERS = (
    "OrganizationId",
    "RuleNamePrefix",
    "NotificationEmail",
    "NotificationHttpsUrl",
    "ReportSchedule",
    "ReportRetentionDays",
    "ReportObjectLockMode",
    "ReportTables",
    "RunbookBaseUrl",
    "NonCompliantThreshold",
    "LogRetentionDays",
    "LogLevel",
    "ReservedConcurrency",
    # The topic lives here, so the chat channels do too.
    "SlackWorkspaceId",
    "SlackChannelId",
    "TeamsTenantId",
    "TeamsTeamId",
    "TeamsChannelId",
)


def build_member_template(settings: Settings) -> Template:
    template = _template(settings, "organization member account and region")
    _add_parameters(template, settings, MEMBER_PARAMETERS, with_rules=True)
    add_conditions(
        template, RESERVE_CONCURRENCY, SECURITY_HUB_ON, SECURITY_HUB_IMPORT, OPEN_OPS_ITEMS
    )
    if plan(settings):
        # AWS-native remediation runs in each member: the mode is the member's to choose.
        add_parameter(
            template,
            REMEDIATION_MODE,
            settings.parameter_defaults.get(REMEDIATION_MODE.name, REMEDIATION_MODE.default),
        )
    stack = Stack(
        template,
        settings,
        functions=("processing",),
        bucket_name=Ref("CentralBucketName"),
        bucket_arn=Sub("arn:${AWS::Partition}:s3:::${CentralBucketName}"),
        topic_arn=Ref("CentralTopicArn"),
        remote_key_arn=Ref("CentralKeyArn"),
        code=_regional_code,
    )
    # The local key encrypts the log group and the dead-letter queue, which must be regional.
    for step in (
        add_function_roles,
        add_encryption,
        add_rules,
        add_remediation_configs,
        add_exemption_parameters,
        add_functions,
        add_approval_subscription,
        add_triggers,
    ):
        step(stack)
    return template


def build_central_template(settings: Settings) -> Template:
    template = _template(settings, "organization central account")
    _add_parameters(template, settings, CENTRAL_PARAMETERS, with_rules=False)
    add_conditions(
        template,
        HAS_EMAIL,
        HAS_HTTPS,
        RESERVE_CONCURRENCY,
        *CHAT_CONDITIONS,
        *REPORT_BUCKET_CONDITIONS,
    )
    stack = Stack(
        template, settings, functions=("reporting",), organization_id=Ref("OrganizationId")
    )
    for step in (
        add_function_roles,
        add_encryption,
        add_storage,
        add_report_tables,
        add_notifications,
        add_chat,
        add_organization_aggregator,
        add_exemption_parameters,
        add_functions,
        add_report_engine,
        add_triggers,
        add_alarms,
        add_dashboard,
    ):
        step(stack)
    return template


REMEDIATION_MODE = next(spec for spec in BASE_PARAMETERS if spec.name == "RemediationMode")


def _regional_code(function: str) -> awslambda.Code:
    """Lambda reads code only from a bucket in its own region: one bucket per region, named
    <ArtifactBucketPrefix>-<region>, each holding the same content-addressed zip."""
    return awslambda.Code(
        S3Bucket=Sub("${ArtifactBucketPrefix}-${AWS::Region}"),
        S3Key=Ref(f"{function.capitalize()}CodeKey"),
    )


def _template(settings: Settings, kind: str) -> Template:
    template = Template(
        Description=f"Compliance monitoring, {kind} (generated by compliance-template "
        f"{VERSION}; {settings.summary})"
    )
    template.set_version("2010-09-09")
    return template


def _add_parameters(
    template: Template, settings: Settings, names: tuple[str, ...], with_rules: bool
) -> None:
    base = base_parameter_specs(settings.selection)
    available = {spec.name: spec for spec in (*base, *ORGANIZATION_PARAMETERS)}
    specs = [available[name] for name in names]
    if with_rules:
        # Members run processing, which sends the digests.
        specs += [
            *rule_parameter_specs(settings.selection),
            *feature_parameter_specs(bool(settings.digest)),
        ]
    for spec in sorted(specs, key=lambda s: _group_rank(s.group)):
        add_parameter(template, spec, settings.parameter_defaults.get(spec.name, spec.default))


def _group_rank(group: str) -> int:
    return GROUP_ORDER.index(group) if group in GROUP_ORDER else len(GROUP_ORDER)
