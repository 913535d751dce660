"""Preflight: check the target account and region before a deploy.

`run_checks` is pure (facts in, findings out); `gather_facts` does the AWS calls; `main` prints
a table. Exit 1 only for what would make the deploy or the report fail (a rule name the report
cannot read); warnings are for what would make the stack useless (rules that report nothing).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from ..extras import extra_of, missing_extra

try:
    import boto3
    from botocore.config import Config
    from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError, NoRegionError
except ModuleNotFoundError as missing:  # installed without this subpackage's extra
    raise missing_extra(extra_of(__package__), missing) from None

from ..errors import SettingsError
from ..generator.catalog import FACTS_REGIONS_SOURCE, ManagedRule, has_facts_for
from ..generator.functions import SPECS
from ..generator.naming import MAX_RULE_NAME
from ..paths import TEMPLATES_DIR
from . import invocation
from .inputs import DeployInputs, load_inputs
from .invocation import check_regions, set_credentials_hint, set_region_hint

# botocore's MaxNumberOfConfigRulesExceededException: "the maximum number of 1000 rules".
CONFIG_RULE_QUOTA = 1000
# Lambda keeps this many executions unreserved; reservations must leave it free.
UNRESERVED_MINIMUM = 100
RETRIES = Config(retries={"mode": "standard", "max_attempts": 5})


class Status(StrEnum):
    OK = "ok"
    WARN = "warn"
    ERROR = "error"


@dataclass(frozen=True)
class Finding:
    check: str
    status: Status
    detail: str


@dataclass
class AccountFacts:
    region: str
    recorders: list[dict] = field(default_factory=list)
    recorder_status: list[dict] = field(default_factory=list)
    channels: list[dict] = field(default_factory=list)
    existing_rules: list[str] = field(default_factory=list)
    # Physical ids of the Config rules the stack already owns (empty before the first deploy).
    stack_rules: set[str] = field(default_factory=set)
    unreserved_concurrency: int | None = None
    # None: not read (SecurityHubFindings is off, or the read was refused).
    security_hub_enabled: bool | None = None
    # The product subscription ARNs of ListEnabledProductsForImport (mode `config` only).
    security_hub_products: list[str] | None = None
    # Facts that could not be read, by check name, with the reason (e.g. a missing permission).
    unreadable: dict[str, str] = field(default_factory=dict)


def run_checks(inputs: DeployInputs, facts: AccountFacts) -> list[Finding]:
    # A template without rules (the organization's central stack) needs no recorder here.
    rule_checks = (
        [
            check_region,
            check_region_facts,
            check_recorder,
            check_delivery_channel,
            check_rule_names,
            check_name_clash,
            check_rule_quota,
        ]
        if inputs.rules
        else []
    )
    checks: list[Callable[[DeployInputs, AccountFacts], list[Finding]]] = [
        *rule_checks,
        check_concurrency,
        check_security_hub,
    ]
    findings = []
    for check in checks:
        findings.extend(check(inputs, facts))
    return findings


def check_region(inputs: DeployInputs, facts: AccountFacts) -> list[Finding]:
    return region_findings(inputs.rules, facts.region)


def region_findings(rules: Sequence[ManagedRule], region: str) -> list[Finding]:
    """What the catalog's region facts say about deploying `rules` in `region`; also run by
    deploy-org for each region of a StackSet, which no preflight sees."""
    name = "rules available in region"
    if not has_facts_for(region):
        known = (
            "newer than the catalog's region facts"
            if region in invocation.KNOWN_REGIONS
            else "not a region cfn-lint knows"
        )
        return [
            Finding(
                name,
                Status.WARN,
                f"no region facts for {region} ({known}, read "
                f"{FACTS_REGIONS_SOURCE.read_on}): all {len(rules)} rules are deployed; "
                "creating one AWS does not offer there fails the stack: check each rule's page "
                "(docs/catalog.md)",
            )
        ]
    missing = [r.identifier for r in rules if not r.available_in(region)]
    if missing:
        # Each such rule has a region condition: the stack deploys without it.
        return [
            Finding(
                name,
                Status.WARN,
                f"{', '.join(missing)} not offered in {region}: the stack leaves them out "
                "here, so nothing checks what they cover",
            )
        ]
    return [Finding(name, Status.OK, f"all {len(rules)} rules")]


def check_region_facts(inputs: DeployInputs, facts: AccountFacts) -> list[Finding]:
    return unverified_findings(inputs.rules)


def unverified_findings(rules: Sequence[ManagedRule]) -> list[Finding]:
    name = "region facts"
    unverified = [r.identifier for r in rules if not r.facts.regions_verified]
    if unverified:
        return [
            Finding(
                name,
                Status.WARN,
                f"{', '.join(unverified)}: region list not verified against the current rule "
                "page (docs/catalog.md); the deploy fails if the rule is missing here",
            )
        ]
    return [Finding(name, Status.OK, f"the region lists of all {len(rules)} rules are verified")]


def check_recorder(inputs: DeployInputs, facts: AccountFacts) -> list[Finding]:
    name = "configuration recorder"
    if name in facts.unreadable:
        return [Finding(name, Status.WARN, f"could not check: {facts.unreadable[name]}")]
    if inputs.flag("CreateConfigRecorder"):
        return [_created_singleton(name, "recorder", facts.recorders)]
    if not facts.recorders:
        return [
            Finding(
                name,
                Status.ERROR,
                "none: creating Config rules fails without one "
                "(NoAvailableConfigurationRecorderException); set CreateConfigRecorder=true",
            )
        ]
    recorder = facts.recorders[0]
    findings = []
    recording = any(s.get("recording") for s in facts.recorder_status)
    if not recording:
        findings.append(
            Finding(
                name,
                Status.WARN,
                f"'{recorder.get('name')}' is not recording: rules report nothing until "
                f"`aws configservice start-configuration-recorder --configuration-recorder-name "
                f"{recorder.get('name')}`",
            )
        )
    for rule in inputs.rules:
        unrecorded = _unrecorded_types(rule, recorder.get("recordingGroup", {}))
        if unrecorded:
            findings.append(
                Finding(
                    f"recorded types: {rule.identifier}",
                    Status.WARN,
                    f"the recorder does not record {', '.join(unrecorded)}: this rule will report "
                    "nothing; add the types to the recorder's recording group",
                )
            )
    if not findings:
        findings.append(Finding(name, Status.OK, f"'{recorder.get('name')}' records what we need"))
    return findings


def _unrecorded_types(rule: ManagedRule, group: dict) -> list[str]:
    excluded = set(group.get("exclusionByResourceTypes", {}).get("resourceTypes", []))
    # allSupported records every type except the exclusions.
    recorded = None if group.get("allSupported", False) else set(group.get("resourceTypes", []))
    return [
        t
        for t in rule.resource_types
        if t in excluded or (recorded is not None and t not in recorded)
    ]


def check_delivery_channel(inputs: DeployInputs, facts: AccountFacts) -> list[Finding]:
    name = "delivery channel"
    if name in facts.unreadable:
        return [Finding(name, Status.WARN, f"could not check: {facts.unreadable[name]}")]
    if inputs.flag("CreateConfigRecorder"):
        return [_created_singleton(name, "channel", facts.channels)]
    if not facts.channels:
        return [
            Finding(
                name,
                Status.WARN,
                "none: the recorder cannot record without one, so rules report nothing; "
                "create one or deploy with CreateConfigRecorder=true where there is no recorder",
            )
        ]
    return [Finding(name, Status.OK, f"'{facts.channels[0].get('name')}'")]


def _created_singleton(check: str, kind: str, existing: list[dict]) -> Finding:
    """The stack creates a recorder or channel: there must be none yet (one per region)."""
    if existing:
        return Finding(
            check,
            Status.ERROR,
            f"{kind} '{existing[0].get('name', '?')}' exists and an account has one per region: "
            "set CreateConfigRecorder=false",
        )
    return Finding(check, Status.OK, "none yet; the stack creates one")


def check_rule_names(inputs: DeployInputs, facts: AccountFacts) -> list[Finding]:
    """A template generated before RuleNamePrefix had a MaxLength lets names pass the limit."""
    name = "rule name length"
    long = [n for n in inputs.rule_names if len(n) > MAX_RULE_NAME]
    if long:
        return [
            Finding(
                name,
                Status.ERROR,
                f"{', '.join(long)} longer than {MAX_RULE_NAME} characters: the report cannot "
                "read their results (GetComplianceDetailsByConfigRule); shorten RuleNamePrefix",
            )
        ]
    return [Finding(name, Status.OK, f"at most {MAX_RULE_NAME} characters")]


def check_name_clash(inputs: DeployInputs, facts: AccountFacts) -> list[Finding]:
    name = "rule names free"
    if name in facts.unreadable:
        return [Finding(name, Status.WARN, f"could not check: {facts.unreadable[name]}")]
    existing = set(facts.existing_rules) - facts.stack_rules
    clashes = [name for name in inputs.rule_names if name in existing]
    if clashes:
        return [
            Finding(
                name,
                Status.ERROR,
                f"{', '.join(clashes)} already exist outside this stack: "
                "choose another RuleNamePrefix",
            )
        ]
    return [Finding(name, Status.OK, f"prefix '{inputs.parameters['RuleNamePrefix']}'")]


def check_rule_quota(inputs: DeployInputs, facts: AccountFacts) -> list[Finding]:
    name = "Config rule quota"
    if "rule names free" in facts.unreadable:
        return [Finding(name, Status.WARN, "could not count the existing rules")]
    ours = set(inputs.rule_names)
    after = len(set(facts.existing_rules) - facts.stack_rules | ours)
    status = Status.ERROR if after > CONFIG_RULE_QUOTA else Status.OK
    return [Finding(name, status, f"{after} of {CONFIG_RULE_QUOTA} rules after the deploy")]


def check_concurrency(inputs: DeployInputs, facts: AccountFacts) -> list[Finding]:
    name = "Lambda reserved concurrency"
    processing = int(inputs.parameters.get("ReservedConcurrency", "0"))
    if processing == 0:
        return [Finding(name, Status.OK, "nothing reserved (ReservedConcurrency=0)")]
    resources = inputs.template["Resources"]
    # The functions this template has: processing reserves the parameter, the others a fixed few.
    wanted = sum(
        processing if not isinstance(spec.reserved, int) else spec.reserved
        for function, spec in SPECS.items()
        if f"{function.capitalize()}Function" in resources
    )
    if facts.unreserved_concurrency is None:
        reason = facts.unreadable.get(name, "not readable")
        return [Finding(name, Status.WARN, f"could not check ({reason}); reserving {wanted}")]
    if facts.unreserved_concurrency - wanted < UNRESERVED_MINIMUM:
        return [
            Finding(
                name,
                Status.ERROR,
                f"reserving {wanted} would leave {facts.unreserved_concurrency - wanted} of the "
                f"{UNRESERVED_MINIMUM} Lambda keeps unreserved: set ReservedConcurrency=0 or "
                "raise the account's concurrency quota",
            )
        ]
    return [Finding(name, Status.OK, f"reserving {wanted} of {facts.unreserved_concurrency}")]


SECURITY_HUB = "Security Hub"
CONFIG_INTEGRATION = "Security Hub: AWS Config integration"
# How ListEnabledProductsForImport names the subscription to AWS Config's findings (it ends with
# the product's company/name, as the product ARN does).
CONFIG_SUBSCRIPTION_SUFFIX = "/aws/config"


def security_hub_mode(inputs: DeployInputs) -> str:
    return inputs.parameters.get("SecurityHubFindings", "off")


def check_security_hub(inputs: DeployInputs, facts: AccountFacts) -> list[Finding]:
    """Errors, not warnings: without Security Hub (or, in mode config, without the findings AWS
    Config sends it) every violation's processing fails and is retried into the dead-letter
    queue, and remediation, which comes after it, is never handed the resource."""
    mode = security_hub_mode(inputs)
    if mode == "off":
        return []
    if SECURITY_HUB in facts.unreadable:
        return [
            Finding(SECURITY_HUB, Status.WARN, f"could not check: {facts.unreadable[SECURITY_HUB]}")
        ]
    if not facts.security_hub_enabled:
        return [
            Finding(
                SECURITY_HUB,
                Status.ERROR,
                f"not enabled in {facts.region} (DescribeHub: InvalidAccessException) but "
                f"SecurityHubFindings={mode}: enable Security Hub here or set it to off",
            )
        ]
    findings = [Finding(SECURITY_HUB, Status.OK, f"enabled; SecurityHubFindings={mode}")]
    if mode != "config":
        return findings
    if CONFIG_INTEGRATION in facts.unreadable:
        reason = facts.unreadable[CONFIG_INTEGRATION]
        return [*findings, Finding(CONFIG_INTEGRATION, Status.WARN, f"could not check: {reason}")]
    subscriptions = facts.security_hub_products or []
    if any(arn.endswith(CONFIG_SUBSCRIPTION_SUFFIX) for arn in subscriptions):
        return [*findings, Finding(CONFIG_INTEGRATION, Status.OK, "on: AWS Config sends findings")]
    return [
        *findings,
        Finding(
            CONFIG_INTEGRATION,
            Status.ERROR,
            "off: AWS Config sends no findings to annotate; turn the integration on "
            "(aws securityhub enable-import-findings-for-product --product-arn "
            f"arn:aws:securityhub:{facts.region}::product/aws/config) or set "
            "SecurityHubFindings=import",
        ),
    ]


def gather_facts(
    session: boto3.Session, stack_name: str, security_hub: str = "off"
) -> AccountFacts:
    """Read what the checks need. A missing permission is recorded, not raised."""
    config = session.client("config", config=RETRIES)
    facts = AccountFacts(region=session.region_name)

    def read(check: str, action: str, call: Callable[[], None]) -> None:
        try:
            call()
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "")
            if code in ("AccessDenied", "AccessDeniedException", "UnauthorizedOperation"):
                facts.unreadable[check] = f"missing permission {action}"
            elif code in ("NotImplemented", "404") or "not yet implemented" in str(error).lower():
                facts.unreadable[check] = f"{action} is not available on this endpoint"
            else:
                raise

    def recorders() -> None:
        facts.recorders = config.describe_configuration_recorders()["ConfigurationRecorders"]
        status = config.describe_configuration_recorder_status()
        facts.recorder_status = status["ConfigurationRecordersStatus"]

    def channels() -> None:
        facts.channels = config.describe_delivery_channels()["DeliveryChannels"]

    def rules() -> None:
        pages = config.get_paginator("describe_config_rules").paginate()
        facts.existing_rules = [r["ConfigRuleName"] for p in pages for r in p["ConfigRules"]]

    def stack() -> None:
        cloudformation = session.client("cloudformation", config=RETRIES)
        try:
            pages = cloudformation.get_paginator("list_stack_resources").paginate(
                StackName=stack_name
            )
            facts.stack_rules = {
                r["PhysicalResourceId"]
                for p in pages
                for r in p["StackResourceSummaries"]
                if r["ResourceType"] == "AWS::Config::ConfigRule"
            }
        except ClientError as error:
            if "does not exist" not in str(error):
                raise

    def concurrency() -> None:
        limits = session.client("lambda", config=RETRIES).get_account_settings()["AccountLimit"]
        facts.unreserved_concurrency = limits["UnreservedConcurrentExecutions"]

    read("configuration recorder", "config:DescribeConfigurationRecorders", recorders)
    read("delivery channel", "config:DescribeDeliveryChannels", channels)
    read("rule names free", "config:DescribeConfigRules", rules)
    read("rule names free", "cloudformation:ListStackResources", stack)
    read("Lambda reserved concurrency", "lambda:GetAccountSettings", concurrency)
    if security_hub != "off":
        hub = session.client("securityhub", config=RETRIES)

        def enabled() -> None:
            try:
                hub.describe_hub()
            except ClientError as error:
                if error.response.get("Error", {}).get("Code") != "InvalidAccessException":
                    raise
                facts.security_hub_enabled = False
                return
            facts.security_hub_enabled = True

        def products() -> None:
            pages = hub.get_paginator("list_enabled_products_for_import").paginate()
            facts.security_hub_products = [a for p in pages for a in p["ProductSubscriptions"]]

        read(SECURITY_HUB, "securityhub:DescribeHub", enabled)
        if security_hub == "config" and facts.security_hub_enabled:
            read(CONFIG_INTEGRATION, "securityhub:ListEnabledProductsForImport", products)
    return facts


def render(findings: Sequence[Finding]) -> str:
    width = max(len(f.check) for f in findings)
    lines = [f"{'CHECK':<{width}}  STATUS  DETAIL"]
    lines += [f"{f.check:<{width}}  {f.status.value:<6}  {f.detail}" for f in findings]
    errors = sum(f.status is Status.ERROR for f in findings)
    warnings = sum(f.status is Status.WARN for f in findings)
    lines.append(f"{errors} error(s), {warnings} warning(s)")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m compliance_template.deploy.preflight",
        description="Check an account and region before deploying the compliance stack.",
    )
    parser.add_argument(
        "--template", type=Path, default=TEMPLATES_DIR / "compliance-monitoring.json"
    )
    parser.add_argument(
        "--parameters", type=Path, help='parameter overrides: {"Parameters": {"Name": "value"}}'
    )
    parser.add_argument("--stack-name", default="compliance-monitoring")
    parser.add_argument("--region", help="default: the AWS CLI's configured region")
    parser.add_argument("--profile", help="AWS CLI profile (default: the environment's)")
    args = parser.parse_args(argv)
    try:
        inputs = load_inputs(args.template, args.parameters)
        session = invocation.session(args.profile, args.region)
        if not session.region_name:
            raise NoRegionError()
        check_regions([session.region_name], "--region")
        facts = gather_facts(session, args.stack_name, security_hub_mode(inputs))
    except SettingsError as error:
        print(f"preflight: error: {error}", file=sys.stderr)
        return 2
    except NoRegionError:
        print(f"preflight: error: no region: {set_region_hint()}", file=sys.stderr)
        return 2
    except NoCredentialsError:
        print(f"preflight: error: no AWS credentials: {set_credentials_hint()}", file=sys.stderr)
        return 2
    except (ClientError, BotoCoreError) as error:
        print(f"preflight: error: {error}", file=sys.stderr)
        return 2
    findings = run_checks(inputs, facts)
    print(f"Preflight for stack {args.stack_name} in {facts.region}")
    print(render(findings))
    return 1 if any(f.status is Status.ERROR for f in findings) else 0


if __name__ == "__main__":
    sys.exit(main())
