"""The AWS Config managed rules: one per rule the settings select (frameworks and listed rules)."""

from __future__ import annotations

from typing import Any

from troposphere import AWSHelperFn, Join, Ref, Sub, config

from .catalog import Trigger
from .naming import rule_name
from .recorder import wait_for_recorder
from .regions import add_region_conditions, only_where_available, rule_condition
from .selection import RuleChoice
from .settings import Settings, uses_frequency_parameter
from .stack import Stack

# An output value is one string: past this many rules the names are not listed (the prefix
# output and `aws configservice describe-config-rules` give them).
LISTED_NAMES_MAX = 20


def add_rules(stack: Stack) -> None:
    rules = stack.settings.enabled_rules
    for name, body in stack.settings.selection.pack_conditions.items():
        stack.template.add_condition(name, body)
    add_region_conditions(stack.template, rules)
    for rule in rules:
        stack.add(_config_rule(stack, rule))
    stack.output(
        "ConfigRuleNamePrefix",
        "Every Config rule of this stack is <prefix>-<rule>",
        Ref("RuleNamePrefix"),
    )
    if len(rules) <= LISTED_NAMES_MAX:
        stack.output(
            "ConfigRuleNames",
            "Comma-separated names of the Config rules deployed in this region",
            Join(",", [only_where_available(rule, rule_name(rule.slug)) for rule in rules]),
        )


def rule_inputs(
    settings: Settings, rule: RuleChoice, partition_aware: bool = True
) -> dict[str, Any] | AWSHelperFn:
    """InputParameters. A framework rule's are its pack's, with the settings' fixed values over
    them; a listed rule's come from deploy parameters and the settings' fixed values."""
    fixed = dict(settings.rule_parameters.get(rule.identifier, {}))
    if rule.pack is not None:
        inputs = rule.pack.inputs
        if inputs is not None and not isinstance(inputs, dict):
            return inputs
        if inputs and len(inputs) == 1 and next(iter(inputs)).startswith("Fn::"):
            return inputs  # an Fn::If around the whole set, as the pack writes it
        merged = {key: _as_string(value, partition_aware) for key, value in (inputs or {}).items()}
        return dict(sorted({**merged, **fixed}.items()))
    inputs: dict[str, Any] = {}
    for param in rule.parameters:
        if param.deploy_parameter is not None:
            inputs[param.name] = Ref(param.deploy_parameter.name)
        elif param.name in fixed:
            inputs[param.name] = fixed[param.name]
    return dict(sorted(inputs.items()))


def _as_string(value: object, partition_aware: bool) -> object:
    """Config takes input values as strings; a few packs write a port as a YAML number (3389)
    or a flag as a boolean, which we pass as the strings they stand for. An ARN a pack spells
    in the aws partition (arn:aws:iam::aws:policy/...) is built for the stack's partition; a
    conformance pack's body keeps AWS's literal, as AWS's own pack does."""
    if partition_aware and isinstance(value, str) and value.startswith("arn:aws:"):
        return Sub("arn:${AWS::Partition}:" + value.removeprefix("arn:aws:"))
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return value


def config_rule(
    settings: Settings, rule: RuleChoice, name: object, partition_aware: bool = True
) -> config.ConfigRule:
    """The rule as CloudFormation and conformance packs both declare it."""
    properties: dict[str, object] = {
        "ConfigRuleName": name,
        "Description": rule.description,
        "Source": config.Source(Owner="AWS", SourceIdentifier=rule.identifier),
    }
    inputs = rule_inputs(settings, rule, partition_aware)
    if inputs:
        properties["InputParameters"] = inputs
    resource = config.ConfigRule(rule.logical_id, **properties)
    if rule.pack is not None:
        # As the pack declares it; set after validation, since its values may be intrinsics.
        # Where a current AWS page verifies the trigger kinds, a setting the kind does not allow
        # is left out (a few packs put a scope on a periodic-only rule: Config rejects it).
        triggers = rule.rule.triggers if rule.facts.triggers_verified else None
        if rule.pack.scope is not None and triggers != {Trigger.PERIODIC}:
            resource.properties["Scope"] = rule.pack.scope
        if rule.pack.frequency is not None and (triggers is None or Trigger.PERIODIC in triggers):
            resource.properties["MaximumExecutionFrequency"] = rule.pack.frequency
    elif not rule.facts.triggers_verified:
        # Trigger kinds not verified on a current page: neither a scope nor a frequency, which
        # Config rejects on the wrong kind of rule; Config applies the rule's own defaults.
        pass
    elif rule.deploy_trigger is Trigger.CHANGE:
        # Config rejects a frequency on change-triggered rules and a scope on periodic ones.
        if rule.resource_types:
            resource.properties["Scope"] = config.Scope(
                ComplianceResourceTypes=list(rule.resource_types)
            )
    elif uses_frequency_parameter(rule.rule):
        resource.properties["MaximumExecutionFrequency"] = Ref("PeriodicRuleFrequency")
    return resource


def _config_rule(stack: Stack, rule: RuleChoice) -> config.ConfigRule:
    resource = config_rule(stack.settings, rule, rule_name(rule.slug))
    if "recorder" in stack.ids:
        # Creating a rule fails without a recorder; when the stack makes one, wait for it.
        resource.Metadata = wait_for_recorder()
    condition = rule_condition(rule)
    if condition is not None:
        resource.Condition = condition
    return resource
