"""Condition names are their own: none is also a parameter, resource, mapping or output name.

CloudFormation keeps conditions in a separate namespace, but other engines and tools resolve a
shared name ambiguously (cfn-lint rule W9013 reports it for any template)."""

from __future__ import annotations

import json

import pytest
from template_helpers import TEMPLATES

from compliance_template.cfn_rules.condition_name_shadows import OTHER_SECTIONS
from compliance_template.generator.catalog import CATALOG
from compliance_template.generator.conditions import DEFINITIONS
from compliance_template.generator.frameworks import frameworks
from compliance_template.generator.regions import condition_name, region_condition


@pytest.mark.parametrize("path", sorted(TEMPLATES.glob("*.json")), ids=lambda p: p.name)
def test_no_condition_shares_a_name_with_another_section(path):
    template = json.loads(path.read_text(encoding="utf-8"))
    shared = {
        (name, section)
        for name in template.get("Conditions", {})
        for section in OTHER_SECTIONS
        if name in template.get(section, {})
    }
    assert shared == set()


def test_recorder_and_cross_region_conditions_test_their_parameters():
    template = json.loads((TEMPLATES / "compliance-monitoring.json").read_text(encoding="utf-8"))
    conditions = template["Conditions"]
    assert conditions["RecorderRequested"] == {
        "Fn::Equals": [{"Ref": "CreateConfigRecorder"}, "true"]
    }
    assert conditions["ReportReadsAggregator"] == {
        "Fn::Equals": [{"Ref": "ReportAcrossRegions"}, "true"]
    }


@pytest.mark.parametrize("path", sorted(TEMPLATES.glob("*.json")), ids=lambda p: p.name)
def test_each_condition_is_the_one_declared_for_its_name(path):
    """A condition that two templates share is declared once (conditions.DEFINITIONS); only the
    region conditions come from the catalog, and a framework's own conditions from its pack
    (as the pack declares them)."""
    template = json.loads(path.read_text(encoding="utf-8"))
    regional = {condition_name(rule) for rule in CATALOG} - {None}
    packs = {
        name: body
        for framework in frameworks().values()
        for name, body in framework.conditions.items()
    }
    for name, expression in template.get("Conditions", {}).items():
        if name in regional:
            continue
        if name in packs:
            assert expression == packs[name], name
            continue
        if name.startswith("InRegion"):
            (region,) = [r for r in expression["Fn::Equals"] if isinstance(r, str)]
            assert name == region_condition(region), name
            continue
        if name.endswith("Deployed"):
            # A pack's conditional rule AWS lacks in some regions: both conditions joined.
            assert set(expression) == {"Fn::And"}, name
            continue
        assert name in DEFINITIONS, f"{path.name}: {name} is not declared in conditions.py"
        assert expression == json.loads(json.dumps(DEFINITIONS[name]().to_dict())), name
