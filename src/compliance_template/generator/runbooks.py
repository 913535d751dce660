"""Runbooks, one per catalog rule, generated from the catalog so they cannot drift from it.

`generate.py --runbooks docs/runbooks` writes them; notifications and reports link to
`<RunbookBaseUrl>/<IDENTIFIER>.md`.
"""

from __future__ import annotations

from pathlib import Path

from ..output import check_target, write_atomically
from .catalog import CATALOG, ManagedRule, Trigger
from .parameters import BASE_PARAMETERS

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


def render_runbook(rule: ManagedRule) -> str:
    lines = [
        f"# {rule.identifier}",
        "",
        "<!-- Generated from src/compliance_template/generator/catalog.py by `make template`; "
        "edit the catalog, not this file. -->",
        "",
        "## What it checks and why it matters",
        "",
        rule.description,
        "",
        rule.rationale,
        "",
        f"- AWS Config managed rule `{rule.identifier}` ([documentation]({rule.source_url}))",
        f"- Evaluates: {', '.join(f'`{t}`' for t in rule.resource_types) or 'the account'}",
        f"- Trigger: {_trigger_text(rule)}",
        f"- Parameters: {_parameters_text(rule)}",
        f"- Not available in: {', '.join(rule.unavailable_regions) or 'no known region'} "
        "(AWS documentation, mid-2023; newer regions unverified)",
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
        "Then look at the setting itself:",
        "",
        "```sh",
        rule.check_by_hand,
        "```",
        "",
        "After a fix, ask Config to evaluate again instead of waiting:",
        "",
        "```sh",
        "aws configservice start-config-rules-evaluation \\\n"
        f"  --config-rule-names compliance-{rule.slug}",
        "```",
        "",
        "## Fix by hand",
        "",
        *[f"{number}. {step}" for number, step in enumerate(rule.fix_by_hand, start=1)],
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
    if rule.remediation is None:
        return [
            "None for this rule, in every mode: it is notified, recorded and reported; the fix "
            "is manual."
        ]
    return [
        "Only when the rule is listed in the settings file's `remediate` (by default every "
        "enabled rule that has remediation). The mode is the stack parameter `RemediationMode`:",
        "",
        "- `off`: nothing happens.",
        "- `dry-run` (default): the remediation function re-reads the resource, decides what it "
        "would do, writes the decision to the reports bucket under `remediation/` and notifies. "
        "Nothing is changed.",
        f"- `enforce`: {rule.remediation} It acts only if the resource is still non-compliant "
        "when re-read, never on a resource with the exemption tag, and records and notifies "
        "every decision.",
    ]


def _exemption_text(rule: ManagedRule) -> list[str]:
    if not rule.resource_types:
        return [
            "This rule checks an account-level setting: there is no resource to exempt. To stop "
            "evaluating it, remove it from `rules` in the settings file."
        ]
    commands = [EXEMPT_COMMANDS[t] for t in rule.resource_types]
    return [
        f"Tag the resource with the exemption tag key (parameter `ExemptionTagKey`, default "
        f"`{EXEMPTION_TAG}`); remediation then never touches it and records why. Config itself "
        "still reports the resource as non-compliant: managed rules do not read our tag.",
        "",
        "```sh",
        *commands,
        "```",
    ]
