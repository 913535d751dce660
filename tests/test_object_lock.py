"""Optional Object Lock on the reports bucket: in place, bounded by the retention, caught."""

from __future__ import annotations

import copy
import json

import pytest
from template_helpers import TEMPLATES, evaluate_condition, resolve

from compliance_template.deploy.inputs import check_rules
from compliance_template.deploy.update_safety import Change, replacing_changes
from compliance_template.errors import SettingsError
from compliance_template.generator.parameters import OBJECT_LOCK_DAYS
from compliance_template.generator.storage import LOCK_DAYS_RULE
from compliance_template.stateful import create_only_properties, replacing_parameters

BUCKET_TEMPLATES = ("compliance-monitoring.json", "org-central.json")


def defaults(template: dict) -> dict:
    return {name: spec.get("Default", "") for name, spec in template["Parameters"].items()}


def lock_values(mode: str, days: str, retention: str) -> dict[str, str]:
    return {
        "ReportObjectLockMode": mode,
        "ReportObjectLockDays": days,
        "ReportRetentionDays": retention,
    }


@pytest.mark.parametrize("name", BUCKET_TEMPLATES)
def test_lock_is_off_by_default_and_only_the_nested_configuration_is_set(name):
    template = json.loads((TEMPLATES / name).read_text())
    bucket = template["Resources"]["ReportsBucket"]["Properties"]
    # The top-level ObjectLockEnabled replaces the bucket when it changes: never set.
    assert "ObjectLockEnabled" not in bucket
    lock = bucket["ObjectLockConfiguration"]["Fn::If"]
    assert lock[0] == "ReportObjectLockOn" and lock[2] == {"Ref": "AWS::NoValue"}
    assert lock[1]["Rule"]["DefaultRetention"] == {
        "Mode": {"Ref": "ReportObjectLockMode"},
        "Days": {"Ref": "ReportObjectLockDays"},
    }
    parameters = template["Parameters"]
    assert parameters["ReportObjectLockMode"]["Default"] == "off"
    assert parameters["ReportObjectLockMode"]["AllowedValues"] == [
        "off",
        "GOVERNANCE",
        "COMPLIANCE",
    ]
    assert parameters["ReportObjectLockDays"]["Default"] == "30"
    assert not evaluate_condition(template, "ReportObjectLockOn", "us-east-1", defaults(template))
    on = {**defaults(template), "ReportObjectLockMode": "COMPLIANCE"}
    assert evaluate_condition(template, "ReportObjectLockOn", "us-east-1", on)


def test_lock_days_span_one_day_to_ten_years():
    assert OBJECT_LOCK_DAYS[0] == 1 and OBJECT_LOCK_DAYS[-1] == 3650
    assert list(OBJECT_LOCK_DAYS) == sorted(set(OBJECT_LOCK_DAYS))


@pytest.mark.parametrize("days", OBJECT_LOCK_DAYS)
def test_the_rule_accepts_a_lock_up_to_the_retention_and_refuses_a_longer_one(
    default_template, days
):
    rules = {LOCK_DAYS_RULE: default_template["Rules"][LOCK_DAYS_RULE]}
    check_rules(rules, lock_values("GOVERNANCE", str(days), str(days)))
    check_rules(rules, lock_values("GOVERNANCE", str(days), "3650"))
    if days > 1:
        with pytest.raises(SettingsError, match="ReportRetentionDays of at least"):
            check_rules(rules, lock_values("COMPLIANCE", str(days), str(days - 1)))
        with pytest.raises(SettingsError, match="ReportObjectLockDays"):
            check_rules(rules, lock_values("COMPLIANCE", str(days), "1"))


def test_the_rule_does_not_apply_while_the_lock_is_off(default_template):
    rules = {LOCK_DAYS_RULE: default_template["Rules"][LOCK_DAYS_RULE]}
    check_rules(rules, lock_values("off", "3650", "1"))


def test_every_retention_value_is_listed_once_so_the_rule_stays_small(default_template):
    listed = [
        value
        for assertion in default_template["Rules"][LOCK_DAYS_RULE]["Assertions"]
        for value in assertion["Assert"]["Fn::Or"][1]["Fn::Not"][0]["Fn::Contains"][0]
    ]
    assert listed == [str(d) for d in range(1, OBJECT_LOCK_DAYS[-1])]


def test_top_level_object_lock_enabled_counts_as_replacing():
    assert "ObjectLockEnabled" in create_only_properties("AWS::S3::Bucket")


def test_update_safety_catches_a_template_that_sets_top_level_object_lock_enabled(default_template):
    after = copy.deepcopy(default_template)
    after["Resources"]["ReportsBucket"]["Properties"]["ObjectLockEnabled"] = True
    assert replacing_changes(default_template, after) == [
        Change("ReportsBucket", "ObjectLockEnabled")
    ]


def test_turning_the_lock_on_changes_only_in_place_properties(default_template):
    """The local cycle and the deploy tooling ask replacing_parameters: the lock's parameters
    reach no property that replaces the bucket."""
    changed = {"ReportObjectLockMode", "ReportObjectLockDays", "ReportTables"}
    assert replacing_parameters(default_template, "ReportsBucket", changed) == {}
    reaching = copy.deepcopy(default_template)
    reaching["Resources"]["ReportsBucket"]["Properties"]["ObjectLockEnabled"] = {
        "Fn::Equals": [{"Ref": "ReportObjectLockMode"}, "COMPLIANCE"]
    }
    assert replacing_parameters(reaching, "ReportsBucket", changed) == {
        "ObjectLockEnabled": {"ReportObjectLockMode"}
    }


def test_the_lock_resolves_to_the_chosen_mode_and_days(default_template):
    values = {**defaults(default_template), **lock_values("GOVERNANCE", "90", "365")}
    bucket = default_template["Resources"]["ReportsBucket"]["Properties"]
    lock = resolve(bucket["ObjectLockConfiguration"], default_template, "eu-west-1", values)
    assert lock == {
        "ObjectLockEnabled": "Enabled",
        "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": "90"}},
    }
