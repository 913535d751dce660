"""Facts the functions must agree on with the template, written on both sides of the package
boundary (the functions run without this package): each copy is tied to the other here."""

from __future__ import annotations

import sys

from conftest import load_app

from compliance_template.generator.catalog import INSTANCE_TYPES_PATTERN
from compliance_template.generator.naming import FINDING_TAG_KEY


def remediation_module(name: str):
    load_app("remediation")  # puts the remediation folder's modules on the path
    __import__(name)
    return sys.modules[name]


def test_the_finding_tag_key_is_the_one_the_role_may_write():
    rule = remediation_module("rules.desired_instance_type")
    assert rule.FINDING_TAG_KEY == FINDING_TAG_KEY


def test_allowed_instance_types_are_read_with_the_parameters_pattern():
    findings = remediation_module("findings")
    assert f"^{findings._INSTANCE_TYPES.pattern}$" == INSTANCE_TYPES_PATTERN
