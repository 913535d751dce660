"""Exemptions in the settings file: every mistake is one line naming the field; valid ones become
SSM parameters the functions read, with least-privilege grants and a daily review schedule."""

from __future__ import annotations

import json
from datetime import date

import pytest
from template_helpers import ROOT, resources_of

from compliance_template.errors import SettingsError
from compliance_template.generator import exemptions as ex
from compliance_template.generator.cli import main
from compliance_template.generator.limits import check_limits
from compliance_template.generator.organization import (
    build_central_template,
    build_member_template,
)
from compliance_template.generator.settings import Settings
from compliance_template.generator.template import build_template

TODAY = date(2026, 12, 2)
RULE = "S3_BUCKET_SERVER_SIDE_ENCRYPTION_ENABLED"


def exemption(**overrides: object) -> dict:
    base = {
        "id": "legacy-bucket",
        "rules": [RULE],
        "resources": ["legacy-*"],
        "reason": "vendor tool reads it",
        "owner": "team@example.com",
        "granted": "2026-11-01",
        "expires": "2027-03-01",
    }
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not ...}


def settings(*items: dict, **fields: object) -> Settings:
    return Settings.from_mapping({"exemptions": list(items), **fields}, today=TODAY)


BAD = [
    ({"exemptions": {}}, "exemptions", "a list of exemption objects"),
    ({"exemptions": ["x"]}, "exemptions[0]", "an object with fields"),
    ({"exemptions": [exemption(color="red")]}, "exemptions[0].color", "known fields are"),
    ({"exemptions": [exemption(id=...)]}, "exemptions[0].id", "required"),
    ({"exemptions": [exemption(id="Legacy")]}, "exemptions[0].id", "lower-case slug"),
    ({"exemptions": [exemption(id="a" * 65)]}, "exemptions[0].id", "lower-case slug"),
    ({"exemptions": [exemption(id="-a")]}, "exemptions[0].id", "lower-case slug"),
    (
        {"exemptions": [exemption(), exemption()]},
        "exemptions[1].id",
        "an id no other uses",
    ),
    ({"exemptions": [exemption(rules=[])]}, "exemptions[0].rules", "a non-empty list"),
    ({"exemptions": [exemption(rules="x")]}, "exemptions[0].rules", "a non-empty list"),
    (
        {"exemptions": [exemption(rules=["IAM_ROOT_ACCESS_KEY_CHECK"])]},
        "exemptions[0].rules[0]",
        "identifiers of rules this stack deploys",
    ),
    ({"exemptions": [exemption(resources=[])]}, "exemptions[0].resources", "non-empty list"),
    ({"exemptions": [exemption(resources=[""])]}, "exemptions[0].resources[0]", "resource ids"),
    (
        {"exemptions": [exemption(resources=["a", "a"])]},
        "exemptions[0].resources",
        "each entry at most once",
    ),
    (
        {"exemptions": [exemption(resource_type="S3 bucket")]},
        "exemptions[0].resource_type",
        "AWS::S3::Bucket",
    ),
    ({"exemptions": [exemption(accounts=["123"])]}, "exemptions[0].accounts[0]", "12-digit"),
    ({"exemptions": [exemption(accounts=[])]}, "exemptions[0].accounts", "non-empty list"),
    ({"exemptions": [exemption(regions=["Europe"])]}, "exemptions[0].regions[0]", "region"),
    ({"exemptions": [exemption(reason=" ")]}, "exemptions[0].reason", "non-empty string"),
    ({"exemptions": [exemption(reason="a\nb")]}, "exemptions[0].reason", "one line"),
    ({"exemptions": [exemption(owner="")]}, "exemptions[0].owner", "e-mail address or a team"),
    ({"exemptions": [exemption(granted="2026-13-01")]}, "exemptions[0].granted", "YYYY-MM-DD"),
    ({"exemptions": [exemption(granted="1 Nov 2026")]}, "exemptions[0].granted", "YYYY-MM-DD"),
    (
        {"exemptions": [exemption(granted="2026-12-03", expires="2027-01-01")]},
        "exemptions[0].granted",
        "not after today (2026-12-02)",
    ),
    ({"exemptions": [exemption(expires=...)]}, "exemptions[0].expires", "required"),
    ({"exemptions": [exemption(expires=20270301)]}, "exemptions[0].expires", "YYYY-MM-DD"),
    (
        {"exemptions": [exemption(expires="2026-11-01")]},
        "exemptions[0].expires",
        "a day after granted (2026-11-01)",
    ),
    (
        {"exemptions": [exemption(expires="2027-11-02")]},
        "exemptions[0].expires",
        "at most exemption_max_days (365) after it (2027-11-01)",
    ),
    (
        {"exemptions": [exemption(expires="2026-12-02")], "exemption_max_days": 30},
        "exemptions[0].expires",
        "exemption_max_days (30)",
    ),
    ({"exemption_max_days": 0}, "exemption_max_days", "from 1 to 1095"),
    ({"exemption_max_days": 1096}, "exemption_max_days", "from 1 to 1095"),
    ({"exemption_max_days": True}, "exemption_max_days", "from 1 to 1095"),
    ({"exemption_max_days": "30"}, "exemption_max_days", "from 1 to 1095"),
]


