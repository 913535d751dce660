"""Runbooks, one per catalog rule, generated from the catalog so they cannot drift from it.

`generate.py --runbooks docs/runbooks` writes them; notifications and reports link to
`<RunbookBaseUrl>/<IDENTIFIER>.md`.
"""

from __future__ import annotations

from pathlib import Path

from ..output import check_target, write_atomically
from . import ssm_documents
from .catalog import CATALOG, ManagedRule, Trigger
from .parameters import BASE_PARAMETERS
from .remediation_configs import MAXIMUM_AUTOMATIC_ATTEMPTS, RETRY_ATTEMPT_SECONDS
from .remediation_engines import available_engines, default_engine

EXEMPTION_TAG = next(p.default for p in BASE_PARAMETERS if p.name == "ExemptionTagKey")
TAG = f"Key={EXEMPTION_TAG},Value=<reason and ticket>"

# How to tag each kind of resource our rules flag.
EXEMPT_COMMANDS = {
    "AWS::EC2::Instance": f"aws ec2 create-tags --resources <resource-id> --tags {TAG}",
    "AWS::EC2::Volume": f"aws ec2 create-tags --resources <resource-id> --tags {TAG}",
    "AWS::EC2::SecurityGroup": f"aws ec2 create-tags --resources <resource-id> --tags {TAG}",
    "AWS::RDS::DBInstance": f"aws rds add-tags-to-resource --resource-name <db-instance-arn> "
    f"--tags {TAG}",
    # put-bucket-tagging replaces the whole tag set: read it first and write it back with ours.
    "AWS::S3::Bucket": "aws s3api get-bucket-tagging --bucket <resource-id>, then "
    "aws s3api put-bucket-tagging --bucket <resource-id> --tagging "
    f"'TagSet=[<existing tags>,{{Key={EXEMPTION_TAG},Value=<reason>}}]' "
    "(put-bucket-tagging replaces every tag, so include the existing ones)",
}


# Any resource type the Resource Groups Tagging API supports, by ARN.
GENERIC_EXEMPT_COMMAND = (
    "aws resourcegroupstaggingapi tag-resources --resource-arn-list <resource-arn> "
    f"--tags '{EXEMPTION_TAG}=<reason and ticket>'"
)


def render_runbook(rule: ManagedRule) -> str:
    """The full runbook for a curated rule; for a rule known only from the catalog's facts, the
    facts, how to confirm and re-evaluate, and AWS's page for the fix (we wrote no steps)."""
    if rule.manual:
        return _manual_runbook(rule)
    lines = [
        *_opening(rule),
        *([rule.rationale, ""] if rule.rationale else []),
        _identity(rule),
        f"- Evaluates: {', '.join(f'`{t}`' for t in rule.resource_types) or 'the account'}",
        f"- Trigger: {_trigger_text(rule)}",
        f"- Parameters: {_parameters_text(rule)}",
        f"- Regions: {_regions_text(rule)}",
        f"- Facts: {_facts_text(rule)}",
        "",
        "## Confirm by hand",
        "",
        "List what the rule currently flags (the rule name is `<RuleNamePrefix>-"
        f"{rule.slug}`, `compliance-{rule.slug}` by default):",
        "",
        "```sh",
        f"aws configservice get-compliance-details-by-config-rule \\\n"
        f"  --config-rule-name compliance-{rule.slug} --compliance-types NON_COMPLIANT",
        "```",
        "",
        *_check_text(rule),
        "After a fix, ask Config to evaluate again instead of waiting:",
        "",
        "```sh",
        "aws configservice start-config-rules-evaluation \\\n"
        f"  --config-rule-names compliance-{rule.slug}",
        "```",
        "",
        "## Fix by hand",
        "",
        *_fix_text(rule),
        "",
        "## Automatic remediation",
        "",
        *_remediation_text(rule),
        "",
        "## Exempt a resource",
        "",
        *_exemption_text(rule),
        "",
    ]
    return "\n".join(lines)


def _opening(rule: ManagedRule) -> list[str]:
    """Title, the generated-file note and what the rule checks: the same in every runbook."""
    return [
        f"# {rule.identifier}",
        "",
        "<!-- Generated from src/compliance_template/generator/catalog.py by `make template`; "
        "edit the catalog, not this file. -->",
        "",
        "## What it checks and why it matters",
        "",
        rule.description,
        "",
    ]


def _identity(rule: ManagedRule) -> str:
    return f"- AWS Config managed rule `{rule.identifier}` ([documentation]({rule.source_url}))"


def _manual_runbook(rule: ManagedRule) -> str:
    lines = [
        *_opening(rule),
        _identity(rule),
        "- A manual control: each framework that needs one deploys its own instance (its rule "
        "name says which control). Config never evaluates it; it stays without a result until a "
        "person records one, and the report shows it as manual.",
        "",
        "## Record the result",
        "",
        "After checking the control, record the outcome (COMPLIANT or NON_COMPLIANT) for the "
        "account:",
        "",
        "```sh",
        "aws configservice put-external-evaluation --config-rule-name <rule-name> \\\n"
        "  --external-evaluation ComplianceResourceType=AWS::::Account,"
        "ComplianceResourceId=<account-id>,ComplianceType=COMPLIANT,"
        "OrderingTimestamp=<now, ISO 8601>",
        "```",
        "",
        "## Automatic remediation",
        "",
        "None: a person checks and records this control.",
        "",
    ]
    return "\n".join(lines)


