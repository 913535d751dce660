"""The ssm engine in conformance packs, and what the packs refuse."""

from __future__ import annotations

import json

import pytest
from remediation_helpers import ENCRYPTION, EXEMPTION, PUBLIC_READ, settings
from troposphere import encode_to_dict

from compliance_template.errors import SettingsError
from compliance_template.generator.conformance_pack import MAX_BODY_BYTES, build_conformance_pack


def pack(raw: dict, organization: bool = False) -> dict:
    return encode_to_dict(build_conformance_pack(settings(**raw), organization).to_dict())


def bodies(template: dict) -> dict[str, dict]:
    """The pack body of each RemediationMode."""
    body = template["Resources"]["ConformancePack"]["Properties"]["TemplateBody"]
    # RemediationOn is false with mode off and where no remediation configuration can exist.
    on, off = body["Fn::If"][1], body["Fn::If"][2]
    assert body["Fn::If"][0] == "RemediationOn" and on["Fn::If"][0] == "EnforceRemediation"
    return {
        "enforce": json.loads(on["Fn::If"][1]),
        "dry-run": json.loads(on["Fn::If"][2]),
        "off": json.loads(off),
    }


def remediations(body: dict) -> dict[str, dict]:
    return {
        name: resource
        for name, resource in body["Resources"].items()
        if resource["Type"] == "AWS::Config::RemediationConfiguration"
    }


def test_the_account_pack_picks_its_body_by_mode():
    template = pack({"rules": [ENCRYPTION, "ENCRYPTED_VOLUMES"]})
    assert template["Parameters"]["RemediationMode"]["Default"] == "dry-run"
    by_mode = bodies(template)
    assert remediations(by_mode["off"]) == {}
    for mode, automatic in (("dry-run", False), ("enforce", True)):
        (resource,) = remediations(by_mode[mode]).values()
        properties = resource["Properties"]
        assert properties["Automatic"] is automatic
        assert properties["ConfigRuleName"] == "s3-bucket-server-side-encryption-enabled"
        assert resource["DependsOn"] == ["S3BucketServerSideEncryptionEnabledRule"]
        assert properties["Parameters"]["AutomationAssumeRole"] == {
            "StaticValue": {"Values": [{"Ref": "S3AutomationRoleArn"}]}
        }
        assert len(json.dumps(by_mode[mode]).encode()) <= MAX_BODY_BYTES
    inputs = {
        i["ParameterName"]: i["ParameterValue"]
        for i in template["Resources"]["ConformancePack"]["Properties"][
            "ConformancePackInputParameters"
        ]
    }
    assert inputs["S3AutomationRoleArn"] == {"Fn::GetAtt": ["S3AutomationRole", "Arn"]}
    assert inputs["S3RemediationEncryption"] == {"Ref": "S3RemediationEncryption"}
    assert "S3AutomationRoleManagedPolicy" in template["Resources"]


def test_a_pack_without_ssm_rules_keeps_one_body_and_no_mode():
    template = pack({"rules": ["ENCRYPTED_VOLUMES"]})
    assert isinstance(template["Resources"]["ConformancePack"]["Properties"]["TemplateBody"], str)
    assert "RemediationMode" not in template.get("Parameters", {})


def test_the_organization_pack_has_no_remediation_by_default():
    template = pack({"rules": [ENCRYPTION]}, organization=True)
    body = template["Resources"]["OrganizationConformancePack"]["Properties"]["TemplateBody"]
    assert "RemediationConfiguration" not in body
    assert not any(r["Type"] == "AWS::IAM::Role" for r in template["Resources"].values())


@pytest.mark.parametrize(
    ("raw", "organization", "field", "allowed"),
    [
        (
            {"rules": [ENCRYPTION], "remediation": {ENCRYPTION: "lambda"}},
            False,
            f"remediation.{ENCRYPTION}",
            "runs no functions",
        ),
        (
            {"rules": [ENCRYPTION], "remediation": {ENCRYPTION: "ssm"}},
            True,
            f"remediation.{ENCRYPTION}",
            "org-member",
        ),
        (
            {
                "rules": [PUBLIC_READ],
                "remediation": {PUBLIC_READ: "ssm"},
                "remediation_approval": {"approvers": ["alice"]},
            },
            False,
            f"remediation.{PUBLIC_READ}",
            "approval",
        ),
        ({"rules": [ENCRYPTION], "exemptions": [EXEMPTION]}, False, "exemptions", "exceptions"),
    ],
)
def test_what_a_pack_cannot_do_is_refused_in_one_line(raw, organization, field, allowed):
    with pytest.raises(SettingsError) as caught:
        pack(raw, organization)
    assert caught.value.field == field and allowed in caught.value.allowed
    assert "\n" not in str(caught.value)
