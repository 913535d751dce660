"""The compliance-change event pattern matches the rule-name prefix, so its size does not grow
with the number of rules and stays within EventBridge's 2,048-character pattern quota."""

from __future__ import annotations

import json

import pytest
from template_helpers import EXAMPLES, TEMPLATES

from compliance_template.errors import SettingsError
from compliance_template.generator import limits
from compliance_template.generator.limits import (
    MAX_EVENT_PATTERN_CHARS,
    check_limits,
    worst_case_pattern_chars,
)
from compliance_template.generator.organization import build_member_template
from compliance_template.generator.settings import Settings, load_settings
from compliance_template.generator.template import build_template

ALL_RULES = load_settings(EXAMPLES / "all-rules.json")
ONE_RULE = Settings.from_mapping({"rules": ["DESIRED_INSTANCE_TYPE"]})


def _pattern(template) -> dict:
    return template.to_dict()["Resources"]["ComplianceChangeRule"]["Properties"]["EventPattern"]


def test_pattern_matches_the_rule_name_prefix():
    pattern = json.loads((TEMPLATES / "org-member.json").read_text())["Resources"][
        "ComplianceChangeRule"
    ]["Properties"]["EventPattern"]
    assert pattern == {
        "source": ["aws.config"],
        "detail-type": ["Config Rules Compliance Change"],
        "detail": {"configRuleName": [{"prefix": {"Fn::Sub": "${RuleNamePrefix}-"}}]},
    }


@pytest.mark.parametrize("build", [build_template, build_member_template])
def test_pattern_is_the_same_for_one_rule_and_for_all(build):
    assert _pattern(build(ONE_RULE)) == _pattern(build(ALL_RULES))


@pytest.mark.parametrize("build", [build_template, build_member_template])
def test_largest_accepted_configuration_fits_the_quota_at_the_longest_prefix(build):
    template = build(ALL_RULES)
    check_limits(template, "stack")  # what the generator runs
    document = template.to_dict()
    prefix_length = document["Parameters"]["RuleNamePrefix"]["MaxLength"]
    worst = worst_case_pattern_chars(_pattern(template), prefix_length)
    resolved = _pattern(template)
    resolved["detail"]["configRuleName"] = [{"prefix": "p" * prefix_length + "-"}]
    assert worst == len(json.dumps(resolved)) <= MAX_EVENT_PATTERN_CHARS


def test_generator_refuses_a_pattern_over_the_quota(monkeypatch):
    template = build_member_template(ALL_RULES)
    monkeypatch.setattr(limits, "MAX_EVENT_PATTERN_CHARS", 100)
    with pytest.raises(SettingsError, match="ComplianceChangeRule event pattern of up to"):
        check_limits(template, "org-member")
