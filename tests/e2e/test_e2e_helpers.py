"""The e2e tests' helpers (the function loader, the replacement check) and the cycle's parameter
arithmetic, without the emulator."""

from __future__ import annotations

import json
import logging
import os
import sys
from pathlib import Path

import boto3
from template_helpers import TEMPLATES

from compliance_template.function_loader import function_module
from compliance_template.generator.naming import FUNCTION_NAMES
from compliance_template.local.cycle import (
    environment,
    parameters_in_effect,
    updated_parameters,
)
from compliance_template.paths import FUNCTIONS_DIR
from compliance_template.stateful import STATEFUL_TYPES, replacing_parameters

TEMPLATE = json.loads((TEMPLATES / "compliance-monitoring.json").read_text())


def test_parameters_in_effect_are_the_given_values_over_the_defaults():
    template = {"Parameters": {"A": {"Type": "Number", "Default": 30}, "B": {"Type": "String"}}}
    assert parameters_in_effect(template, {}) == {"A": "30"}
    assert parameters_in_effect(template, {"B": "x", "Unknown": "y"}) == {"A": "30", "B": "x"}
    assert parameters_in_effect(template, {}, previous={"A": "7", "B": "x"}) == {"A": "7", "B": "x"}
    assert updated_parameters({"ReportRetentionDays": "90"})["ReportRetentionDays"] == "30"
    assert updated_parameters({"ReportRetentionDays": "30"})["ReportRetentionDays"] == "90"


def test_a_parameter_in_a_create_only_property_is_a_replacement():
    template = {
        "Resources": {
            "Logs": {
                "Type": "AWS::Logs::LogGroup",
                "Properties": {
                    "LogGroupName": {"Fn::Sub": "/x/${Prefix}"},
                    "RetentionInDays": {"Ref": "Days"},
                },
            }
        }
    }
    assert replacing_parameters(template, "Logs", {"Prefix"}) == {"LogGroupName": {"Prefix"}}
    assert replacing_parameters(template, "Logs", {"Days"}) == {}


def test_no_parameter_can_replace_a_stateful_resource_of_the_template():
    every_parameter = set(TEMPLATE["Parameters"])
    stateful = {k: r for k, r in TEMPLATE["Resources"].items() if r["Type"] in STATEFUL_TYPES}
    # Key, bucket, topic, three log groups, the dead-letter queue and the two redrive queues.
    assert len(stateful) == 9
    for logical_id in stateful:
        assert replacing_parameters(TEMPLATE, logical_id, every_parameter) == {}


def function_modules() -> dict[str, object]:
    return {
        name: module
        for name, module in sys.modules.items()
        if str(getattr(module, "__file__", "")).startswith(str(FUNCTIONS_DIR))
    }


def test_function_modules_are_isolated():
    saved_path, saved_modules = list(sys.path), function_modules()
    with function_module(FUNCTIONS_DIR / "processing") as processing:
        assert Path(processing.__file__).parent == FUNCTIONS_DIR / "processing"
        settings_of_processing = sys.modules["settings"]
    with function_module(FUNCTIONS_DIR / "reporting") as reporting:
        assert Path(reporting.__file__).parent == FUNCTIONS_DIR / "reporting"
        assert sys.modules["settings"] is not settings_of_processing
    # Those loaded before (by the function tests) are back, no other is left.
    assert function_modules() == saved_modules
    assert sys.path == saved_path


def test_each_function_log_line_is_printed_once(capsys, monkeypatch):
    """The functions share the logger `compliance`; a function imported after another must not
    find the first one's handler still attached (each would print the line again)."""
    # As in a fresh `make deploy-local`: no handler left by the function tests run before.
    monkeypatch.setattr(logging.getLogger("compliance"), "handlers", [])
    for folder in FUNCTION_NAMES:
        with function_module(FUNCTIONS_DIR / folder):
            observability = sys.modules["observability"]
            observability.configure("INFO")
            observability.get_logger(folder).info(f"hello from {folder}")
    lines = capsys.readouterr().out.splitlines()
    assert [json.loads(line)["message"] for line in lines] == [
        f"hello from {folder}" for folder in FUNCTION_NAMES
    ]


def test_environment_is_restored_with_the_default_session():
    before, session = dict(os.environ), boto3.DEFAULT_SESSION
    with environment({"ONLY": "this"}):
        assert dict(os.environ) == {"ONLY": "this"}
        assert boto3.DEFAULT_SESSION is None
    assert dict(os.environ) == before
    assert boto3.DEFAULT_SESSION is session
