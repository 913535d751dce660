"""Optional Object Lock on the reports bucket: in place, as long as the retention, caught."""

from __future__ import annotations

import copy
import json

import pytest
from template_helpers import TEMPLATES, evaluate_condition, resolve

from compliance_template.deploy.update_safety import Change, replacing_changes
from compliance_template.stateful import create_only_properties, replacing_parameters

BUCKET_TEMPLATES = ("compliance-monitoring.json", "org-central.json")


def defaults(template: dict) -> dict:
    return {name: spec.get("Default", "") for name, spec in template["Parameters"].items()}


def lock_values(mode: str, retention: str) -> dict[str, str]:
    return {"ReportObjectLockMode": mode, "ReportRetentionDays": retention}


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
        "Days": {"Ref": "ReportRetentionDays"},
    }
    parameters = template["Parameters"]
    assert parameters["ReportObjectLockMode"]["Default"] == "off"
    assert parameters["ReportObjectLockMode"]["AllowedValues"] == [
        "off",
        "GOVERNANCE",
        "COMPLIANCE",
    ]
    # One number: a version is locked exactly as long as the lifecycle keeps it.
    assert "ReportObjectLockDays" not in parameters
    assert not evaluate_condition(template, "ReportObjectLockOn", "us-east-1", defaults(template))
    on = {**defaults(template), "ReportObjectLockMode": "COMPLIANCE"}
    assert evaluate_condition(template, "ReportObjectLockOn", "us-east-1", on)


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
    changed = {"ReportObjectLockMode", "ReportRetentionDays", "ReportTables"}
    assert replacing_parameters(default_template, "ReportsBucket", changed) == {}
    reaching = copy.deepcopy(default_template)
    reaching["Resources"]["ReportsBucket"]["Properties"]["ObjectLockEnabled"] = {
        "Fn::Equals": [{"Ref": "ReportObjectLockMode"}, "COMPLIANCE"]
    }
    assert replacing_parameters(reaching, "ReportsBucket", changed) == {
        "ObjectLockEnabled": {"ReportObjectLockMode"}
    }


def test_the_lock_resolves_to_the_chosen_mode_and_the_retention(default_template):
    values = {**defaults(default_template), **lock_values("GOVERNANCE", "365")}
    bucket = default_template["Resources"]["ReportsBucket"]["Properties"]
    lock = resolve(bucket["ObjectLockConfiguration"], default_template, "eu-west-1", values)
    assert lock == {
        "ObjectLockEnabled": "Enabled",
        "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": "365"}},
    }
