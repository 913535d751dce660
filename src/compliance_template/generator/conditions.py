"""The templates' conditions, each declared once: its name and what it tests.

The steps that create resources under a condition refer to it by name; the template builders add
the ones their template needs with `add_conditions`, so a condition two templates share cannot
be written two ways. (The per-rule region conditions are derived from the catalog in
`regions`.) No name is also a parameter's name (cfn-lint rule W9013): other engines resolve such
a shared name ambiguously.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from troposphere import And, AWSHelperFn, Condition, Equals, Not, Or, Ref, Template

CREATE_RECORDER = "RecorderRequested"
HAS_EMAIL = "HasNotificationEmail"
HAS_HTTPS = "HasNotificationHttpsUrl"
HAS_AGGREGATOR_ACCOUNT = "HasAggregatorAccount"
RESERVE_CONCURRENCY = "ReserveConcurrency"
ENFORCE_REMEDIATION = "EnforceRemediation"
REMEDIATION_ON = "RemediationOn"
# AWS::Config::RemediationConfiguration is missing from these regions' CloudFormation schemas
# (cfn-lint 1.58's region schemas, read 2026-12-02; E3006 catches a configuration deployed there):
# no ssm-engine remediation is deployed there, and processing is told of none.
REMEDIATION_CONFIGURATION_UNAVAILABLE = (
    "ap-east-2",
    "ap-southeast-6",
    "ap-southeast-7",
    "mx-central-1",
)
IN_REMEDIATION_REGION = "InRemediationConfigurationRegion"
REPORT_ACROSS_REGIONS = "ReportReadsAggregator"
HAS_EXCLUDED_ACCOUNTS = "HasExcludedAccounts"
OPEN_OPS_ITEMS = "OpsItemsRequested"
SECURITY_HUB_ON = "SecurityHubFindingsOn"
SECURITY_HUB_IMPORT = "SecurityHubImportsFindings"
# AWS Chatbot's CloudFormation types exist in every region but China's and GovCloud's (cfn-lint's
# region schemas, docs/aws-facts.md "Chat"): there the chat parameters are ignored, and the
# deploy-time rules of `chat` refuse them. Tested by region, which cfn-lint follows (by partition
# it would not, and would find the types missing there).
CHATBOT_UNAVAILABLE = ("cn-north-1", "cn-northwest-1", "us-gov-east-1", "us-gov-west-1")
IN_CHAT_REGION = "InChatbotRegion"
HAS_SLACK = "HasSlackChannel"
HAS_TEAMS = "HasTeamsChannel"
HAS_CHAT = "HasChatChannel"
CHAT_CONDITIONS = (IN_CHAT_REGION, HAS_SLACK, HAS_TEAMS, HAS_CHAT)
# The reports bucket's options (storage, report_tables); every template with the bucket adds both.
LOCK_REPORTS = "ReportObjectLockOn"
CREATE_REPORT_TABLES = "ReportTablesRequested"
REPORT_BUCKET_CONDITIONS = (LOCK_REPORTS, CREATE_REPORT_TABLES)


def _is_true(parameter: str) -> Equals:
    return Equals(Ref(parameter), "true")


def _not_empty(parameter: str) -> Not:
    return Not(Equals(Ref(parameter), ""))


# Built anew for each template: troposphere objects belong to the template they are added to.
DEFINITIONS: Mapping[str, Callable[[], AWSHelperFn]] = {
    CREATE_RECORDER: lambda: _is_true("CreateConfigRecorder"),
    HAS_EMAIL: lambda: _not_empty("NotificationEmail"),
    HAS_HTTPS: lambda: _not_empty("NotificationHttpsUrl"),
    HAS_AGGREGATOR_ACCOUNT: lambda: And(
        _not_empty("AggregatorAccountId"), _not_empty("AggregatorRegion")
    ),
    RESERVE_CONCURRENCY: lambda: Not(Equals(Ref("ReservedConcurrency"), "0")),
    ENFORCE_REMEDIATION: lambda: Equals(Ref("RemediationMode"), "enforce"),
    IN_REMEDIATION_REGION: lambda: Not(
        Or(*(Equals(Ref("AWS::Region"), r) for r in REMEDIATION_CONFIGURATION_UNAVAILABLE))
    ),
    REMEDIATION_ON: lambda: And(
        Not(Equals(Ref("RemediationMode"), "off")), Condition(IN_REMEDIATION_REGION)
    ),
    REPORT_ACROSS_REGIONS: lambda: _is_true("ReportAcrossRegions"),
    HAS_EXCLUDED_ACCOUNTS: lambda: _not_empty("ExcludedAccounts"),
    OPEN_OPS_ITEMS: lambda: _is_true("CreateOpsItems"),
    SECURITY_HUB_ON: lambda: Not(Equals(Ref("SecurityHubFindings"), "off")),
    SECURITY_HUB_IMPORT: lambda: Equals(Ref("SecurityHubFindings"), "import"),
    IN_CHAT_REGION: lambda: Not(
        Or(*(Equals(Ref("AWS::Region"), region) for region in CHATBOT_UNAVAILABLE))
    ),
    HAS_SLACK: lambda: And(
        Condition(IN_CHAT_REGION), _not_empty("SlackWorkspaceId"), _not_empty("SlackChannelId")
    ),
    HAS_TEAMS: lambda: And(
        Condition(IN_CHAT_REGION),
        _not_empty("TeamsTenantId"),
        _not_empty("TeamsTeamId"),
        _not_empty("TeamsChannelId"),
    ),
    HAS_CHAT: lambda: Or(Condition(HAS_SLACK), Condition(HAS_TEAMS)),
    LOCK_REPORTS: lambda: Not(Equals(Ref("ReportObjectLockMode"), "off")),
    CREATE_REPORT_TABLES: lambda: _is_true("ReportTables"),
}


def add_conditions(template: Template, *names: str) -> None:
    for name in names:
        template.add_condition(name, DEFINITIONS[name]())
