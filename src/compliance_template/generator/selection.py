"""Which Config rules a stack deploys: the union of the chosen frameworks' rules and the rules
listed in the settings, each with the name, inputs, scope and frequency it is deployed with.

A framework's rule is deployed as its pack declares it (the same identifier as often as the
pack uses it, the same input keys and values, a scope and a frequency only where the pack sets
them, the pack's condition), so our stack and AWS's pack evaluate the same thing. A listed rule
is deployed from the catalog's facts and the settings' values. Two frameworks that deploy the
same rule differently, or give one parameter two defaults, are an error naming both.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from ..errors import SettingsError
from ..intrinsics import referenced_names
from ..parameter_spec import GROUP_FRAMEWORKS, ParameterSpec
from .catalog import BY_IDENTIFIER, ManagedRule, Provenance, RuleParameter, Trigger
from .frameworks import Framework, PackRule, frameworks


@dataclass(frozen=True)
class RuleChoice:
    """One Config rule of the stack: `suffix` names it (<prefix>-<suffix>), `rule` holds the
    catalog's facts, `pack` how a framework's pack declares it (None: a listed rule)."""

    suffix: str
    rule: ManagedRule
    frameworks: tuple[str, ...] = ()
    listed: bool = False
    pack: PackRule | None = None
    # Literal inputs from the settings' rule_parameters, over the pack's (or the only inputs).
    fixed_inputs: Mapping[str, str] = field(default_factory=dict)

    @property
    def identifier(self) -> str:
        return self.rule.identifier

    @property
    def slug(self) -> str:
        return self.suffix

    @property
    def stem(self) -> str:
        """CamelCase of the suffix; a rule under its identifier's own name keeps the catalog
        stem, so the logical ids of existing stacks do not change."""
        if self.suffix == self.rule.slug:
            return self.rule.stem
        return "".join(part.capitalize() for part in self.suffix.split("-"))

    @property
    def logical_id(self) -> str:
        return f"{self.stem}Rule"

    # The catalog's facts, so code that only describes a rule takes either kind.
    @property
    def description(self) -> str:
        return self.rule.description

    @property
    def resource_types(self) -> tuple[str, ...]:
        return self.rule.resource_types

    @property
    def unavailable_regions(self) -> tuple[str, ...]:
        return self.rule.unavailable_regions

    @property
    def only_regions(self) -> tuple[str, ...] | None:
        return self.rule.only_regions

    @property
    def regional(self) -> bool:
        return self.rule.regional

    @property
    def remediation(self) -> str | None:
        return self.rule.remediation

    @property
    def manual(self) -> bool:
        return self.rule.manual

    @property
    def facts(self) -> Provenance:
        return self.rule.facts

    @property
    def parameters(self) -> tuple[RuleParameter, ...]:
        return self.rule.parameters

    @property
    def deploy_trigger(self) -> Trigger:
        return self.rule.deploy_trigger

    def available_in(self, region: str) -> bool:
        return self.rule.available_in(region)


@dataclass(frozen=True)
class Selection:
    choices: tuple[RuleChoice, ...]
    frameworks: tuple[str, ...] = ()
    # The packs' parameters and conditions the framework rules refer to.
    pack_parameters: tuple[ParameterSpec, ...] = ()
    pack_conditions: Mapping[str, Any] = field(default_factory=dict)

    @property
    def identifiers(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(choice.identifier for choice in self.choices))

    @property
    def listed(self) -> tuple[RuleChoice, ...]:
        return tuple(choice for choice in self.choices if choice.listed)

    @property
    def catalog_rules(self) -> tuple[ManagedRule, ...]:
        return tuple(BY_IDENTIFIER[identifier] for identifier in self.identifiers)


def select(
    listed: Iterable[str],
    framework_names: Iterable[str],
    parameter_defaults: Mapping[str, object] = {},
    rule_parameters: Mapping[str, Mapping[str, str]] = {},
) -> Selection:
    """The stack's rules: each framework's rules in pack order, then the listed rules not already
    deployed under their own name. `parameter_defaults` settles a default two packs disagree on,
    `rule_parameters` an input value (it replaces the packs' value of that input)."""
    chosen: dict[str, RuleChoice] = {}
    names = tuple(framework_names)
    for name in names:
        framework = frameworks()[name]
        for pack_rule in framework.rules:
            settled = rule_parameters.get(pack_rule.identifier, {})
            _add_pack_rule(chosen, framework, pack_rule, settled)
    for identifier in listed:
        rule = BY_IDENTIFIER[identifier]
        existing = chosen.get(rule.slug)
        if existing is not None:
            chosen[rule.slug] = replace(existing, listed=True)
        else:
            chosen[rule.slug] = RuleChoice(rule.slug, rule, listed=True)
    listed_first = tuple(sorted(chosen.values(), key=lambda c: not c.listed))
    conditions = _used_conditions(listed_first, _pack_conditions(names))
    used = referenced_names([_declared(c) for c in listed_first]) | referenced_names(
        list(conditions.values())
    )
    return Selection(
        choices=listed_first,
        frameworks=names,
        # Only what the deployed rules use: a pack parameter of a custom rule we cannot deploy
        # would be a required parameter nothing reads.
        pack_parameters=tuple(
            spec for spec in _pack_parameters(names, parameter_defaults) if spec.name in used
        ),
        pack_conditions=conditions,
    )


def _declared(choice: RuleChoice) -> list[Any]:
    pack = choice.pack
    return [] if pack is None else [pack.inputs, pack.scope, pack.frequency]


def _used_conditions(choices: tuple[RuleChoice, ...], conditions: dict[str, Any]) -> dict[str, Any]:
    """The pack conditions the rules name (as their Condition or in an Fn::If), and those that
    these refer to in turn."""
    wanted = {c.pack.condition for c in choices if c.pack is not None and c.pack.condition}
    wanted |= _if_conditions([_declared(c) for c in choices])
    pending = list(wanted)
    while pending:
        body = conditions.get(pending.pop())
        for name in _if_conditions(body) - wanted:
            wanted.add(name)
            pending.append(name)
    return {name: body for name, body in conditions.items() if name in wanted}


def _if_conditions(value: Any) -> set[str]:
    """Condition names an Fn::If or a {"Condition": name} reaches in a fragment."""
    found: set[str] = set()
    if isinstance(value, list):
        for item in value:
            found |= _if_conditions(item)
    elif isinstance(value, dict):
        for key, item in value.items():
            if key == "Fn::If" and isinstance(item, list) and item and isinstance(item[0], str):
                found.add(item[0])
                found |= _if_conditions(item[1:])
            elif key == "Condition" and isinstance(item, str):
                found.add(item)
            else:
                found |= _if_conditions(item)
    return found


def _add_pack_rule(
    chosen: dict[str, RuleChoice],
    framework: Framework,
    rule: PackRule,
    settled: Mapping[str, str],
) -> None:
    existing = chosen.get(rule.suffix)
    if existing is None:
        chosen[rule.suffix] = RuleChoice(
            rule.suffix, BY_IDENTIFIER[rule.identifier], (framework.name,), pack=rule
        )
        return
    assert existing.pack is not None
    theirs = existing.pack
    inputs, key = _merged_inputs(theirs.inputs, rule.inputs, settled)
    if key == WHOLE_SET:
        _refuse(existing, framework, f"{rule.suffix} with different conditional input sets")
    if key:
        raise SettingsError(
            "frameworks",
            [existing.frameworks[0], framework.name],
            f"frameworks that agree on each rule's inputs: {existing.frameworks[0]} and "
            f"{framework.name} give {rule.suffix} different values of {key}; settle it with "
            f"rule_parameters.{rule.identifier}.{key}",
        )
    scope = _merged_scope(theirs.scope, rule.scope)
    if scope is _CONFLICT:
        _refuse(existing, framework, f"{rule.suffix} with different scopes")
    for what, mine, known in (
        ("identifier", rule.identifier, theirs.identifier),
        ("frequency", rule.frequency, theirs.frequency),
        ("condition", rule.condition, theirs.condition),
    ):
        if mine != known:
            _refuse(existing, framework, f"{rule.suffix} with different {what}")
    merged = replace(theirs, inputs=inputs, scope=scope)
    chosen[rule.suffix] = replace(
        existing, frameworks=(*existing.frameworks, framework.name), pack=merged
    )


# Returned by a merge whose two sides disagree.
_CONFLICT = object()
# The conflicting "key" when a pack wraps its whole input set in an Fn::If.
WHOLE_SET = "*"


def _refuse(existing: RuleChoice, framework: Framework, what: str) -> None:
    raise SettingsError(
        "frameworks",
        [existing.frameworks[0], framework.name],
        f"frameworks that agree on each rule: {existing.frameworks[0]} and {framework.name} "
        f"both deploy {what}; choose one of them, or generate a stack for each",
    )


def _merged_inputs(first: Any, second: Any, settled: Mapping[str, str]) -> tuple[Any, str]:
    """One rule serving two packs takes the inputs of both; a key both set must be set alike
    (the same value, or the same pack parameter, whose defaults _pack_parameters compares)
    unless the settings give its value. Returns the inputs and the first key in conflict."""
    if first == second:
        return first, ""
    if not (isinstance(first, dict | None) and isinstance(second, dict | None)):
        return first, WHOLE_SET
    if any(_is_intrinsic_set(side) for side in (first, second)):
        # An Fn::If around the whole set: only the identical one merges.
        return first, WHOLE_SET
    merged = dict(first or {})
    for key, value in (second or {}).items():
        if key in merged and merged[key] != value and key not in settled:
            return first, key
        merged[key] = value
    return dict(sorted(merged.items())), ""


def _is_intrinsic_set(inputs: dict | None) -> bool:
    return bool(inputs) and len(inputs) == 1 and next(iter(inputs)).startswith("Fn::")


def _merged_scope(first: Any, second: Any) -> Any:
    """Scopes of resource types only merge into one listing both packs' types."""
    if first == second:
        return first
    if first is None or second is None:
        # No scope: the rule's own default, which covers whatever the other pack lists.
        return None
    if set(first) == set(second) == {"ComplianceResourceTypes"}:
        types = dict.fromkeys(
            [*first["ComplianceResourceTypes"], *second["ComplianceResourceTypes"]]
        )
        return {"ComplianceResourceTypes": list(types)}
    return _CONFLICT


def _pack_parameters(
    names: tuple[str, ...], parameter_defaults: Mapping[str, object]
) -> tuple[ParameterSpec, ...]:
    specs: dict[str, ParameterSpec] = {}
    owners: dict[str, str] = {}
    for name in names:
        for parameter, declared in frameworks()[name].parameters.items():
            default = declared.get("Default")
            default = None if default is None else str(default)
            spec = ParameterSpec(
                parameter,
                GROUP_FRAMEWORKS,
                parameter,
                _describe(parameter, declared, default),
                default,
            )
            known = specs.get(parameter)
            if known is None:
                specs[parameter], owners[parameter] = spec, name
            elif known.default != default and parameter not in parameter_defaults:
                raise SettingsError(
                    "frameworks",
                    [owners[parameter], name],
                    f"frameworks whose shared parameters agree: {parameter} defaults to "
                    f"{known.default!r} in {owners[parameter]} and to {default!r} in {name}; "
                    f"choose the value with parameter_defaults.{parameter}",
                )
    return tuple(specs[name] for name in sorted(specs))


def _describe(parameter: str, declared: Mapping[str, Any], default: str | None) -> str:
    text = declared.get("Description") or f"Rule input {parameter} of AWS's sample pack"
    shown = "none" if default is None else repr(default)
    return f"{text} (the pack's default: {shown}; empty leaves the input out where the pack allows)"


def _pack_conditions(names: tuple[str, ...]) -> dict[str, Any]:
    conditions: dict[str, Any] = {}
    owners: dict[str, str] = {}
    for name in names:
        for condition, body in frameworks()[name].conditions.items():
            if condition in conditions and conditions[condition] != body:
                raise SettingsError(
                    "frameworks",
                    [owners[condition], name],
                    f"frameworks whose conditions agree: {condition} differs between "
                    f"{owners[condition]} and {name}",
                )
            conditions[condition], owners[condition] = body, name
    return dict(sorted(conditions.items()))
