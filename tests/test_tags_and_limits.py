"""Tags on everything taggable, and the AWS limits the generated template has to stay within."""

from __future__ import annotations

import json
import re
from functools import cache
from importlib.resources import files

from compliance_template.generator.catalog import CATALOG
from compliance_template.generator.limits import (
    LONGEST_ARN,
    MAX_ENVIRONMENT_BYTES,
    worst_case_environment_bytes,
)
from compliance_template.generator.naming import MAX_RULE_NAME
from compliance_template.generator.parameters import RULE_PREFIX_PATTERN, rule_name_prefix
from compliance_template.generator.settings import DEFAULT_TAGS

SCHEMAS = files("cfnlint").joinpath("data/schemas")
MAX_PREFIX = 40


@cache
def taggable(resource_type: str) -> bool:
    """Whether CloudFormation's own resource schema gives the type a Tags property."""
    providers = json.loads(SCHEMAS.joinpath("providers/us-east-1.json").read_text())
    schema = json.loads(SCHEMAS.joinpath(f"resources/{providers[resource_type]}.json").read_text())
    return "Tags" in schema["properties"]


def test_every_taggable_resource_carries_the_tags(any_template):
    tagged = 0
    for name, resource in any_template["Resources"].items():
        if not taggable(resource["Type"]):
            assert "Tags" not in resource.get("Properties", {}), name
            continue
        tags = {t["Key"]: t["Value"] for t in resource["Properties"]["Tags"]}
        assert DEFAULT_TAGS.items() <= tags.items(), name
        tagged += 1
    assert tagged >= 15


def test_config_rule_names_fit_at_the_longest_prefix():
    assert re.fullmatch(RULE_PREFIX_PATTERN, "p" * MAX_PREFIX)
    for rule in CATALOG:
        # Alone, each rule allows the prefix that reaches the limit the report can read.
        room = rule_name_prefix([rule]).max_length
        assert room + 1 + len(rule.slug) <= MAX_RULE_NAME, rule.identifier
        assert room == MAX_PREFIX or room + 1 + len(rule.slug) == MAX_RULE_NAME, rule.identifier


def test_logical_ids_are_alphanumeric_and_fit(any_template):
    for name in any_template["Resources"]:
        assert name.isalnum() and len(name) <= 255, name


def test_function_environment_fits_lambdas_4_kb_at_the_longest_names(all_rules_template):
    for name in ("Processing", "Reporting", "Remediation"):
        variables = all_rules_template["Resources"][f"{name}Function"]["Properties"]["Environment"]
        assert worst_case_environment_bytes(variables["Variables"]) <= MAX_ENVIRONMENT_BYTES, name


def test_worst_case_environment_takes_the_longest_branch_prefix_and_arn():
    entry = {"Fn::Sub": '"${RuleNamePrefix}-encrypted-volumes":"ENCRYPTED_VOLUMES"'}
    rules = {
        "Fn::Join": [
            "",
            ["{", {"Fn::Join": [",", [{"Fn::If": ["C", entry, {"Ref": "AWS::NoValue"}]}]]}, "}"],
        ]
    }
    expected_rules = '{"' + "p" * MAX_PREFIX + '-encrypted-volumes":"ENCRYPTED_VOLUMES"}'
    variables = {"RULES": rules, "TOPIC_ARN": {"Ref": "Topic"}, "MODE": "dry-run"}
    assert worst_case_environment_bytes(variables) == (
        len("RULES") + len(expected_rules) + len("TOPIC_ARN") + len(LONGEST_ARN) + len("MODE") + 7
    )


def test_template_stays_far_from_cloudformation_limits(all_rules_template):
    size = len(json.dumps(all_rules_template, indent=2))
    assert size < 1_000_000
    assert len(all_rules_template["Resources"]) < 500
    assert len(all_rules_template["Parameters"]) < 200
    assert len(all_rules_template["Outputs"]) < 200
