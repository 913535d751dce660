"""Generation-time settings: which catalog rules to deploy and the defaults of the parameters.

The settings file is JSON. Every field is optional; see README "Settings file" for the list.
Validation happens here, before anything is built, so a mistake ends in one `SettingsError`
that names the field, the value and what is allowed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from types import MappingProxyType

from ..errors import SettingsError
from ..json_files import read_json_file
from ..parameter_spec import ParameterSpec
from . import ssm_documents
from .catalog import BY_IDENTIFIER, DEFAULT_RULES, ManagedRule, ParamKind
from .exemptions import DEFAULT_MAX_DAYS, Exemption, parse_exemptions, parse_max_days
from .frameworks import frameworks
from .parameters import (
    BASE_PARAMETERS,
    CHAT_TOGETHER,
    DIGEST_SCHEDULE,
    PERIODIC_FREQUENCY,
    TAG_KEY_PATTERN,
    TAG_VALUE_PATTERN,
    check_value,
    rule_name_prefix,
)
from .remediation_engines import Engine, available_engines, resolve_engines
from .selection import RuleChoice, Selection, select

TAG_KEY = re.compile(TAG_KEY_PATTERN)
TAG_VALUE = re.compile(TAG_VALUE_PATTERN)
DEFAULT_TAGS = {"project": "compliance-monitoring"}
KNOWN_FIELDS = (
    "frameworks",
    "rules",
    "remediate",
    "digest",
    "rule_parameters",
    "parameter_defaults",
    "tags",
    "exemptions",
    "exemption_max_days",
    "remediation",
    "remediation_approval",
)
# remediation_approval: aws:approve takes 1..10 approvers and waits at most 30 days (720 hours)
# (https://docs.aws.amazon.com/systems-manager/latest/userguide/automation-action-approve.html,
# read 2026-12-02).
MAX_APPROVERS = 10
MAX_TIMEOUT_HOURS = 720
DEFAULT_TIMEOUT_HOURS = 24
# An IAM user or role ARN in any partition, or a user or role name (IAM's name characters).
APPROVER = re.compile(
    r"^(arn:aws[a-z-]*:iam::[0-9]{12}:(user|role)/([\w+=,.@-]+/)*[\w+=,.@-]{1,64}"
    r"|[\w+=,.@-]{1,64})$"
)
# A template's Description holds at most 1,024 bytes: past this many rules it names the count.
DESCRIBED_RULES = 20


@dataclass(frozen=True)
class Approval:
    """Who approves a disruptive ssm remediation, how many of them, and how long it waits."""

    approvers: tuple[str, ...]
    min_approvals: int = 1
    timeout_hours: int = DEFAULT_TIMEOUT_HOURS


def _default_engines() -> Mapping[str, Engine]:
    return MappingProxyType(resolve_engines(DEFAULT_RULES, {}, None))


@dataclass(frozen=True)
class Settings:
    """Validated settings. Build one with `Settings.from_mapping` (or use the defaults)."""

    rules: tuple[str, ...] = DEFAULT_RULES
    frameworks: tuple[str, ...] = ()
    # Rules whose NON_COMPLIANT resources are handed to the remediation function: the rules
    # whose engine is lambda.
    remediate: tuple[str, ...] = tuple(
        r for r, engine in _default_engines().items() if engine is Engine.LAMBDA
    )
    # Each deployed rule's remediation engine (generator/remediation_engines.py), and the
    # settings' explicit choices among them.
    engines: Mapping[str, Engine] = field(default_factory=_default_engines)
    remediation: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    remediation_approval: Approval | None = None
    # Rules whose notifications are batched into one digest per rule and DigestSchedule.
    digest: tuple[str, ...] = ()
    # Fixed rule inputs, already converted to the strings Config expects.
    rule_parameters: Mapping[str, Mapping[str, str]] = field(
        default_factory=lambda: MappingProxyType({})
    )
    parameter_defaults: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    tags: Mapping[str, str] = field(default_factory=lambda: MappingProxyType(dict(DEFAULT_TAGS)))
    # Reviewed exceptions to the rules (generator/exemptions.py), and their longest allowed life.
    exemptions: tuple[Exemption, ...] = ()
    exemption_max_days: int = DEFAULT_MAX_DAYS
    # Path from the template's folder to functions/; the CLI sets it from --out.
    code_root: str = "../functions"
    # What the stack deploys, made from the fields above (by from_mapping, or the defaults).
    selection: Selection = field(default_factory=lambda: select(DEFAULT_RULES, ()))

    @property
    def enabled_rules(self) -> tuple[RuleChoice, ...]:
        return self.selection.choices

    @property
    def summary(self) -> str:
        """What the stack deploys, for template descriptions (which hold 1,024 bytes)."""
        count = len(self.selection.choices)
        if self.frameworks:
            return f"frameworks: {', '.join(self.frameworks)}; {count} rules"
        if count > DESCRIBED_RULES:
            return f"{count} rules"
        return "rules: " + ", ".join(self.rules)

    @classmethod
    def from_mapping(
        cls, raw: object, code_root: str = "../functions", today: date | None = None
    ) -> Settings:
        """``today`` (default: the UTC date) only refuses an exemption granted in the future."""
        if not isinstance(raw, dict):
            raise SettingsError("settings", raw, "a JSON object with fields " + _fields())
        for key in raw:
            if key not in KNOWN_FIELDS:
                raise SettingsError(key, raw[key], "known fields are " + _fields())
        chosen_frameworks = _frameworks(raw.get("frameworks", []))
        default_rules = [] if chosen_frameworks else list(DEFAULT_RULES)
        rules = _rules(
            raw.get("rules", default_rules), "rules", allow_empty=bool(chosen_frameworks)
        )
        raw_defaults = raw.get("parameter_defaults", {})
        if not isinstance(raw_defaults, dict):
            raise SettingsError(
                "parameter_defaults", raw_defaults, "an object keyed by parameter name"
            )
        # Parameters first, unchecked: the rule set depends on which conflicts they settle.
        raw_inputs = raw.get("rule_parameters", {})
        settling = {
            identifier: params
            for identifier, params in (raw_inputs.items() if isinstance(raw_inputs, dict) else ())
            if isinstance(params, dict)
        }
        preliminary = select(rules, chosen_frameworks, raw_defaults, settling)
        rule_parameters = _rule_parameters(raw.get("rule_parameters", {}), preliminary)
        selection = select(rules, chosen_frameworks, raw_defaults, rule_parameters)
        _require_inputs(selection, rule_parameters)
        max_days = parse_max_days(raw.get("exemption_max_days", DEFAULT_MAX_DAYS))
        exemptions = parse_exemptions(
            raw.get("exemptions", []),
            selection.identifiers,
            max_days,
            today or datetime.now(UTC).date(),
        )
        digest = _digest(raw.get("digest", []), selection.identifiers)
        remediate = _remediate(raw.get("remediate"), selection.identifiers)
        approval = _approval(raw.get("remediation_approval"))
        explicit = _remediation(
            raw.get("remediation", {}),
            selection.identifiers,
            remediate if "remediate" in raw else (),
            approval,
        )
        engines = resolve_engines(
            selection.identifiers, explicit, remediate if "remediate" in raw else None
        )
        return cls(
            rules=rules,
            frameworks=chosen_frameworks,
            remediate=tuple(r for r, engine in engines.items() if engine is Engine.LAMBDA),
            engines=MappingProxyType(engines),
            remediation=explicit,
            remediation_approval=approval,
            digest=digest,
            rule_parameters=rule_parameters,
            parameter_defaults=_parameter_defaults(raw_defaults, selection, bool(digest)),
            tags=_tags(raw.get("tags", DEFAULT_TAGS)),
            exemptions=exemptions,
            exemption_max_days=max_days,
            code_root=code_root,
            selection=selection,
        )


def load_settings(
    path: Path, code_root: str = "../functions", today: date | None = None
) -> Settings:
    """Read and validate a JSON settings file."""
    return Settings.from_mapping(
        read_json_file(path, "--settings"), code_root=code_root, today=today
    )


def deploy_parameter_specs(selection: Selection) -> tuple[ParameterSpec, ...]:
    """All CloudFormation parameters of a stack with these rules, in console order."""
    return (*base_parameter_specs(selection), *rule_parameter_specs(selection))


def feature_parameter_specs(digest: bool) -> tuple[ParameterSpec, ...]:
    """The parameters only some stacks have, by the settings that add them."""
    return (DIGEST_SCHEDULE,) if digest else ()


def base_parameter_specs(selection: Selection) -> tuple[ParameterSpec, ...]:
    """The parameters every stack may have, RuleNamePrefix constrained for these rules."""
    prefix = rule_name_prefix(selection.choices)
    return tuple(prefix if spec.name == prefix.name else spec for spec in BASE_PARAMETERS)


def rule_parameter_specs(selection: Selection) -> tuple[ParameterSpec, ...]:
    """Only the parameters the rules themselves take: the listed rules' deploy-time inputs and
    frequency, and the framework packs' own parameters."""
    listed = [choice.rule for choice in selection.listed if choice.pack is None]
    specs = [p.deploy_parameter for rule in listed for p in rule.parameters if p.deploy_parameter]
    if any(uses_frequency_parameter(rule) for rule in listed):
        specs.append(PERIODIC_FREQUENCY)
    return (*dict.fromkeys(specs), *selection.pack_parameters)


