"""Frameworks: each one's generated rules are AWS's pack, rule for rule; unions merge or refuse
with both names; `--list-frameworks` lists every pack."""

from __future__ import annotations

import json
import re
from collections import Counter

import pytest
from template_helpers import resources_of

from compliance_template.errors import SettingsError
from compliance_template.generator.catalog import BY_IDENTIFIER, Trigger
from compliance_template.generator.cli import main
from compliance_template.generator.frameworks import DATA_FILE, PROCESS_CHECK, frameworks
from compliance_template.generator.settings import Settings
from compliance_template.generator.template import build_template
from compliance_template.output import render

FRAMEWORKS = sorted(frameworks())
DATA = json.loads(DATA_FILE.read_text(encoding="utf-8"))["frameworks"]


def _rules_of(template: dict) -> list[dict]:
    return list(resources_of(template, "AWS::Config::ConfigRule").values())


def _stack(name: str) -> dict:
    return json.loads(render(build_template(Settings.from_mapping({"frameworks": [name]})), "json"))


def test_every_pack_is_a_framework():
    # 123 files less the README, a .yaml/.yml pair counted once and two more such pairs.
    assert len(FRAMEWORKS) == len(DATA) == 120
    names = {record["file"] for record in DATA.values()}
    assert "Operational-Best-Practices-for-HIPAA-Security.yaml" in names


@pytest.mark.parametrize(
    ("file", "name"),
    [
        ("Operational-Best-Practices-for-HIPAA-Security.yaml", "hipaa-security"),
        ("Operational-Best-Practices-for-CIS-AWS-v1.4-Level1.yaml", "cis-aws-v1.4-level1"),
        ("AWS-Control-Tower-Detective-Guardrails.yaml", "aws-control-tower-detective-guardrails"),
        ("Operational-Best-Practices-For-NIST-800-181.yaml", "nist-800-181"),
    ],
)
def test_framework_names_come_from_the_pack_file(file, name):
    assert DATA[name]["file"] == file


