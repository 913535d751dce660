"""Config rule names stay within what the reporting API reads: GetComplianceDetailsByConfigRule
takes names of at most 64 characters (botocore's model), although PutConfigRule accepts 128. The
RuleNamePrefix is constrained from the longest rule name of each template."""

from __future__ import annotations

import gzip
import json
from importlib.resources import files

import pytest
from template_helpers import TEMPLATES

from compliance_template.deploy.inputs import load_inputs
from compliance_template.deploy.preflight import AccountFacts, Status, check_rule_names
from compliance_template.errors import SettingsError
from compliance_template.generator.catalog import BY_IDENTIFIER
from compliance_template.generator.naming import MAX_RULE_NAME
from compliance_template.generator.settings import Settings

LONGEST_SLUG = "s3-bucket-server-side-encryption-enabled"  # 40 characters


def _config_model() -> dict:
    (path,) = files("botocore").joinpath("data/config/2014-11-12").glob("service-2.json*")
    data = path.read_bytes()
    return json.loads(gzip.decompress(data) if path.name.endswith(".gz") else data)


def test_reporting_reads_names_of_at_most_64_characters():
    model = _config_model()
    request = model["shapes"][
        model["operations"]["GetComplianceDetailsByConfigRule"]["input"]["shape"]
    ]
    shape = model["shapes"][request["members"]["ConfigRuleName"]["shape"]]
    assert shape["max"] == MAX_RULE_NAME == 64
    assert model["shapes"]["ConfigRuleName"]["max"] == 128  # what PutConfigRule accepts


@pytest.mark.parametrize(
    "path",
    [p for p in sorted(TEMPLATES.glob("*.json")) if '"RuleNamePrefix"' in p.read_text()],
    ids=lambda p: p.name,
)
def test_template_prefix_leaves_room_for_its_longest_rule_name(path):
    template = json.loads(path.read_text(encoding="utf-8"))
    spec = template["Parameters"]["RuleNamePrefix"]
    slugs = [
        rule["Properties"]["ConfigRuleName"]["Fn::Sub"].removeprefix("${RuleNamePrefix}-")
        for rule in template["Resources"].values()
        if rule["Type"] == "AWS::Config::ConfigRule"
    ] or [BY_IDENTIFIER[i].slug for i in _described(template)]
    assert spec["MaxLength"] == min(40, MAX_RULE_NAME - 1 - max(map(len, slugs)))
    assert spec["MaxLength"] + 1 + max(map(len, slugs)) <= MAX_RULE_NAME
    assert str(spec["MaxLength"]) in spec["ConstraintDescription"]


def _described(template: dict) -> list[str]:
    """The rules a conformance-pack template names in its description (its rules are in the
    pack body, not resources)."""
    return template["Description"].split("rules: ", 1)[1].rstrip(")").split(", ")


def test_generator_refuses_a_prefix_that_makes_a_name_too_long():
    longest = "p" * (MAX_RULE_NAME - 1 - len(LONGEST_SLUG))
    Settings.from_mapping({"parameter_defaults": {"RuleNamePrefix": longest}})
    with pytest.raises(SettingsError) as caught:
        Settings.from_mapping({"parameter_defaults": {"RuleNamePrefix": longest + "p"}})
    assert str(caught.value) == (
        f'parameter_defaults.RuleNamePrefix: "{longest}p" is not allowed; 1-23 letters, digits '
        "or hyphens, starting with a letter (rule names <prefix>-<rule> of at most 64 "
        "characters, the longest rule being s3-bucket-server-side-encryption-enabled)"
    )


def test_a_short_rule_set_keeps_the_40_character_prefix():
    settings = Settings.from_mapping(
        {"rules": ["DESIRED_INSTANCE_TYPE"], "parameter_defaults": {"RuleNamePrefix": "p" * 40}}
    )
    assert settings.parameter_defaults["RuleNamePrefix"] == "p" * 40
    with pytest.raises(SettingsError, match="1-40 letters"):
        Settings.from_mapping(
            {"rules": ["DESIRED_INSTANCE_TYPE"], "parameter_defaults": {"RuleNamePrefix": "p" * 41}}
        )


def test_deploy_inputs_refuse_a_prefix_over_the_template_maximum(tmp_path):
    path = tmp_path / "parameters.json"
    path.write_text(json.dumps({"Parameters": {"RuleNamePrefix": "p" * 24}}))
    with pytest.raises(SettingsError) as caught:
        load_inputs(TEMPLATES / "compliance-monitoring.json", path)
    assert str(caught.value).startswith(
        'Parameters.RuleNamePrefix: "' + "p" * 24 + '" is not allowed; 1-23'
    )


def test_preflight_refuses_names_over_64_from_a_template_without_the_constraint(tmp_path):
    template = json.loads((TEMPLATES / "compliance-monitoring.json").read_text(encoding="utf-8"))
    del template["Parameters"]["RuleNamePrefix"]["MaxLength"]  # as generated before the fix
    older = tmp_path / "older.json"
    older.write_text(json.dumps(template))
    path = tmp_path / "parameters.json"
    path.write_text(json.dumps({"Parameters": {"RuleNamePrefix": "p" * 30}}))
    (finding,) = check_rule_names(load_inputs(older, path), AccountFacts(region="eu-west-1"))
    assert finding.status is Status.ERROR
    assert f"{'p' * 30}-{LONGEST_SLUG}" in finding.detail and "64" in finding.detail
    (ok,) = check_rule_names(load_inputs(older, None), AccountFacts(region="eu-west-1"))
    assert ok.status is Status.OK
