"""Security Hub: what this stack adds to the findings of its rules. Pure: no AWS calls.

``SECURITY_HUB_MODE`` chooses one of three modes (docs/functions.md, "Security Hub"):

* ``off`` (default): nothing is sent.
* ``config``: AWS Config already sends every evaluation of a managed or custom rule to Security
  Hub, which turns it into a finding of product "Config" (docs/aws-facts.md, "Security Hub").
  Nothing is imported, so no finding is duplicated; the finding AWS Config made for the rule and
  resource gets what only this stack knows: an exemption suppresses it with a note saying who
  granted it, why and until when; a violation gets a note with the runbook and whether automatic
  remediation runs. A compliant evaluation needs nothing: Security Hub resolves the finding itself.
* ``import``: for accounts where the Config integration is turned off, one finding of our own per
  account, region, rule and resource, imported in the AWS Security Finding Format (ASFF) with
  the default product ARN of the account, then annotated the same way.

A finding has one note: a later note replaces the earlier one, so each note says everything on
its own, and writing the same note again changes nothing (a retry never duplicates one).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import settings as env_settings

MODES = ("off", "config", "import")
SCHEMA_VERSION = "2018-10-08"
CONFIG_PRODUCT_NAME = "Config"
CONFIG_RULE_NAME_FIELD = "aws/config/ConfigRuleName"
# What AWS Config's own findings carry as Types; ours use the same so both modes filter alike.
FINDING_TYPES = ("Software and Configuration Checks",)
UPDATED_BY = "compliance-monitoring"
PROVIDER_NAME = "compliance-monitoring"
EXEMPT_PREFIX = "Exempt:"
# ASFF limits (docs/aws-facts.md): a note's text, a finding id, a title, a description, and a
# recommendation's text.
NOTE_MAX = 512
ID_MAX = 512
TITLE_MAX = 256
DESCRIPTION_MAX = 1024
RECOMMENDATION_MAX = 512
_ELLIPSIS = "..."
COMPLIANCE_STATUS = {
    "NON_COMPLIANT": "FAILED",
    "COMPLIANT": "PASSED",
    # What AWS Config's integration maps NOT_APPLICABLE to; Security Hub archives such a finding
    # after a few days by itself.
    "NOT_APPLICABLE": "NOT_AVAILABLE",
    # Ours: ASFF's WARNING is "some information is missing".
    "INSUFFICIENT_DATA": "WARNING",
}
SUPPRESSED, NEW = "SUPPRESSED", "NEW"
# Types whose Config resource id is not part of their ARN (an RDS instance's DbiResourceId
# db-..., IAM's unique ids): AWS Config's finding names them by ARN, so the id is looked for in
# the resource details Security Hub adds from the configuration item instead (best effort).
ID_NOT_IN_ARN = frozenset(
    {
        "AWS::RDS::DBInstance",
        "AWS::RDS::DBCluster",
        "AWS::IAM::User",
        "AWS::IAM::Role",
        "AWS::IAM::Group",
        "AWS::IAM::Policy",
    }
)


class FindingNotFound(RuntimeError):
    """Security Hub has no finding to annotate yet: raised so the invocation is retried."""


def mode(env: Mapping[str, str]) -> str:
    return env_settings.choice(env, "SECURITY_HUB_MODE", MODES, "off")


def partition(region: str) -> str:
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


@dataclass(frozen=True)
class Target:
    """The rule and resource whose finding is meant."""

    account: str
    region: str
    rule_name: str
    resource_type: str
    resource_id: str

    @property
    def product_arn(self) -> str:
        """The account's default product, to which a custom integration imports its findings."""
        return (
            f"arn:{partition(self.region)}:securityhub:{self.region}:{self.account}:"
            f"product/{self.account}/default"
        )

    @property
    def config_product_arn(self) -> str:
        return f"arn:{partition(self.region)}:securityhub:{self.region}::product/aws/config"

    @property
    def finding_id(self) -> str:
        """Stable per account, region, rule and resource, so every import updates the same
        finding; a resource id too long for the 512-character limit is replaced by its hash."""
        head = f"{self.account}/{self.region}/{self.rule_name}/{self.resource_type}/"
        whole = head + self.resource_id
        if len(whole) <= ID_MAX:
            return whole
        return head + "sha256-" + hashlib.sha256(self.resource_id.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class FindingUpdate:
    """What one evaluation means for the rule and resource's finding."""

    mode: str  # "config" or "import"
    target: Target
    note: str
    exempt: bool
    # The ASFF finding to import first (mode "import"); None in mode "config".
    finding: Mapping[str, Any] | None = None
    # False for remediation's note: it never changes the workflow status.
    may_reopen: bool = True

    @property
    def filters(self) -> dict[str, Any]:
        """GetFindings filters for the finding(s) to annotate."""
        if self.mode == "import":
            return {
                "Id": [_equals(self.target.finding_id)],
                "ProductArn": [_equals(self.target.product_arn)],
            }
        filters: dict[str, Any] = {
            "ProductName": [_equals(CONFIG_PRODUCT_NAME)],
            "ProductFields": [
                {
                    "Key": CONFIG_RULE_NAME_FIELD,
                    "Value": self.target.rule_name,
                    "Comparison": "EQUALS",
                }
            ],
            "AwsAccountId": [_equals(self.target.account)],
            "RecordState": [_equals("ACTIVE")],
        }
        if self.target.resource_type not in ID_NOT_IN_ARN:
            # Narrows the search on the server; `of_resource` decides, since AWS Config's
            # finding names the resource by its ARN.
            filters["ResourceId"] = [{"Value": self.target.resource_id, "Comparison": "CONTAINS"}]
        return filters


def _equals(value: str) -> dict[str, str]:
    return {"Value": value, "Comparison": "EQUALS"}


def fit(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - len(_ELLIPSIS)] + _ELLIPSIS


def exemption_note(exemption: Mapping[str, Any]) -> str:
    return fit(
        f"{EXEMPT_PREFIX} {exemption.get('id')}. Reason: {exemption.get('reason')}. "
        f"Owner: {exemption.get('owner')}. Granted {exemption.get('granted')}, "
        f"expires {exemption.get('expires')}.",
        NOTE_MAX,
    )


def violation_note(runbook: str, hands_off: bool) -> str:
    remediation = (
        "handed to the remediation function (its mode decides whether it changes anything)"
        if hands_off
        else "not enabled for this rule"
    )
    text = f"Non-compliant. Runbook: {runbook}. Automatic remediation: {remediation}."
    return fit(text, NOTE_MAX)


def resolved_note(compliance_type: str, evaluated_at: str, runbook: str) -> str:
    return fit(f"{compliance_type} since {evaluated_at}. Runbook: {runbook}.", NOTE_MAX)


def remediation_note(outcome: str, mode_name: str, reason: str, runbook: str) -> str:
    # The reason goes last: it is the part that may be cut to fit.
    return fit(
        f"Remediation {outcome} ({mode_name} mode). Runbook: {runbook}. Why: {reason}", NOTE_MAX
    )


def plan_update(
    security_hub_mode: str,
    target: Target,
    *,
    compliance_type: str,
    previous_type: str | None,
    exemption: Mapping[str, Any] | None,
    runbook: str,
    hands_off: bool,
    evaluated_at: str,
    severity: str,
    description: str,
    what_to_do: str,
    annotation: str | None,
) -> FindingUpdate | None:
    """The update an evaluation asks for; None when it asks for none.

    Mode ``config`` annotates violations only: AWS Config's finding of a compliant resource is
    resolved by Security Hub. Mode ``import`` also sends the evaluation that ends a violation, so
    our finding passes; a resource never non-compliant gets no finding at all.
    """
    non_compliant = compliance_type == "NON_COMPLIANT"
    wanted = {"config": non_compliant, "import": non_compliant or previous_type == "NON_COMPLIANT"}
    if not wanted.get(security_hub_mode, False):
        return None
    exempt = non_compliant and exemption is not None
    if exempt:
        assert exemption is not None
        note = exemption_note(exemption)
    elif non_compliant:
        note = violation_note(runbook, hands_off)
    else:
        note = resolved_note(compliance_type, evaluated_at, runbook)
    finding = (
        asff_finding(
            target,
            compliance_type=compliance_type,
            evaluated_at=evaluated_at,
            severity=severity,
            description=description,
            what_to_do=what_to_do,
            runbook=runbook,
            annotation=annotation,
        )
        if security_hub_mode == "import"
        else None
    )
    # A compliant resource's finding is never reopened: Security Hub resolves a passed one.
    return FindingUpdate(security_hub_mode, target, note, exempt, finding, may_reopen=non_compliant)


def asff_finding(
    target: Target,
    *,
    compliance_type: str,
    evaluated_at: str,
    severity: str,
    description: str,
    what_to_do: str,
    runbook: str,
    annotation: str | None,
) -> dict[str, Any]:
    """Our finding for the rule and resource. ``UpdatedAt`` is the evaluation's time: Security
    Hub ignores an import older than the finding it has, so a late retry cannot undo a newer
    evaluation. Note and workflow are left out: on an existing finding Security Hub ignores them
    in an import; they are set with BatchUpdateFindings."""
    recommendation: dict[str, str] = {"Text": fit(what_to_do, RECOMMENDATION_MAX)}
    if runbook.startswith(("https://", "http://")):
        recommendation["Url"] = runbook
    details = f" Annotation: {annotation}" if annotation else ""
    return {
        "SchemaVersion": SCHEMA_VERSION,
        "Id": target.finding_id,
        "ProductArn": target.product_arn,
        "GeneratorId": target.rule_name,
        "AwsAccountId": target.account,
        "Types": list(FINDING_TYPES),
        "CreatedAt": evaluated_at,
        "UpdatedAt": evaluated_at,
        "Severity": {"Label": severity},
        "FindingProviderFields": {"Severity": {"Label": severity}, "Types": list(FINDING_TYPES)},
        "Title": fit(f"{target.rule_name}: {target.resource_type} {target.resource_id}", TITLE_MAX),
        "Description": fit(f"{description}{details}", DESCRIPTION_MAX),
        "Remediation": {"Recommendation": recommendation},
        "ProductFields": {
            "ProviderName": PROVIDER_NAME,
            f"{PROVIDER_NAME}/ConfigRuleName": target.rule_name,
            f"{PROVIDER_NAME}/ResourceType": target.resource_type,
            f"{PROVIDER_NAME}/ComplianceType": compliance_type,
        },
        "Resources": [
            {
                "Type": "Other",
                "Id": target.resource_id,
                "Partition": partition(target.region),
                "Region": target.region,
                "Details": {"Other": {"ConfigResourceType": target.resource_type}},
            }
        ],
        "Compliance": {"Status": COMPLIANCE_STATUS[compliance_type]},
        "RecordState": "ACTIVE",
    }


def of_resource(findings: Iterable[Mapping[str, Any]], resource_id: str) -> list[Mapping[str, Any]]:
    """The findings about this resource. AWS Config's name it by ARN (or an id Security Hub
    computes), which ends with the resource id after a ``/`` or ``:``; an id that only
    contains it (bucket "logs" in "old-logs") is another resource. Failing that, a resource
    whose details hold the id as a value (an RDS instance's ``DbiResourceId``) is the one."""
    return [
        finding
        for finding in findings
        if any(
            _names(resource, resource_id)
            for resource in finding.get("Resources") or ()
            if isinstance(resource, Mapping)
        )
    ]


def _names(resource: Mapping[str, Any], resource_id: str) -> bool:
    identifier = str(resource.get("Id", ""))
    if identifier == resource_id or identifier.endswith((f"/{resource_id}", f":{resource_id}")):
        return True
    details = resource.get("Details")
    return isinstance(details, Mapping) and any(
        value == resource_id
        for detail in details.values()
        if isinstance(detail, Mapping)
        for value in detail.values()
    )


def annotation_requests(
    update: FindingUpdate, findings: Iterable[Mapping[str, Any]]
) -> list[dict[str, Any]]:
    """BatchUpdateFindings requests that bring each finding to what the update says; a finding
    that already has the note and the workflow status gets none, so a retry sends nothing."""
    requests = []
    for finding in findings:
        request: dict[str, Any] = {}
        note = finding.get("Note") if isinstance(finding.get("Note"), Mapping) else {}
        if note.get("Text") != update.note:
            request["Note"] = {"Text": update.note, "UpdatedBy": UPDATED_BY}
        status = _workflow(update, finding, note)
        if status is not None:
            request["Workflow"] = {"Status": status}
        if request:
            identifier = {"Id": finding["Id"], "ProductArn": finding["ProductArn"]}
            requests.append({"FindingIdentifiers": [identifier], **request})
    return requests


def _workflow(
    update: FindingUpdate, finding: Mapping[str, Any], note: Mapping[str, Any]
) -> str | None:
    workflow = finding.get("Workflow") if isinstance(finding.get("Workflow"), Mapping) else {}
    current = workflow.get("Status")
    if update.exempt:
        return None if current == SUPPRESSED else SUPPRESSED
    # Security Hub never reopens a suppressed finding by itself. One we suppressed for an
    # exemption that no longer covers the violation is reopened; one a person suppressed is not.
    ours = note.get("UpdatedBy") == UPDATED_BY and str(note.get("Text", "")).startswith(
        EXEMPT_PREFIX
    )
    if update.may_reopen and current == SUPPRESSED and ours:
        return NEW
    return None


def new_finding(update: FindingUpdate) -> dict[str, Any]:
    """What a finding just imported looks like before Security Hub lists it (no note yet)."""
    assert update.finding is not None
    return {"Id": update.finding["Id"], "ProductArn": update.finding["ProductArn"]}
