"""E9012 and W9014 read their facts from generator/ssm_documents.py and say, in one line, what
is wrong: the resource, the property or parameter, the value and what is allowed."""

from __future__ import annotations

import json

import pytest
import yaml
from cfn_rules_harness import FIXTURES, lint

from compliance_template.generator import ssm_documents

BAD = FIXTURES / "bad" / "remediation_configurations.yaml"
PACK = FIXTURES / "bad" / "remediation_pack.yaml"
ROLE = {"StaticValue": {"Values": ["arn:aws:iam::123456789012:role/remediation"]}}


def _messages(path) -> dict[str, list[str]]:
    """Finding messages of E9012/W9014 by the resource (second path element) they point at."""
    found: dict[str, list[str]] = {}
    for match in lint(path):
        if match.rule.id in ("E9012", "W9014"):
            found.setdefault(match.path[1], []).append(match.message)
    return found


@pytest.mark.parametrize(
    ("resource", "words"),
    [
        ("WrongTargetType", ["TargetType", "'SSM_AUTOMATION'", "SSM_DOCUMENT"]),
        ("UnknownAwsDocument", ["TargetId", "'AWSConfigRemediation-NoSuchRunbook'", "unknown"]),
        ("CustomerDocument", ["TargetId", "'Acme-EncryptBucket'", "cannot be checked"]),
        ("UnknownParameter", ["KMSMasterKey", "AWS-EnableS3BucketEncryption", "BucketName"]),
        ("MissingRequiredParameter", ["BucketName", "required", "AWS-EnableS3BucketEncryption"]),
        ("BothValueKinds", ["BucketName", "exactly one of ResourceValue or StaticValue"]),
        ("WrongResourceValue", ["ResourceValue.Value", "'RESOURCE_NAME'", "RESOURCE_ID"]),
        ("StaticValuesNotAList", ["StaticValue.Values", "'AES256'", "list of strings"]),
        ("StaticValueNotAString", ["StaticValue.Values", "256", "string"]),
        ("JsonParametersWrongResourceValue", ["ResourceValue.Value", "'ARN'", "RESOURCE_ID"]),
        ("AutomaticWithoutRole", ["AutomationAssumeRole", "automatic"]),
        ("ManualWithoutRole", ["AutomationAssumeRole", "manual"]),
        ("AutomaticWithoutAttempts", ["MaximumAutomaticAttempts", "1..25"]),
        ("MaybeAutomaticWithoutRetrySeconds", ["RetryAttemptSeconds", "1..2678000"]),
        ("AttemptsOutOfRange", ["MaximumAutomaticAttempts", "26", "1..25"]),
        ("RetrySecondsOutOfRange", ["RetryAttemptSeconds", "0", "1..2678000"]),
        ("LocalDocumentMissingParameter", ["BucketName", "LocalDocument", "required"]),
    ],
)
def test_each_message_names_the_resource_the_field_the_value_and_what_is_allowed(resource, words):
    (message,) = _messages(BAD)[resource]
    assert "\n" not in message
    assert message.startswith(f"{resource}: "), message
    for word in words:
        assert word in message, (word, message)


def test_a_finding_inside_a_pack_body_names_the_pack_and_its_remediation():
    messages = _messages(PACK)
    (yaml_body,) = messages["Pack"]
    assert yaml_body.startswith("EncryptionRemediation (in Pack's TemplateBody): "), yaml_body
    assert "BucketName" in yaml_body
    (json_body,) = messages["OrganizationPack"]
    assert "PublicRemediation" in json_body and "'LAMBDA'" in json_body


def _template(remediation: dict, **resources: dict) -> dict:
    return {
        "Resources": {
            "Rule": {
                "Type": "AWS::Config::ConfigRule",
                "Properties": {"Source": {"Owner": "AWS", "SourceIdentifier": "S3_BUCKET_LEVEL"}},
            },
            **resources,
            "Remediation": {
                "Type": "AWS::Config::RemediationConfiguration",
                "Properties": {
                    "ConfigRuleName": {"Ref": "Rule"},
                    "TargetType": "SSM_DOCUMENT",
                    **remediation,
                },
            },
        }
    }


def _findings(tmp_path, template: dict) -> list[tuple[str, str]]:
    path = tmp_path / "template.json"
    path.write_text(json.dumps(template), encoding="utf-8")
    return [(m.rule.id, m.message) for m in lint(path) if m.rule.id in ("E9012", "W9014", "E0002")]


