"""One template for every region: rules AWS does not offer in a region are not deployed there."""

from __future__ import annotations

import dataclasses
import json

import pytest
from template_helpers import LINT_REGIONS, evaluate_condition, resolve, resources_of
from troposphere import Template

from compliance_template.generator.catalog import BY_IDENTIFIER, CATALOG, FACTS_REGIONS
from compliance_template.generator.regions import MAX_OR, add_region_conditions

REGIONS = LINT_REGIONS


def defaults(template: dict) -> dict:
    return {name: spec["Default"] for name, spec in template["Parameters"].items()}


@pytest.mark.parametrize("region", REGIONS)
def test_rules_deploy_exactly_where_aws_offers_them(all_rules_template, region):
    parameters = defaults(all_rules_template)
    for rule in resources_of(all_rules_template, "AWS::Config::ConfigRule").values():
        entry = BY_IDENTIFIER[rule["Properties"]["Source"]["SourceIdentifier"]]
        condition = rule.get("Condition")
        deployed = condition is None or evaluate_condition(
            all_rules_template, condition, region, parameters
        )
        assert deployed == entry.available_in(region), (entry.identifier, region)


@pytest.mark.parametrize("region", REGIONS)
def test_function_rule_list_is_valid_json_of_the_deployed_rules(all_rules_template, region):
    parameters = defaults(all_rules_template)
    variables = all_rules_template["Resources"]["ProcessingFunction"]["Properties"]["Environment"]
    rules = json.loads(
        resolve(variables["Variables"]["RULES"], all_rules_template, region, parameters)
    )
    expected = {
        f"compliance-{rule.slug}": rule.identifier for rule in CATALOG if rule.available_in(region)
    }
    assert rules == expected


def test_per_rule_alarms_follow_their_rule(all_rules_template):
    rules = resources_of(all_rules_template, "AWS::Config::ConfigRule")
    for name, rule in rules.items():
        alarm = all_rules_template["Resources"][name.removesuffix("Rule") + "NonCompliantAlarm"]
        assert alarm.get("Condition") == rule.get("Condition"), name


def test_rule_conditions_cover_long_region_lists():
    """Fn::Or takes at most 10 conditions: a longer region list is nested, and still exact."""
    missing = tuple(sorted(FACTS_REGIONS - {"us-east-1"}))[: MAX_OR + 3]
    restricted = BY_IDENTIFIER["RESTRICTED_INCOMING_TRAFFIC"]
    rule = dataclasses.replace(restricted, unavailable_regions=missing)
    template = Template()
    add_region_conditions(template, (rule,))
    document = template.to_dict()
    condition = document["Conditions"]["RestrictedIncomingTrafficAvailable"]
    assert len(condition["Fn::Not"][0]["Fn::Or"]) <= MAX_OR
    for region in missing:
        assert not evaluate_condition(document, "RestrictedIncomingTrafficAvailable", region, {})
    assert evaluate_condition(document, "RestrictedIncomingTrafficAvailable", "us-east-1", {})