def test_list_frameworks_prints_name_then_rule_count(capsys):
    assert main(["--list-frameworks"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == len(FRAMEWORKS)
    for line, name in zip(lines, FRAMEWORKS, strict=True):
        first, count, *_ = line.split()
        assert first == name and int(count) == len(DATA[name]["rules"])
    assert any(re.match(r"nist-800-53-rev-5\s+130\s", line) for line in lines)


def test_show_framework_lists_its_rules_and_parameters(capsys):
    assert main(["--show-framework", "cis-aws-v1.4-level1"]) == 0
    out = capsys.readouterr().out
    assert "rule access-keys-rotated" in out and "ACCESS_KEYS_ROTATED" in out
    assert "parameter AccessKeysRotatedParamMaxAccessKeyAge = '90'" in out
    assert main(["--show-framework", "hipaa"]) == 2
    assert "--list-frameworks" in capsys.readouterr().err


@pytest.mark.parametrize("name", FRAMEWORKS)
def test_generated_rules_are_the_packs_rules(name):
    """Same identifiers as often as the pack uses them, the same input keys and values, scope
    and frequency only where the pack has them, the pack's conditions on its conditional rules."""
    pack = DATA[name]
    template = _stack(name)
    rules = _rules_of(template)
    assert Counter(r["Properties"]["Source"]["SourceIdentifier"] for r in rules) == Counter(
        r["identifier"] for r in pack["rules"]
    )
    by_name = {
        r["Properties"]["ConfigRuleName"]["Fn::Sub"].removeprefix("${RuleNamePrefix}-"): r
        for r in rules
    }
    for pack_rule, ours in zip(frameworks()[name].rules, pack["rules"], strict=True):
        deployed = by_name[pack_rule.suffix]
        properties = deployed["Properties"]
        assert properties.get("InputParameters", {}) == _as_strings(ours.get("inputs") or {}), (
            pack_rule
        )
        facts = BY_IDENTIFIER[pack_rule.identifier]
        triggers = facts.triggers if facts.facts.triggers_verified else None
        # A scope on a verified periodic-only rule (or a frequency on a change-only one) is
        # left out: Config rejects it; everything else is the pack's.
        scope = None if triggers == {Trigger.PERIODIC} else ours.get("scope")
        frequency = ours.get("frequency")
        if triggers is not None and Trigger.PERIODIC not in triggers:
            frequency = None
        assert properties.get("Scope") == scope, pack_rule
        assert properties.get("MaximumExecutionFrequency") == frequency, pack_rule
        if "condition" in ours:
            condition = deployed["Condition"]
            assert condition == ours["condition"] or ours["condition"] in json.dumps(
                template["Conditions"][condition]
            ), pack_rule
    for parameter, declared in pack["parameters"].items():
        if parameter in template["Parameters"]:
            assert template["Parameters"][parameter].get("Default") == declared.get("Default")


def _as_strings(inputs: dict) -> dict:
    """The pack's inputs as Config takes them: a YAML number or boolean as its string."""
    if len(inputs) == 1 and next(iter(inputs)).startswith("Fn::"):
        return inputs
    return {key: _as_config_string(value) for key, value in inputs.items()}


def _as_config_string(value: object) -> object:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, str) and value.startswith("arn:aws:"):
        # The same ARN in the stack's partition.
        return {"Fn::Sub": "arn:${AWS::Partition}:" + value.removeprefix("arn:aws:")}
    return value


def test_manual_controls_are_deployed_one_per_control():
    template = _stack("cis-aws-v1.4-level1")
    manual = [
        r
        for r in _rules_of(template)
        if r["Properties"]["Source"]["SourceIdentifier"] == PROCESS_CHECK
    ]
    expected = [r for r in DATA["cis-aws-v1.4-level1"]["rules"] if r["identifier"] == PROCESS_CHECK]
    assert len(manual) == len(expected) > 1
    assert len({r["Properties"]["ConfigRuleName"]["Fn::Sub"] for r in manual}) == len(manual)


def test_a_rule_used_twice_in_a_pack_is_deployed_twice():
    rules = _rules_of(_stack("nist-csf"))
    ports = [
        r
        for r in rules
        if r["Properties"]["Source"]["SourceIdentifier"] == "RESTRICTED_INCOMING_TRAFFIC"
    ]
    assert len(ports) == 2
    inputs = [rule["Properties"].get("InputParameters") for rule in ports]
    assert inputs[0] != inputs[1]


def test_pack_conditions_and_parameters_come_along():
    template = _stack("nzism-extension")
    assert "CheckForAlbWafEnabled" in template["Parameters"]
    assert template["Conditions"]["checkAlbWafEnabled"] == {
        "Fn::Equals": [{"Ref": "CheckForAlbWafEnabled"}, "true"]
    }
    waf = template["Resources"]["AlbWafEnabledRule"]
    assert "checkAlbWafEnabled" in (
        waf["Condition"] + json.dumps(template["Conditions"].get(waf["Condition"], {}))
    )


def test_a_custom_rule_of_a_pack_is_not_deployed_and_its_parameter_not_asked_for():
    template = _stack("custom-conformance-pack")
    assert "CustomConfigRuleLambdaArn" not in template["Parameters"]
    assert len(_rules_of(template)) == 2


def test_frameworks_and_rules_combine_without_duplicates():
    settings = Settings.from_mapping(
        {
            "frameworks": ["cis-aws-v1.4-level1"],
            "rules": ["IAM_PASSWORD_POLICY", "DESIRED_INSTANCE_TYPE"],
        }
    )
    suffixes = [choice.suffix for choice in settings.enabled_rules]
    assert len(suffixes) == len(set(suffixes))
    password = next(c for c in settings.enabled_rules if c.identifier == "IAM_PASSWORD_POLICY")
    assert password.listed and password.frameworks == ("cis-aws-v1.4-level1",)
    assert password.pack is not None  # deployed as the pack declares it
    template = json.loads(render(build_template(settings), "json"))
    # Listed rules keep an alarm each; the framework has one alarm for all its rules.
    assert "IamPasswordPolicyNonCompliantAlarm" in template["Resources"]
    assert "FrameworkCisAwsV14Level1NonCompliantAlarm" in template["Resources"]
    assert "AccessKeysRotatedNonCompliantAlarm" not in template["Resources"]


def test_a_parameter_two_frameworks_default_differently_is_refused_naming_both():
    with pytest.raises(SettingsError) as caught:
        Settings.from_mapping({"frameworks": ["cis-aws-v1.4-level1", "nist-800-53-rev-5"]})
    message = str(caught.value)
    assert caught.value.field == "frameworks"
    assert "cis-aws-v1.4-level1" in message and "nist-800-53-rev-5" in message
    assert "parameter_defaults.IamUserUnusedCredentialsCheckParamMaxCredentialUsageAge" in message


def test_an_input_two_frameworks_set_differently_is_refused_and_can_be_settled():
    pair = ["fedramp-moderate", "nist-800-53-rev-5"]
    with pytest.raises(SettingsError) as caught:
        Settings.from_mapping({"frameworks": pair})
    assert "fedramp-moderate and nist-800-53-rev-5" in str(caught.value)
    assert "rule_parameters.CLOUDWATCH_ALARM_ACTION_CHECK.alarmActionRequired" in str(caught.value)
    settings = Settings.from_mapping(
        {
            "frameworks": pair,
            "rule_parameters": _differing_inputs(pair),
            "parameter_defaults": _settled(pair),
        }
    )
    alarm = next(
        c for c in settings.enabled_rules if c.identifier == "CLOUDWATCH_ALARM_ACTION_CHECK"
    )
    assert alarm.frameworks == tuple(pair)


def _differing_inputs(pair: list[str]) -> dict[str, dict[str, str]]:
    """Inputs of rules both packs have that they set differently, settled with the first's."""
    first, second = (
        {r["identifier"]: r.get("inputs") or {} for r in DATA[name]["rules"]} for name in pair
    )
    settled = {}
    for identifier, inputs in first.items():
        other = second.get(identifier, {})
        differing = {
            k: _typed(identifier, k, v) for k, v in inputs.items() if k in other and other[k] != v
        }
        if differing:
            settled[identifier] = differing
    return settled


def _typed(identifier: str, key: str, value: object) -> object:
    """The pack's string as the settings file writes the input's documented type."""
    parameter = BY_IDENTIFIER[identifier].parameter(key)
    kind = parameter.kind.value if parameter else "string"
    if kind == "boolean":
        return str(value).lower() == "true"
    if kind == "int":
        return int(str(value))
    return str(value)


def _settled(pair: list[str]) -> dict[str, str]:
    """Each parameter default the two packs disagree on, settled with the first pack's."""
    first, second = (DATA[name]["parameters"] for name in pair)
    return {
        name: str(spec["Default"])
        for name, spec in first.items()
        if name in second and second[name].get("Default") != spec.get("Default")
    }


def test_the_example_union_of_cis_nist_and_pci_generates():
    from template_helpers import EXAMPLES

    from compliance_template.generator.settings import load_settings

    settings = load_settings(EXAMPLES / "frameworks-cis-nist-pci.json")
    assert len(settings.enabled_rules) > 250
    identifiers = {c.identifier for c in settings.enabled_rules}
    for name in settings.frameworks:
        assert {r["identifier"] for r in DATA[name]["rules"]} <= identifiers


def test_unknown_framework_is_refused_with_a_hint():
    with pytest.raises(SettingsError) as caught:
        Settings.from_mapping({"frameworks": ["hipaa"]})
    assert caught.value.field == "frameworks[0]"
    assert "hipaa-security" in caught.value.allowed and "--list-frameworks" in caught.value.allowed
    with pytest.raises(SettingsError):
        Settings.from_mapping({"frameworks": ["hipaa-security", "hipaa-security"]})
    with pytest.raises(SettingsError):
        Settings.from_mapping({"frameworks": "hipaa-security"})


def test_a_rule_two_frameworks_deploy_differently_is_refused_naming_both(monkeypatch):
    """Frequency, condition, scope or a conditional input set that differ cannot merge."""
    from dataclasses import replace

    from compliance_template.generator import selection

    base = frameworks()["cis-aws-v1.4-level1"]
    rule = next(r for r in base.rules if r.identifier == "IAM_PASSWORD_POLICY")
    changes = {
        "frequency": {"frequency": "Six_Hours"},
        "condition": {"condition": "somePackCondition"},
        "scopes": {"scope": {"TagKey": "team"}},
        "conditional input sets": {"inputs": {"Fn::If": ["c", {}, {}]}},
    }
    # A scope of resource types merges with another; a tag scope does not.
    scoped = replace(rule, scope={"ComplianceResourceTypes": ["AWS::IAM::User"]})
    first = replace(base, rules=(scoped,))
    for what, change in changes.items():
        other = replace(base, name="other-pack", rules=(replace(scoped, **change),))
        monkeypatch.setattr(
            selection, "frameworks", lambda other=other: {base.name: first, "other-pack": other}
        )
        with pytest.raises(SettingsError) as caught:
            selection.select([], [base.name, "other-pack"])
        message = str(caught.value)
        assert f"{base.name} and other-pack both deploy iam-password-policy" in message, what
        assert what in message
