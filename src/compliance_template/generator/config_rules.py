"""The AWS Config managed rules, one per enabled catalog entry."""

from __future__ import annotations

from troposphere import AWSHelperFn, Join, Ref, config

from .catalog import ManagedRule, Trigger
from .naming import rule_name
from .recorder import wait_for_recorder
from .regions import add_region_conditions, condition_name, only_where_available
from .settings import Settings
from .stack import Stack


def add_rules(stack: Stack) -> None:
    rules = stack.settings.enabled_rules
    add_region_conditions(stack.template, rules)
    for rule in rules:
        stack.add(_config_rule(stack, rule))
    stack.output(
        "ConfigRuleNames",
        "Comma-separated names of the Config rules deployed in this region",
        Join(",", [only_where_available(rule, rule_name(rule.slug)) for rule in rules]),
    )


def rule_inputs(settings: Settings, rule: ManagedRule) -> dict[str, str | AWSHelperFn]:
    """InputParameters: deploy-time values from parameters, fixed ones from the settings."""
    fixed = settings.rule_parameters.get(rule.identifier, {})
    inputs: dict[str, str | AWSHelperFn] = {}
    for param in rule.parameters:
        if param.deploy_parameter is not None:
            inputs[param.name] = Ref(param.deploy_parameter.name)
        elif param.name in fixed:
            inputs[param.name] = fixed[param.name]
    return dict(sorted(inputs.items()))


def config_rule(settings: Settings, rule: ManagedRule, name: object) -> config.ConfigRule:
    """The rule as CloudFormation and conformance packs both declare it."""
    properties: dict[str, object] = {
        "ConfigRuleName": name,
        "Description": rule.description,
        "Source": config.Source(Owner="AWS", SourceIdentifier=rule.identifier),
    }
    inputs = rule_inputs(settings, rule)
    if inputs:
        properties["InputParameters"] = inputs
    if rule.deploy_trigger is Trigger.CHANGE:
        # Config rejects a frequency on change-triggered rules and a scope on periodic ones.
        if rule.resource_types:
            properties["Scope"] = config.Scope(ComplianceResourceTypes=list(rule.resource_types))
    else:
        properties["MaximumExecutionFrequency"] = Ref("PeriodicRuleFrequency")
    return config.ConfigRule(rule.logical_id, **properties)


def _config_rule(stack: Stack, rule: ManagedRule) -> config.ConfigRule:
    resource = config_rule(stack.settings, rule, rule_name(rule.slug))
    if "recorder" in stack.ids:
        # Creating a rule fails without a recorder; when the stack makes one, wait for it.
        resource.Metadata = wait_for_recorder()
    condition = condition_name(rule)
    if condition is not None:
        resource.Condition = condition
    return resource
