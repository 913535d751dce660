"""Region conditions: a rule AWS does not offer in a region is not deployed there.

One template can then target every region (a StackSet over all enabled regions) without failing
on `InvalidParameterValueException` for a rule the region lacks. Everything that belongs to the
rule (its alarm, its IAM resource, its entry in the functions' REMEDIATE_RULES) follows its
condition. A framework rule the pack deploys under a condition of its own gets one condition
joining both.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from troposphere import (
    And,
    AWSHelperFn,
    Condition,
    Equals,
    If,
    Join,
    Not,
    NoValue,
    Or,
    Ref,
    Template,
)

from .catalog import ManagedRule
from .selection import RuleChoice

MAX_OR = 10  # Fn::Or takes 2 to 10 conditions
Rule = ManagedRule | RuleChoice


def condition_name(rule: Rule) -> str | None:
    """One condition per set of regions: the rules AWS offers in the same regions share it, so
    130 rules need a few conditions, not 130 copies of the same region list. The name is a
    digest of the set, so it stays the same whatever other rules a stack has."""
    if not rule.regional:
        return None
    if rule.only_regions is not None:
        key = "only:" + ",".join(sorted(rule.only_regions))
    else:
        key = "except:" + ",".join(sorted(rule.unavailable_regions))
    return "RegionSet" + hashlib.sha256(key.encode()).hexdigest()[:8].upper()


def add_region_conditions(template: Template, rules: tuple[Rule, ...]) -> None:
    for rule in rules:
        name = condition_name(rule)
        if name is not None and name not in template.conditions:
            if rule.only_regions is not None:
                template.add_condition(name, _any_region(template, rule.only_regions))
            else:
                template.add_condition(name, Not(_any_region(template, rule.unavailable_regions)))
        pack = _pack_condition(rule)
        if name is not None and pack is not None:
            joined = rule_condition(rule)
            if joined not in template.conditions:
                template.add_condition(joined, And(Condition(name), Condition(pack)))


def _pack_condition(rule: Rule) -> str | None:
    if isinstance(rule, RuleChoice) and rule.pack is not None:
        return rule.pack.condition
    return None


def rule_condition(rule: Rule) -> str | None:
    """The condition the rule's resources carry: its region's, its pack's, or both joined (as
    add_region_conditions declares it)."""
    region, pack = condition_name(rule), _pack_condition(rule)
    if pack is None or region is None:
        return pack or region
    return f"{rule.stem}Deployed"


def only_where_available(rule: Rule, value: object) -> object:
    """`value` where the rule is deployed; removed from its list (AWS::NoValue) elsewhere."""
    name = rule_condition(rule)
    return value if name is None else If(name, value, NoValue)


def json_of_available(
    rules: tuple[Rule, ...],
    brackets: str,
    entry: Callable[[Rule], object],
    regional: bool = True,
) -> Join:
    """A JSON list or object (`brackets` "[]" or "{}") of one `entry` per rule. With `regional`,
    each entry is present only where its rule is deployed, so the JSON names exactly the rules of
    the region it is resolved in and stays valid there."""
    entries = [
        only_where_available(rule, entry(rule)) if regional else entry(rule) for rule in rules
    ]
    return Join("", [brackets[0], Join(",", entries), brackets[1]])


def region_condition(region: str) -> str:
    """`ap-east-2` -> `InRegionApEast2`: true in that region only."""
    return "InRegion" + "".join(part.capitalize() for part in region.split("-"))


def _any_region(template: Template, regions: tuple[str, ...]) -> AWSHelperFn:
    """True in any of the regions (Fn::Or nests, since it takes at most 10 conditions). Each
    region's test is a condition of its own that every region set refers to: 130 rules share a
    few dozen region tests instead of repeating thousands."""
    if len(regions) == 1:
        return Equals(Ref("AWS::Region"), regions[0])
    tests: list[AWSHelperFn] = []
    for region in regions:
        name = region_condition(region)
        if name not in template.conditions:
            template.add_condition(name, Equals(Ref("AWS::Region"), region))
        tests.append(Condition(name))
    while len(tests) > MAX_OR:
        tests = [Or(*tests[:MAX_OR]), *tests[MAX_OR:]]
    return Or(*tests)
