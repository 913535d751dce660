"""One template for every region: rules AWS does not offer in a region are not deployed there."""

from __future__ import annotations

import json

import pytest
from template_helpers import evaluate_condition, resolve, resources_of

from compliance_template.catalog import BY_IDENTIFIER, CATALOG

REGIONS = ("us-east-1", "eu-west-1", "ap-southeast-4", "af-south-1", "me-central-1", "eu-south-2")


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


def test_rule_conditions_cover_long_region_lists(all_rules_template):
    restricted = all_rules_template["Resources"]["RestrictedIncomingTrafficRule"]
    assert restricted["Condition"] == "RestrictedIncomingTrafficAvailable"
    parameters = defaults(all_rules_template)
    for region in BY_IDENTIFIER["RESTRICTED_INCOMING_TRAFFIC"].unavailable_regions:
        assert not evaluate_condition(
            all_rules_template, "RestrictedIncomingTrafficAvailable", region, parameters
        )
