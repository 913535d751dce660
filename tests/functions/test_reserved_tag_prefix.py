"""One rule for the reserved aws: tag prefix, in the generator, the template, the deploy check and
the remediation function (which cannot import the package): each accepts only keys the next
one accepts, and all refuse aws: in any letter case."""

from __future__ import annotations

import json
import re

import pytest
import settings as function_settings
from template_helpers import TEMPLATES

from compliance_template.deploy.inputs import load_inputs
from compliance_template.errors import SettingsError
from compliance_template.generator import parameters
from compliance_template.generator.settings import Settings

RESERVED = ["aws:exempt", "AWS:exempt", "Aws:Exempt", "aWS:x", "aws:"]
ALLOWED = ["compliance:exempt", "awsx", "my aws:key", "owner/team=x+y@z.-_:", "a" * 128]
TOO_LONG = ["a" * 129]


def template_accepts(key: str) -> bool:
    template = json.loads((TEMPLATES / "compliance-monitoring.json").read_text())
    pattern = template["Parameters"]["ExemptionTagKey"]["AllowedPattern"]
    return re.fullmatch(pattern, key) is not None


def generator_accepts(key: str) -> bool:
    try:
        Settings.from_mapping({"parameter_defaults": {"ExemptionTagKey": key}})
    except SettingsError:
        return False
    return True


def deploy_check_accepts(key: str, tmp_path) -> bool:
    path = tmp_path / "parameters.json"
    path.write_text(json.dumps({"Parameters": {"ExemptionTagKey": key}}))
    try:
        load_inputs(TEMPLATES / "compliance-monitoring.json", path)
    except SettingsError:
        return False
    return True


def remediation_accepts(key: str) -> bool:
    try:
        function_settings.tag_key({"EXEMPTION_TAG_KEY": key}, "EXEMPTION_TAG_KEY", "unused")
    except function_settings.ConfigurationError:
        return False
    return True


def test_the_prefix_is_the_same_constant_in_the_package_and_the_functions():
    assert parameters.RESERVED_TAG_PREFIX == function_settings.RESERVED_TAG_PREFIX == "aws:"


@pytest.mark.parametrize("key", RESERVED + ALLOWED + TOO_LONG)
def test_every_check_agrees_on_exemption_tag_keys(key, tmp_path):
    verdicts = {
        "generator": generator_accepts(key),
        "template": template_accepts(key),
        "deploy check": deploy_check_accepts(key, tmp_path),
        "remediation": remediation_accepts(key),
    }
    expected = key in ALLOWED
    assert verdicts == dict.fromkeys(verdicts, expected), key