@pytest.mark.parametrize(("raw", "field", "allowed"), BAD, ids=[b[1] + b[2][:12] for b in BAD])
def test_bad_exemptions_name_field_value_and_allowed(raw, field, allowed):
    with pytest.raises(SettingsError) as caught:
        Settings.from_mapping(raw, today=TODAY)
    assert caught.value.field == field
    assert allowed in caught.value.allowed
    assert "\n" not in str(caught.value)


def test_a_valid_exemption_is_parsed_with_defaults():
    (parsed,) = settings(exemption()).exemptions
    assert parsed.accounts == () and parsed.regions == () and parsed.resource_type is None
    assert parsed.granted == date(2026, 11, 1) and parsed.expires == date(2027, 3, 1)
    assert settings().exemptions == () and settings().exemption_max_days == 365


def test_longest_allowed_life_and_granted_today_are_accepted():
    longest = exemption(granted="2026-12-02", expires="2027-12-02")
    assert settings(longest).exemptions[0].expires == date(2027, 12, 2)
    wider = exemption(expires="2029-10-31")
    assert settings(wider, exemption_max_days=1095).exemption_max_days == 1095


def test_an_expired_exemption_is_allowed_and_the_cli_warns(tmp_path, capsys):
    old = exemption(granted="2025-01-01", expires="2025-06-01")
    assert ex.expired(settings(old).exemptions, TODAY)[0].id == "legacy-bucket"
    file = tmp_path / "settings.json"
    file.write_text(json.dumps({"exemptions": [old]}))
    assert main(["--settings", str(file), "--out", str(tmp_path / "t.json")]) == 0
    err = capsys.readouterr().err.strip().splitlines()
    assert err[0] == (
        "generate.py: warning: exemption legacy-bucket expired on 2025-06-01 and no longer "
        "applies; remove it from the settings"
    )


def test_a_malformed_exemption_exits_2_with_one_line(tmp_path, capsys):
    file = tmp_path / "settings.json"
    file.write_text(json.dumps({"exemptions": [exemption(owner=7)]}))
    assert main(["--settings", str(file), "--out", str(tmp_path / "t.json")]) == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert line.startswith("generate.py: error: exemptions[0].owner: 7 is not allowed;")


def test_document_is_canonical_and_deterministic():
    one = settings(exemption(id="b"), exemption(id="a"))
    text = ex.document_text(one.exemptions)
    assert text == ex.document_text(settings(exemption(id="b"), exemption(id="a")).exemptions)
    parsed = json.loads(text)
    assert parsed["schemaVersion"] == 1
    assert [e["id"] for e in parsed["exemptions"]] == ["b", "a"]  # the settings' order
    assert ": " not in text and ", " not in text.replace("vendor tool reads it", "")
    assert build_template(one).to_json() == build_template(one).to_json()


