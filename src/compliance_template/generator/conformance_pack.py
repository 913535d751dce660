"""Conformance-pack mode: the enabled catalog rules as one AWS Config conformance pack.

For teams that prefer Config to manage the rules as a unit: one resource per account and region
(`AWS::Config::ConformancePack`) or per organization and region
(`AWS::Config::OrganizationConformancePack`), instead of one resource per rule. The trade-offs
(no notifications, reports or remediation from this project's functions, and no remediation
configuration at all in organization packs) are in docs/organization.md.
"""

from __future__ import annotations

import dataclasses
import json

from troposphere import GetAtt, If, NoValue, Ref, Split, Sub, Template, config

from ..errors import SettingsError
from ..parameter_spec import ParameterSpec
from ..version import VERSION
from .conditions import (
    ENFORCE_REMEDIATION,
    HAS_EXCLUDED_ACCOUNTS,
    IN_REMEDIATION_REGION,
    REMEDIATION_ON,
    add_conditions,
)
from .config_rules import config_rule
from .parameters import BASE_PARAMETERS, GROUP_REMEDIATION, add_parameter
from .remediation_configs import (
    add_role,
    remediation_configuration,
    remediation_parameter_spec,
    role_id,
)
from .remediation_engines import SsmChoice, families, pack_plan
from .settings import Settings, rule_parameter_specs
from .stack import Stack

# AWS Config: TemplateBody is at most 51,200 bytes; a pack takes at most 60 input parameters.
MAX_BODY_BYTES = 51_200
MAX_INPUT_PARAMETERS = 60
EXCLUDED_ACCOUNTS = ParameterSpec(
    "ExcludedAccounts",
    "Organization",
    "Excluded accounts",
    "Comma-separated 12-digit account ids the organization pack skips (empty: none).",
    "",
    allowed_pattern=r"^([0-9]{12}(,[0-9]{12})*)?$",
    constraint_description="comma-separated 12-digit account ids, or empty",
)


REMEDIATION_MODE = next(spec for spec in BASE_PARAMETERS if spec.name == "RemediationMode")


