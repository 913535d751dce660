"""Conformance-pack parameters are strings, as AWS documents and AWS's own sample packs write
them (ConformancePackInputParameter: ParameterName and ParameterValue are strings); a numeric
range is kept as an AllowedPattern that accepts exactly the whole numbers in it."""

from __future__ import annotations

import json
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st
from template_helpers import TEMPLATES, pack_bodies, pack_of

from compliance_template.generator.conformance_pack import pack_parameter, whole_number_pattern
from compliance_template.generator.settings import Settings, rule_parameter_specs

PACKS = ["conformance-pack.json", "org-conformance-pack.json"]


def _parameter_sections(name: str) -> list[dict]:
    template = json.loads((TEMPLATES / name).read_text(encoding="utf-8"))
    pack = pack_of(template)
    return [template["Parameters"], *(json.loads(b)["Parameters"] for b in pack_bodies(pack))]


@pytest.mark.parametrize("name", PACKS)
def test_pack_parameters_are_strings_without_numeric_bounds(name):
    for parameters in _parameter_sections(name):
        for parameter_name, spec in parameters.items():
            assert spec["Type"] == "String", parameter_name
            assert "MinValue" not in spec and "MaxValue" not in spec, parameter_name


@pytest.mark.parametrize("name", PACKS)
def test_backup_retention_keeps_its_range_as_a_pattern(name):
    for parameters in _parameter_sections(name):
        spec = parameters["BackupRetentionMinimum"]
        assert spec["Default"] == "7"
        pattern = spec["AllowedPattern"]
        accepted = [n for n in range(0, 100) if re.fullmatch(pattern, str(n))]
        assert accepted == list(range(1, 36))
        assert not re.fullmatch(pattern, "07") and not re.fullmatch(pattern, "7.0")
        assert spec["ConstraintDescription"] == "a whole number from 1 to 35"


def test_a_number_parameter_becomes_a_string_one_and_others_stay_as_they_are():
    specs = {spec.name: spec for spec in rule_parameter_specs(Settings().selection)}
    converted = pack_parameter(specs["BackupRetentionMinimum"])
    assert (converted.cfn_type, converted.min_value, converted.max_value) == ("String", None, None)
    assert pack_parameter(specs["AllowedInstanceTypes"]) == specs["AllowedInstanceTypes"]


@given(st.integers(0, 5000), st.integers(0, 5000), st.integers(0, 6000))
def test_whole_number_pattern_matches_exactly_the_range(low, span, number):
    high = low + span
    pattern = whole_number_pattern(low, high)
    assert bool(re.fullmatch(pattern, str(number))) == (low <= number <= high)
    assert not re.fullmatch(pattern, f"0{number}")  # no leading zeros