def test_non_ascii_is_escaped_so_characters_are_bytes():
    text = ex.document_text(settings(exemption(reason="Übergang, café")).exemptions)
    assert text.isascii() and "\\u00dc" in text


def _many(count: int, reason_length: int = 900) -> Settings:
    return settings(*(exemption(id=f"e{n}", reason="r" * reason_length) for n in range(count)))


def test_a_large_document_is_split_across_parameters_in_order():
    big = _many(12)
    pieces = ex.chunks(big.exemptions)
    assert len(pieces) > 1 and all(len(p) <= ex.PARAMETER_CHARS for p in pieces)
    assert "".join(pieces) == ex.document_text(big.exemptions)
    template = build_template(big).to_dict()
    parameters = resources_of(template, "AWS::SSM::Parameter")
    assert sorted(parameters) == [f"ExemptionsParameter{n}" for n in range(1, len(pieces) + 1)]
    joined = "".join(parameters[f"ExemptionsParameter{n}"]["Properties"]["Value"]
                     for n in range(1, len(pieces) + 1))  # fmt: skip
    assert joined == ex.document_text(big.exemptions)
    variables = template["Resources"]["ProcessingFunction"]["Properties"]["Environment"]
    refs = variables["Variables"]["EXEMPTIONS_PARAMETERS"]["Fn::Join"]
    assert refs == [",", [{"Ref": f"ExemptionsParameter{n}"} for n in range(1, len(pieces) + 1)]]
    check_limits(build_template(big), "stack")  # environment still within 4 KB at worst


def test_past_ten_parameters_is_refused_with_the_settings_in_one_line():
    with pytest.raises(SettingsError) as caught:
        _many(50)
    assert caught.value.field == "exemptions"
    assert "at most 40960 characters (10 SSM parameters of 4096)" in caught.value.allowed


def test_ten_parameters_keep_every_environment_within_lambdas_4_kb():
    raw = json.loads((ROOT / "examples" / "all-rules.json").read_text())
    raw["exemptions"] = [exemption(id=f"e{n}", reason="r" * 990) for n in range(33)]
    template = build_template(Settings.from_mapping(raw, today=TODAY))
    parameters = resources_of(template.to_dict(), "AWS::SSM::Parameter")
    assert len(parameters) == ex.MAX_PARAMETERS
    check_limits(template, "stack")  # raises past 4,096 bytes of environment at worst


def test_without_exemptions_nothing_is_added():
    template = build_template(Settings()).to_dict()
    assert resources_of(template, "AWS::SSM::Parameter") == {}
    assert "ExemptionReviewRule" not in template["Resources"]
    for function in ("ProcessingFunction", "ReportingFunction", "RemediationFunction"):
        variables = template["Resources"][function]["Properties"]["Environment"]["Variables"]
        assert variables["EXEMPTIONS_PARAMETERS"] == ""
    text = json.dumps(template)
    assert "ssm:GetParameters" not in text


def test_parameters_are_standard_tier_strings_with_the_stack_tags():
    template = build_template(settings(exemption())).to_dict()
    (parameter,) = resources_of(template, "AWS::SSM::Parameter").values()
    properties = parameter["Properties"]
    assert properties["Type"] == "String" and properties["Tier"] == "Standard"
    assert "Name" not in properties  # CloudFormation names it: stacks never collide
    assert properties["Tags"] == {"project": "compliance-monitoring"}


def _grants(template: dict, policy: str) -> list[dict]:
    document = template["Resources"][policy]["Properties"]["PolicyDocument"]
    return [s for s in document["Statement"] if "ssm:GetParameters" in json.dumps(s["Action"])]


ARN = "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter/${ExemptionsParameter1}"