def whole_number_pattern(low: int, high: int) -> str:
    """A regular expression that matches exactly the whole numbers low..high (no leading zeros).

    The range is cut into blocks of the form <prefix><digit range><any digits>, e.g. 1..35 into
    1-9, 10-29 and 30-35.
    """
    alternatives = []
    if low == 0:
        alternatives.append("0")
        low = 1
    while low <= high:
        # The largest power of ten that low is a multiple of whose block low..low+step-1 fits.
        step = 1
        while low % (step * 10) == 0 and low + step * 10 - 1 <= high:
            step *= 10
        first = low // step % 10
        count = 1
        while first + count <= 9 and low + step * (count + 1) - 1 <= high:
            count += 1
        prefix = str(low // (step * 10)) if low >= step * 10 else ""
        digits = str(first) if count == 1 else f"[{first}-{first + count - 1}]"
        width = len(str(step)) - 1
        rest = {0: "", 1: "[0-9]"}.get(width, f"[0-9]{{{width}}}")
        alternatives.append(prefix + digits + rest)
        low += step * count
    return "^(" + "|".join(alternatives) + ")$"


def pack_parameter(spec: ParameterSpec) -> ParameterSpec:
    """The parameter as a conformance pack takes it: AWS documents conformance-pack input
    parameters as strings (and writes every parameter of its sample packs as `Type: String`),
    so a Number keeps its range as a pattern instead of MinValue/MaxValue."""
    if spec.cfn_type != "Number":
        return spec
    assert spec.min_value is not None and spec.max_value is not None, spec.name
    return dataclasses.replace(
        spec,
        cfn_type="String",
        allowed_pattern=whole_number_pattern(spec.min_value, spec.max_value),
        constraint_description=spec.allowed_text(),
        min_value=None,
        max_value=None,
    )


def _pack_specs(settings: Settings, choices: tuple[SsmChoice, ...] = ()) -> list[ParameterSpec]:
    """The rules' parameters, then what the remediations take: each family's automation role
    (made by the outer template) and the stack parameters their values come from."""
    specs = [pack_parameter(spec) for spec in rule_parameter_specs(settings.selection)]
    for family in families(choices):
        specs.append(
            ParameterSpec(
                role_parameter(family),
                GROUP_REMEDIATION,
                f"{family} automation role",
                f"ARN of the role the {family} remediation runbooks run as (the outer stack's).",
                "",
            )
        )
    used = sorted({name for choice in choices for name in choice.remediation.stack_parameters})
    present = {spec.name for spec in specs}
    specs.extend(
        pack_parameter(remediation_parameter_spec(name)) for name in used if name not in present
    )
    return specs


def role_parameter(family: str) -> str:
    return f"{role_id(family)}Arn"


def pack_body(settings: Settings, choices: tuple[SsmChoice, ...] = (), mode: str = "off") -> str:
    """The pack's own template: its parameters, one ConfigRule per enabled rule and, in modes
    other than off, the remediation configurations of the ssm-engine rules (automatic in
    enforce mode)."""
    specs = _pack_specs(settings, choices)
    template = Template()
    for spec in specs:
        add_parameter(template, spec, settings.parameter_defaults.get(spec.name, spec.default))
    # Parameter labels belong to the outer template's console form, not to the pack.
    template.metadata = {}
    # The framework packs' conditions, which their conditional rules and inputs refer to.
    for name, body in settings.selection.pack_conditions.items():
        template.add_condition(name, body)
    for rule in settings.enabled_rules:
        # Config appends its own suffix to rule names inside a pack; the slug keeps them readable.
        resource = config_rule(settings, rule, rule.slug, partition_aware=False)
        if rule.pack is not None and rule.pack.condition:
            resource.Condition = rule.pack.condition
        template.add_resource(resource)
    if mode != "off":
        _add_pack_remediations(template, settings, choices, automatic=mode == "enforce")
    document = template.to_dict()
    # Descriptions stay in the outer template (its console form, the rules' own): the body is
    # held to 51,200 bytes, which AWS's 130-rule packs come close to on their own.
    for section in ("Parameters", "Resources"):
        for entry in document.get(section, {}).values():
            entry.pop("Description", None)
            entry.get("Properties", {}).pop("Description", None)
    body = json.dumps(document, sort_keys=True, separators=(",", ":"))
    if len(body.encode()) > MAX_BODY_BYTES:
        raise SettingsError(
            "rules",
            f"{len(settings.enabled_rules)} rules in a {len(body.encode())}-byte pack body",
            f"a conformance pack body of at most {MAX_BODY_BYTES} bytes (AWS Config's limit on "
            "TemplateBody); split the frameworks or rules into several packs, or use the stack "
            "kind",
        )
    return body


def _add_pack_remediations(
    template: Template, settings: Settings, choices: tuple[SsmChoice, ...], automatic: bool
) -> None:
    """As AWS's sample packs with remediation declare them: the rule's literal name, after
    the rule (awslabs/aws-config-rules, aws-config-conformance-packs/*-with-Remediation.yaml)."""
    by_identifier = {choice.identifier: choice for choice in choices}
    for rule in settings.enabled_rules:
        choice = by_identifier.get(rule.identifier)
        if choice is None:
            continue
        conditional = (
            {"Condition": rule.pack.condition} if rule.pack and rule.pack.condition else {}
        )
        template.add_resource(
            remediation_configuration(
                choice,
                rule,
                rule_name=rule.slug,
                role_arn=Ref(role_parameter(choice.family)),
                automatic=automatic,
                DependsOn=[rule.logical_id],
                **conditional,
            )
        )


def _template_body(settings: Settings, choices: tuple[SsmChoice, ...]) -> object:
    """One body per RemediationMode (off: no remediation; dry-run: manual; enforce: automatic),
    chosen at deploy time: a conformance pack's own template takes no Conditions on the mode
    that this project could verify, so the outer template picks the body."""
    if not choices:
        return pack_body(settings)
    # RemediationOn also holds the regions where a remediation configuration can exist.
    return If(
        REMEDIATION_ON,
        If(
            ENFORCE_REMEDIATION,
            pack_body(settings, choices, "enforce"),
            pack_body(settings, choices, "dry-run"),
        ),
        pack_body(settings, choices),
    )


def build_conformance_pack(settings: Settings, organization: bool = False) -> Template:
    kind = "organization conformance pack" if organization else "conformance pack"
    template = Template(
        Description=f"Compliance monitoring, {kind} (generated by compliance-template {VERSION}; "
        f"{settings.summary})"
    )
    template.set_version("2010-09-09")
    choices = pack_plan(settings, organization)
    specs = _pack_specs(settings, choices)
    if len(specs) > MAX_INPUT_PARAMETERS:
        raise SettingsError(
            "rules",
            f"{len(specs)} rule parameters",
            f"at most {MAX_INPUT_PARAMETERS} per pack (ConformancePackInputParameters); split the "
            "frameworks into several packs, or use the stack kind",
        )
    roles = {role_parameter(family) for family in families(choices)}
    for spec in specs:
        if spec.name not in roles:
            add_parameter(template, spec, settings.parameter_defaults.get(spec.name, spec.default))
    inputs = [
        config.ConformancePackInputParameter(
            ParameterName=spec.name,
            ParameterValue=GetAtt(spec.name.removesuffix("Arn"), "Arn")
            if spec.name in roles
            else Ref(spec.name),
        )
        for spec in specs
    ]
    stack = Stack(template, settings)
    if choices:
        add_parameter(
            template,
            REMEDIATION_MODE,
            settings.parameter_defaults.get(REMEDIATION_MODE.name, REMEDIATION_MODE.default),
        )
        add_conditions(template, ENFORCE_REMEDIATION, IN_REMEDIATION_REGION, REMEDIATION_ON)
        for family in families(choices):
            add_role(stack, family, choices, [])
    if organization:
        add_parameter(template, EXCLUDED_ACCOUNTS, "")
        add_conditions(template, HAS_EXCLUDED_ACCOUNTS)
        pack = config.OrganizationConformancePack(
            "OrganizationConformancePack",
            OrganizationConformancePackName=Sub("${AWS::StackName}"),
            TemplateBody=pack_body(settings),
            ConformancePackInputParameters=inputs,
            ExcludedAccounts=If(
                HAS_EXCLUDED_ACCOUNTS, Split(",", Ref("ExcludedAccounts")), NoValue
            ),
        )
    else:
        pack = config.ConformancePack(
            "ConformancePack",
            ConformancePackName=Sub("${AWS::StackName}"),
            TemplateBody=_template_body(settings, choices),
            ConformancePackInputParameters=inputs,
        )
    stack.add(pack)
    stack.output("ConformancePackName", f"Name of the {kind}", pack.ref())
    return template