def _regions_text(rule: ManagedRule) -> str:
    if rule.only_regions is not None:
        where = f"only in {', '.join(rule.only_regions)}"
    else:
        where = (
            f"all except {', '.join(rule.unavailable_regions)}"
            if rule.unavailable_regions
            else "all"
        )
    if rule.facts.regions_verified:
        return f"{where} (read {rule.facts.read_on})"
    return (
        f"{where}; the list is not verified on a current AWS page, so regions launched since "
        "2023 are left out"
    )


def _facts_text(rule: ManagedRule) -> str:
    facts = rule.facts
    if facts.read_on is None:
        origin = {
            "developer-guide-2023": "the AWS Config developer guide as of mid-2023",
            "sample-packs": "how AWS's sample conformance packs use the rule",
        }.get(facts.origin, facts.origin)
        return f"from {origin}; not yet re-read on a current page (docs/catalog.md)"
    verified = ", ".join(sorted(facts.verified)) or "nothing"
    return f"read on {facts.read_on} at {facts.url}; verified there: {verified}"


def _check_text(rule: ManagedRule) -> list[str]:
    if not rule.check_by_hand:
        return []
    return ["Then look at the setting itself:", "", "```sh", rule.check_by_hand, "```", ""]


def _fix_text(rule: ManagedRule) -> list[str]:
    if not rule.fix_by_hand:
        return [
            f"This project has no written steps for this rule yet: AWS's page for it "
            f"({rule.source_url}) says what a compliant resource needs. Fix it in the code that "
            "manages the resource (CloudFormation, Terraform, ...), not only in the console, or "
            "the next deploy undoes it."
        ]
    return [f"{number}. {step}" for number, step in enumerate(rule.fix_by_hand, start=1)]


def write_runbooks(directory: Path) -> list[Path]:
    paths = {rule: directory / f"{rule.identifier}.md" for rule in CATALOG}
    # Every target is checked before the first is written, so a bad one leaves no partial set.
    for path in paths.values():
        check_target(path, field="--runbooks")
    for rule, path in paths.items():
        write_atomically(path, render_runbook(rule), field="--runbooks")
    return list(paths.values())


def _trigger_text(rule: ManagedRule) -> str:
    if rule.deploy_trigger is Trigger.CHANGE:
        return "configuration changes of the resource"
    return "periodic (parameter `PeriodicRuleFrequency`, default every 24 hours)"


def _parameters_text(rule: ManagedRule) -> str:
    if not rule.parameters:
        return "none"
    described = []
    for param in rule.parameters:
        source = (
            f"from the stack parameter `{param.deploy_parameter.name}`"
            if param.deploy_parameter
            else "optional, settings file `rule_parameters`"
        )
        described.append(f"`{param.name}` ({param.kind.value}, {source})")
    return "; ".join(described)


def _remediation_text(rule: ManagedRule) -> list[str]:
    ssm = ssm_documents.remediation_for(rule.identifier)
    if rule.remediation is None and ssm is None:
        return [
            "None for this rule, in every mode: it is notified, recorded and reported; the fix "
            "is manual."
        ]
    lines = [
        f"Engine by default: `{default_engine(rule.identifier)}` (the settings file's "
        "`remediation` chooses per rule: "
        + ", ".join(f"`{engine}`" for engine in available_engines(rule.identifier))
        + "). The mode is the stack parameter `RemediationMode`, for both engines:",
        "",
        "- `off`: nothing happens.",
    ]
    if ssm is not None:
        document = ssm.document
        gate = (
            f"Disruptive ({document.disruption}): it runs only behind an approval step "
            "(settings `remediation_approval`); each request reaches the approvers on the "
            "stack's approval topic and the notification channels, and waits for "
            "`aws ssm send-automation-signal --signal-type Approve`."
            if ssm.disruptive
            else "Not disruptive."
        )
        lines += [
            f"- `ssm`: AWS Config runs the AWS-owned runbook [`{document.name}`]({document.url}): "
            f"{document.effect} {gate} In `dry-run` the remediation is manual (the Config "
            "console's Remediate button, or `aws configservice start-remediation-execution`); "
            f"in `enforce` Config runs it automatically, up to {MAXIMUM_AUTOMATIC_ATTEMPTS} "
            f"attempts in {RETRY_ATTEMPT_SECONDS} s. A "
            "resource with a settings exemption gets a Config remediation exception until the "
            "exemption expires.",
        ]
    if rule.remediation is not None:
        lines += [
            "- `lambda`, `dry-run`: the remediation function re-reads the resource, decides "
            "what it would do, writes the decision to the reports bucket under `remediation/` "
            "and notifies. Nothing is changed.",
            f"- `lambda`, `enforce`: {rule.remediation} It acts only if the resource is still "
            "non-compliant when re-read, never on a resource with the exemption tag, and "
            "records and notifies every decision.",
        ]
    return lines


def _exemption_text(rule: ManagedRule) -> list[str]:
    if not rule.resource_types:
        return [
            "This rule checks an account-level setting: there is no resource to exempt. To stop "
            "evaluating it, remove it from `rules` in the settings file (or leave out the "
            "framework that brings it)."
        ]
    commands = [EXEMPT_COMMANDS.get(t, GENERIC_EXEMPT_COMMAND) for t in rule.resource_types]
    commands = list(dict.fromkeys(commands))
    return [
        f"Tag the resource with the exemption tag key (parameter `ExemptionTagKey`, default "
        f"`{EXEMPTION_TAG}`); remediation then never touches it and records why. Config itself "
        "still reports the resource as non-compliant: managed rules do not read our tag.",
        "",
        "```sh",
        *commands,
        "```",
    ]