@pytest.mark.parametrize(
    ("build", "policies"),
    [
        (
            build_template,
            ("ProcessingManagedPolicy", "ReportingManagedPolicy", "RemediationManagedPolicy"),
        ),
        (build_member_template, ("ProcessingManagedPolicy",)),
        (build_central_template, ("ReportingManagedPolicy",)),
    ],
    ids=["stack", "org-member", "org-central"],
)
def test_every_function_reads_only_the_exemption_parameters(build, policies):
    template = build(settings(exemption())).to_dict()
    assert "ExemptionsParameter1" in template["Resources"]
    for policy in policies:
        (statement,) = _grants(template, policy)
        assert statement["Action"] == ["ssm:GetParameters"]
        assert statement["Resource"] == [{"Fn::Sub": ARN}]
    for function in [r for r in template["Resources"] if r.endswith("Function")]:
        properties = template["Resources"][function]["Properties"]
        if "Environment" in properties:
            joined = properties["Environment"]["Variables"]["EXEMPTIONS_PARAMETERS"]
            assert joined == {"Fn::Join": [",", [{"Ref": "ExemptionsParameter1"}]]}


def test_review_schedule_invokes_processing_with_its_kind_and_dead_letters():
    for build in (build_template, build_member_template):
        template = build(settings(exemption())).to_dict()
        rule = template["Resources"]["ExemptionReviewRule"]["Properties"]
        assert rule["ScheduleExpression"] == "rate(1 day)"
        (target,) = rule["Targets"]
        assert json.loads(target["Input"]) == {"kind": "exemption-review"}
        assert target["Arn"] == {"Fn::GetAtt": ["ProcessingFunction", "Arn"]}
        assert target["DeadLetterConfig"] == {"Arn": {"Fn::GetAtt": ["DeadLetterQueue", "Arn"]}}
        permission = template["Resources"]["ExemptionReviewRulePermission"]["Properties"]
        assert permission["SourceArn"] == {"Fn::GetAtt": ["ExemptionReviewRule", "Arn"]}
        queue_policy = json.dumps(template["Resources"]["DeadLetterQueuePolicy"])
        assert "ExemptionReviewRule" in queue_policy
    central = build_central_template(settings(exemption())).to_dict()
    assert "ExemptionReviewRule" not in central["Resources"]


def test_example_settings_file_is_valid_and_committed():
    raw = json.loads((ROOT / "examples" / "exemptions.json").read_text())
    parsed = Settings.from_mapping(raw, today=TODAY)
    assert [e.id for e in parsed.exemptions] == ["legacy-log-buckets", "build-volumes"]
    committed = json.loads(
        (ROOT / "templates" / "compliance-monitoring-exemptions.json").read_text()
    )
    assert "ExemptionsParameter1" in committed["Resources"]


def _statement(template: dict, policy: str, sid: str) -> dict | None:
    document = template["Resources"][policy]["Properties"]["PolicyDocument"]
    return next((s for s in document["Statement"] if s.get("Sid") == sid), None)


@pytest.mark.parametrize("build", [build_template, build_member_template], ids=["stack", "member"])
def test_the_review_reads_results_of_only_the_rules_exemptions_name(build):
    """After an expiry the review asks Config which covered resources still fail: processing may
    read the results of the exempted rules only, and list the rules (no resource-level grant)."""
    raw = {"rules": [RULE, "ENCRYPTED_VOLUMES"], "exemptions": [exemption()]}
    template = build(Settings.from_mapping(raw, today=TODAY)).to_dict()
    read = _statement(template, "ProcessingManagedPolicy", "ReadExemptRuleResults")
    assert read["Action"] == ["config:GetComplianceDetailsByConfigRule"]
    exempted = next(
        logical
        for logical, resource in template["Resources"].items()
        if resource["Type"] == "AWS::Config::ConfigRule"
        and resource["Properties"]["Source"]["SourceIdentifier"] == RULE
    )
    assert json.dumps(read["Resource"]).count("Fn::GetAtt") == 1
    assert exempted in json.dumps(read["Resource"])
    listing = _statement(template, "ProcessingManagedPolicy", "ListRulesForReview")
    assert listing["Action"] == ["config:DescribeConfigRules"] and listing["Resource"] == ["*"]
    plain = build(Settings.from_mapping({"rules": [RULE]}, today=TODAY)).to_dict()
    assert _statement(plain, "ProcessingManagedPolicy", "ReadExemptRuleResults") is None