def uses_frequency_parameter(rule: ManagedRule) -> bool:
    """A listed periodic rule runs at PeriodicRuleFrequency; one whose trigger kinds are not
    verified gets no frequency at all (Config's default for the rule)."""
    return rule.facts.triggers_verified and rule.deploy_trigger.value == "periodic"


def _fields() -> str:
    return ", ".join(KNOWN_FIELDS)


def _string_list(value: object, field_name: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise SettingsError(field_name, value, "a list of rule identifiers (strings)")
    return value


def _frameworks(value: object) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise SettingsError("frameworks", value, "a list of framework names (strings)")
    known = frameworks()
    for index, name in enumerate(value):
        if name not in known:
            close = [k for k in known if name.lower() in k or k in name.lower()][:5]
            hint = f" (did you mean {', '.join(close)}?)" if close else ""
            raise SettingsError(
                f"frameworks[{index}]",
                name,
                f"one of the {len(known)} frameworks `generate.py --list-frameworks` lists{hint}",
            )
    if len(set(value)) != len(value):
        raise SettingsError("frameworks", value, "each framework at most once")
    return tuple(value)


def _rules(value: object, field_name: str, allow_empty: bool = False) -> tuple[str, ...]:
    names = _string_list(value, field_name)
    for index, name in enumerate(names):
        if name not in BY_IDENTIFIER:
            raise SettingsError(
                f"{field_name}[{index}]",
                name,
                f"an identifier of the catalog's {len(BY_IDENTIFIER)} managed rules "
                "(docs/catalog.md; `generate.py --list-rules`)",
            )
    if len(set(names)) != len(names):
        raise SettingsError(field_name, value, "each rule at most once")
    if not names and not allow_empty:
        raise SettingsError(field_name, value, "at least one catalog rule, or a framework")
    return tuple(names)


def _remediate(value: object, rules: tuple[str, ...]) -> tuple[str, ...]:
    """Identifiers of enabled rules handed to remediation; by default every capable one."""
    if value is None:
        return tuple(r for r in rules if BY_IDENTIFIER[r].remediation is not None)
    names = _string_list(value, "remediate")
    capable = [r for r in rules if BY_IDENTIFIER[r].remediation is not None]
    for index, name in enumerate(names):
        if name not in capable:
            raise SettingsError(
                f"remediate[{index}]",
                name,
                "enabled rules with automatic remediation: " + (", ".join(capable) or "none"),
            )
    return tuple(dict.fromkeys(names))


def _remediation(
    value: object, rules: tuple[str, ...], remediate: tuple[str, ...], approval: Approval | None
) -> Mapping[str, str]:
    """The explicit engine per rule: an enabled rule, an engine that exists for it, approvers
    for a disruptive document, and no contradiction of the old `remediate` list."""
    if not isinstance(value, dict):
        raise SettingsError("remediation", value, "an object of rule identifier to engine")
    for identifier, engine in value.items():
        field_name = f"remediation.{identifier}"
        if identifier not in rules:
            raise SettingsError(
                field_name, engine, "engines only for enabled rules: " + _some(rules)
            )
        allowed = available_engines(identifier)
        if engine not in allowed:
            raise SettingsError(
                field_name, engine, f"an engine {identifier} has: {', '.join(allowed)}"
            )
        if identifier in remediate and engine != Engine.LAMBDA:
            raise SettingsError(
                field_name,
                engine,
                f"lambda, since remediate lists {identifier} (remove it from one of them)",
            )
        ssm = ssm_documents.remediation_for(identifier)
        if engine == Engine.SSM and ssm is not None and ssm.disruptive and approval is None:
            raise SettingsError(
                field_name,
                engine,
                f"ssm only with remediation_approval: {ssm.document.name} is disruptive "
                f"({ssm.document.disruption})",
            )
    return MappingProxyType(dict(sorted(value.items())))


def _approval(value: object) -> Approval | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise SettingsError(
            "remediation_approval",
            value,
            "an object with approvers, min_approvals and timeout_hours",
        )
    for key in value:
        if key not in ("approvers", "min_approvals", "timeout_hours"):
            raise SettingsError(
                f"remediation_approval.{key}",
                value[key],
                "known fields are approvers, min_approvals, timeout_hours",
            )
    approvers = value.get("approvers")
    if (
        not isinstance(approvers, list)
        or not 1 <= len(approvers) <= MAX_APPROVERS
        or len(set(map(str, approvers))) != len(approvers)
    ):
        raise SettingsError(
            "remediation_approval.approvers",
            approvers,
            f"1 to {MAX_APPROVERS} different IAM user or role ARNs or names",
        )
    for index, approver in enumerate(approvers):
        if not isinstance(approver, str) or not APPROVER.fullmatch(approver):
            raise SettingsError(
                f"remediation_approval.approvers[{index}]",
                approver,
                "an IAM user or role ARN (arn:<partition>:iam::<account>:user/<name> or "
                ":role/<name>) or an IAM user or role name",
            )
    min_approvals = _whole("min_approvals", value.get("min_approvals", 1), 1, len(approvers))
    timeout = _whole(
        "timeout_hours",
        value.get("timeout_hours", DEFAULT_TIMEOUT_HOURS),
        1,
        MAX_TIMEOUT_HOURS,
    )
    return Approval(tuple(approvers), min_approvals, timeout)


def _whole(key: str, raw: object, low: int, high: int) -> int:
    if isinstance(raw, bool) or not isinstance(raw, int) or not low <= raw <= high:
        raise SettingsError(f"remediation_approval.{key}", raw, f"a whole number {low}..{high}")
    return raw


def _some(names: tuple[str, ...], shown_max: int = 10) -> str:
    more = f", ... ({len(names) - shown_max} more)" if len(names) > shown_max else ""
    return ", ".join(names[:shown_max]) + more


def _digest(value: object, rules: tuple[str, ...]) -> tuple[str, ...]:
    """Identifiers of enabled rules notified in a digest instead of one message per change."""
    names = _string_list(value, "digest")
    for index, name in enumerate(names):
        if name not in rules:
            raise SettingsError(
                f"digest[{index}]", name, "identifiers of rules the stack deploys: " + _some(rules)
            )
    return tuple(dict.fromkeys(names))


def _rule_parameters(value: object, selection: Selection) -> Mapping[str, Mapping[str, str]]:
    if not isinstance(value, dict):
        raise SettingsError("rule_parameters", value, "an object keyed by rule identifier")
    result: dict[str, Mapping[str, str]] = {}
    for identifier, params in value.items():
        field_name = f"rule_parameters.{identifier}"
        if identifier not in selection.identifiers:
            raise SettingsError(field_name, params, "parameters only for enabled rules")
        rule = BY_IDENTIFIER[identifier]
        if not isinstance(params, dict):
            raise SettingsError(field_name, params, "an object of input parameters")
        pack_keys = _pack_input_keys(selection, identifier)
        converted: dict[str, str] = {}
        for name, raw in params.items():
            param = rule.parameter(name)
            if param is None and name in pack_keys:
                # A pack passes it though the catalog's facts do not list it: a string.
                converted[name] = _rule_value(ParamKind.STRING, raw, f"{field_name}.{name}")
                continue
            if param is None or param.deploy_parameter is not None:
                settable = sorted(
                    {p.name for p in rule.parameters if p.deploy_parameter is None} | pack_keys
                )
                raise SettingsError(
                    f"{field_name}.{name}",
                    raw,
                    f"{identifier} takes "
                    + (", ".join(settable) or "no fixed parameters")
                    + _deploy_hint(rule, name),
                )
            converted[name] = _rule_value(param.kind, raw, f"{field_name}.{name}")
        result[identifier] = MappingProxyType(dict(sorted(converted.items())))
    return MappingProxyType(dict(sorted(result.items())))


def _require_inputs(selection: Selection, rule_parameters: Mapping[str, Mapping[str, str]]) -> None:
    """A listed rule's required inputs: from a deploy parameter, or from the settings (Config
    refuses the rule without them). A framework rule has what its pack gives it."""
    for choice in selection.listed:
        if choice.pack is not None:
            continue
        given = rule_parameters.get(choice.identifier, {})
        for param in choice.rule.parameters:
            missing = param.required and param.default is None and param.name not in given
            if missing and param.deploy_parameter is None:
                raise SettingsError(
                    f"rule_parameters.{choice.identifier}.{param.name}",
                    None,
                    f"a {param.kind.value} value: {choice.identifier} requires {param.name}, "
                    "which AWS gives no default "
                    f"(see {choice.rule.source_url})",
                )


def _pack_input_keys(selection: Selection, identifier: str) -> set[str]:
    return {
        key
        for choice in selection.choices
        if choice.identifier == identifier and choice.pack and isinstance(choice.pack.inputs, dict)
        for key in choice.pack.inputs
        if not key.startswith("Fn::")
    }


def _deploy_hint(rule: ManagedRule, name: str) -> str:
    param = rule.parameter(name)
    if param is not None and param.deploy_parameter is not None:
        logical = param.deploy_parameter.name
        return f"; {name} comes from the parameter {logical} (set parameter_defaults.{logical})"
    return ""


def _rule_value(kind: ParamKind, raw: object, field_name: str) -> str:
    """Config wants every input parameter as a string; check the value fits the documented type."""
    if kind is ParamKind.BOOLEAN:
        if isinstance(raw, bool):
            return "true" if raw else "false"
        raise SettingsError(field_name, raw, "true or false")
    if kind is ParamKind.INT:
        if isinstance(raw, int) and not isinstance(raw, bool):
            return str(raw)
        raise SettingsError(field_name, raw, "a whole number")
    if kind is ParamKind.CSV:
        if isinstance(raw, list) and raw and all(isinstance(v, str) and v for v in raw):
            return ",".join(raw)
        if isinstance(raw, str) and raw:
            return raw
        raise SettingsError(field_name, raw, "a non-empty list of strings or a CSV string")
    if isinstance(raw, str) and raw:
        return raw
    raise SettingsError(field_name, raw, "a non-empty string")


def _parameter_defaults(value: dict, selection: Selection, digest: bool) -> Mapping[str, str]:
    specs = {
        spec.name: spec
        for spec in (*deploy_parameter_specs(selection), *feature_parameter_specs(digest))
    }
    result = {}
    for name, raw in value.items():
        spec = specs.get(name)
        if spec is None and name == DIGEST_SCHEDULE.name:
            raise SettingsError(
                f"parameter_defaults.{name}",
                raw,
                "a parameter only with `digest` rules (list them in `digest`)",
            )
        if spec is None:
            raise SettingsError(
                f"parameter_defaults.{name}", raw, "parameters are " + _listed(sorted(specs))
            )
        result[name] = check_value(spec, raw, f"parameter_defaults.{name}")
    aggregator = (result.get("AggregatorAccountId", ""), result.get("AggregatorRegion", ""))
    if bool(aggregator[0]) != bool(aggregator[1]):
        raise SettingsError(
            "parameter_defaults.AggregatorRegion",
            aggregator[1],
            "AggregatorAccountId and AggregatorRegion set together or both empty",
        )
    for names in CHAT_TOGETHER:
        given = [name for name in names if result.get(name, "")]
        if given and len(given) != len(names):
            missing = next(name for name in names if name not in given)
            raise SettingsError(
                f"parameter_defaults.{missing}", "", f"{', '.join(names)} set together or all empty"
            )
    return MappingProxyType(dict(sorted(result.items())))


def _listed(names: list[str], most: int = 40) -> str:
    """A list for a message: the first `most` names, then how many more."""
    shown = ", ".join(names[:most])
    return shown if len(names) <= most else f"{shown} and {len(names) - most} more"


def _tags(value: object) -> Mapping[str, str]:
    if not isinstance(value, dict):
        raise SettingsError("tags", value, "an object of tag keys to string values")
    if len(value) > 40:
        raise SettingsError("tags", f"{len(value)} tags", "at most 40 tags (stack tags count too)")
    for key, tag_value in value.items():
        if not TAG_KEY.fullmatch(key):
            raise SettingsError(
                f"tags.{key}",
                key,
                "a key of 1-128 letters, digits, spaces and _.:/=+-@, not starting with aws: "
                "(in any case)",
            )
        if not isinstance(tag_value, str) or not TAG_VALUE.fullmatch(tag_value):
            raise SettingsError(
                f"tags.{key}",
                tag_value,
                "a string of up to 256 letters, digits, spaces, _.:/=+-@, not starting with aws: "
                "(in any case)",
            )
    return MappingProxyType(dict(sorted(value.items())))
