"""Region conditions: a rule AWS does not offer in a region is not deployed there.

One template can then target every region (a StackSet over all enabled regions) without failing
on `InvalidParameterValueException` for a rule the region lacks. Everything that belongs to the
rule (its alarm, its IAM resource, its entries in the functions' RULES and REMEDIATE_RULES)
follows its condition.
"""

from __future__ import annotations

from collections.abc import Callable

from troposphere import AWSHelperFn, Equals, If, Join, Not, NoValue, Or, Ref, Template

from .catalog import ManagedRule

MAX_OR = 10  # Fn::Or takes 2 to 10 conditions


def condition_name(rule: ManagedRule) -> str | None:
    return f"{rule.stem}Available" if rule.unavailable_regions else None


def add_region_conditions(template: Template, rules: tuple[ManagedRule, ...]) -> None:
    for rule in rules:
        name = condition_name(rule)
        if name is not None and name not in template.conditions:
            template.add_condition(name, Not(_any_region(rule.unavailable_regions)))


def only_where_available(rule: ManagedRule, value: object) -> object:
    """`value` where the rule is deployed; removed from its list (AWS::NoValue) elsewhere."""
    name = condition_name(rule)
    return value if name is None else If(name, value, NoValue)


def json_of_available(
    rules: tuple[ManagedRule, ...],
    brackets: str,
    entry: Callable[[ManagedRule], object],
    regional: bool = True,
) -> Join:
    """A JSON list or object (`brackets` "[]" or "{}") of one `entry` per rule. With `regional`,
    each entry is present only where its rule is deployed, so the JSON names exactly the rules of
    the region it is resolved in and stays valid there."""
    entries = [
        only_where_available(rule, entry(rule)) if regional else entry(rule) for rule in rules
    ]
    return Join("", [brackets[0], Join(",", entries), brackets[1]])


def _any_region(regions: tuple[str, ...]) -> AWSHelperFn:
    tests = [Equals(Ref("AWS::Region"), region) for region in regions]
    if len(tests) == 1:
        return tests[0]
    while len(tests) > MAX_OR:
        tests = [Or(*tests[:MAX_OR]), *tests[MAX_OR:]]
    return Or(*tests)
