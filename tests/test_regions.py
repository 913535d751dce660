"""One template for every region: rules AWS does not offer in a region are not deployed there."""

from __future__ import annotations

import dataclasses

import pytest
from template_helpers import LINT_REGIONS, evaluate_condition, resolve, resources_of
from troposphere import Template

from compliance_template.generator.catalog import BY_IDENTIFIER, CATALOG, FACTS_REGIONS
from compliance_template.generator.limits import worst_case_environment_bytes
from compliance_template.generator.regions import MAX_OR, add_region_conditions, condition_name
from compliance_template.generator.ssm_documents import rule_remediations

REGIONS = LINT_REGIONS


def defaults(template: dict) -> dict:
    return {name: spec["Default"] for name, spec in template["Parameters"].items()}


@pytest.mark.parametrize("region", REGIONS)
@pytest.mark.parametrize("kind", ["all-rules", "framework"])
def test_rules_deploy_exactly_where_aws_offers_them(
    all_rules_template, framework_template, kind, region
):
    template = all_rules_template if kind == "all-rules" else framework_template
    parameters = defaults(template)
    for rule in resources_of(template, "AWS::Config::ConfigRule").values():
        entry = BY_IDENTIFIER[rule["Properties"]["Source"]["SourceIdentifier"]]
        condition = rule.get("Condition")
        deployed = condition is None or evaluate_condition(template, condition, region, parameters)
        assert deployed == entry.available_in(region), (entry.identifier, region)


@pytest.mark.parametrize("region", REGIONS)
def test_rule_names_output_lists_the_rules_deployed_in_the_region(all_rules_template, region):
    parameters = defaults(all_rules_template)
    output = all_rules_template["Outputs"]["ConfigRuleNames"]["Value"]
    names = resolve(output, all_rules_template, region, parameters).split(",")
    expected = [f"compliance-{rule.slug}" for rule in CATALOG if rule.available_in(region)]
    assert sorted(name for name in names if name) == sorted(
        name for name in expected if name.removeprefix("compliance-") in _slugs(all_rules_template)
    )


def _slugs(template: dict) -> set[str]:
    return {
        rule["Properties"]["ConfigRuleName"]["Fn::Sub"].removeprefix("${RuleNamePrefix}-")
        for rule in resources_of(template, "AWS::Config::ConfigRule").values()
    }


def test_functions_configuration_does_not_grow_with_the_rule_count(
    default_template, framework_template
):
    """A 130-rule stack gives its functions the same variables as a 4-rule one."""
    for function in ("ProcessingFunction", "ReportingFunction", "RemediationFunction"):
        small = default_template["Resources"][function]["Properties"]["Environment"]["Variables"]
        large = framework_template["Resources"][function]["Properties"]["Environment"]["Variables"]
        # The default stack has two more: inputs of its curated rules remediation re-checks.
        assert set(large) <= set(small), function
        growth = worst_case_environment_bytes(large) - worst_case_environment_bytes(small)
        # SSM_REMEDIATION names the rules whose engine is ssm: it grows with the runbooks AWS
        # owns (an entry per rule of the remediation facts, at most), not with the rule count.
        ssm_entries = len(rule_remediations()) * len(
            '"S3_BUCKET_SERVER_SIDE_ENCRYPTION_ENABLED":"processing",'
        )
        assert growth <= len(large["FRAMEWORKS"]) + ssm_entries, function
        assert "RULES" not in large
        assert large["RULE_NAME_PREFIX"] == {"Ref": "RuleNamePrefix"}
        assert large["FRAMEWORKS"] == "nist-800-53-rev-5"


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
    name = condition_name(rule)
    condition = document["Conditions"][name]
    assert len(condition["Fn::Not"][0]["Fn::Or"]) <= MAX_OR
    for region in missing:
        assert not evaluate_condition(document, name, region, {})
    assert evaluate_condition(document, name, "us-east-1", {})