def _filled(document: ssm_documents.SsmDocument) -> dict:
    """Every required parameter filled, the first by the resource id, plus the role."""
    parameters: dict = {document.assume_role_parameter: ROLE}
    for index, name in enumerate(document.required_parameters):
        parameters[name] = (
            {"ResourceValue": {"Value": "RESOURCE_ID"}}
            if index == 0
            else {"StaticValue": {"Values": ["value"]}}
        )
    return parameters


@pytest.mark.parametrize("name", sorted(ssm_documents.documents()))
def test_every_known_document_with_its_required_parameters_passes(tmp_path, name):
    document = ssm_documents.documents()[name]
    template = _template({"TargetId": name, "Parameters": _filled(document)})
    assert _findings(tmp_path, template) == []


@pytest.mark.parametrize(
    ("name", "parameter"),
    [
        (name, parameter)
        for name, document in sorted(ssm_documents.documents().items())
        for parameter in document.required_parameters
    ],
)
def test_every_required_parameter_of_a_known_document_is_asked_for(tmp_path, name, parameter):
    parameters = _filled(ssm_documents.documents()[name])
    del parameters[parameter]
    found = _findings(tmp_path, _template({"TargetId": name, "Parameters": parameters}))
    assert len(found) == 1 and found[0][0] == "E9012", found
    assert parameter in found[0][1]


def _local_document(content) -> dict:
    return {
        "Type": "AWS::SSM::Document",
        "Properties": {"DocumentType": "Automation", "Content": content},
    }


CONTENT = {
    "schemaVersion": "0.3",
    "assumeRole": "{{ AutomationAssumeRole }}",
    "parameters": {
        "AutomationAssumeRole": {"type": "String", "default": ""},
        "BucketName": {"type": "String"},
        "Algorithm": {"type": "String", "default": "AES256"},
    },
    "mainSteps": [],
}


@pytest.mark.parametrize(
    "content",
    [CONTENT, json.dumps(CONTENT), yaml.safe_dump(CONTENT)],
    ids=["object", "json", "yaml"],
)
@pytest.mark.parametrize(
    "target",
    [{"Ref": "Doc"}, {"Fn::Sub": "${Doc}"}, {"Fn::GetAtt": ["Doc", "Name"]}],
    ids=["ref", "sub", "getatt"],
)
def test_a_document_of_the_same_template_lends_its_parameters(tmp_path, content, target):
    given = {"AutomationAssumeRole": ROLE, "Algorithm": {"StaticValue": {"Values": ["aws:kms"]}}}
    template = _template({"TargetId": target, "Parameters": given}, Doc=_local_document(content))
    (finding,) = _findings(tmp_path, template)
    # BucketName has no default, Algorithm has one: only BucketName is asked for.
    assert finding[0] == "E9012" and "BucketName" in finding[1] and "Algorithm" not in finding[1]
    given["BucketName"] = {"ResourceValue": {"Value": "RESOURCE_ID"}}
    given["Surplus"] = {"StaticValue": {"Values": ["x"]}}
    (finding,) = _findings(tmp_path, template)
    assert "Surplus" in finding[1]


def test_a_document_whose_content_is_computed_is_not_judged(tmp_path):
    doc = _local_document({"Fn::ImportValue": "shared-content"})
    template = _template({"TargetId": {"Ref": "Doc"}, "Parameters": {"Any": ROLE}}, Doc=doc)
    assert _findings(tmp_path, template) == []


@pytest.mark.parametrize(
    "values",
    [
        [{"Ref": "AWS::Region"}],
        [{"Fn::Join": ["-", ["a", {"Ref": "AWS::Region"}]]}],
        [{"Fn::If": ["Never", "aws:kms", "AES256"]}],
        {"Ref": "AWS::NotificationARNs"},
    ],
    ids=["ref", "join", "if", "list-valued-ref"],
)
def test_intrinsics_that_give_strings_are_accepted_as_static_values(tmp_path, values):
    parameters = {
        "BucketName": {"ResourceValue": {"Value": "RESOURCE_ID"}},
        "SSEAlgorithm": {"StaticValue": {"Values": values}},
        "AutomationAssumeRole": ROLE,
    }
    template = _template({"TargetId": "AWS-EnableS3BucketEncryption", "Parameters": parameters})
    template["Conditions"] = {"Never": {"Fn::Equals": ["a", "b"]}}
    assert _findings(tmp_path, template) == []


@pytest.mark.parametrize("name", ["AWS-NoSuch", "AWSConfigRemediation-NoSuch", "AWSSupport-NoSuch"])
def test_aws_looking_names_we_do_not_know_are_errors(tmp_path, name):
    template = _template({"TargetId": name, "Parameters": {"AutomationAssumeRole": ROLE}})
    assert [rule for rule, _ in _findings(tmp_path, template)] == ["E9012"]
