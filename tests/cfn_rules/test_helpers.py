"""Edge cases of the shared helpers and of rules that depend on the file system."""

from __future__ import annotations

import json
import zipfile

import pytest
from cfn_rules_harness import findings

from compliance_template.cfn_rules._helpers import (
    UNKNOWN_MARK,
    account_root_principal,
    getatt_target,
    parse_json_text,
    render,
    service_principal,
)

ACCOUNT_ROOTS = [
    "123456789012",
    "arn:aws:iam::123456789012:root",
    "arn:aws-cn:iam::123456789012:root",
    {"Ref": "AWS::AccountId"},
    {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"},
    {"Fn::Sub": "${AWS::AccountId}"},
    {
        "Fn::Join": [
            "",
            ["arn:", {"Ref": "AWS::Partition"}, ":iam::", {"Ref": "AWS::AccountId"}, ":root"],
        ]
    },
]
NOT_ROOTS = [
    "arn:aws:iam::123456789012:role/Admin",
    {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:user/admin"},
    "cloudtrail.amazonaws.com",
]
UNKNOWN_PRINCIPALS = [{"Ref": "AdminArn"}, {"Fn::ImportValue": "admin"}, {"Fn::Sub": "${Admin}"}]


@pytest.mark.parametrize("value", ACCOUNT_ROOTS)
def test_account_root_spellings(value):
    assert account_root_principal(render(value)) is True


@pytest.mark.parametrize("value", NOT_ROOTS)
def test_other_principals_are_not_the_root(value):
    assert account_root_principal(render(value)) is False


@pytest.mark.parametrize("value", UNKNOWN_PRINCIPALS)
def test_deploy_time_principals_are_unknown(value):
    assert account_root_principal(render(value)) is None


@pytest.mark.parametrize(
    "text",
    [
        "logs.amazonaws.com",
        "logs.eu-west-1.amazonaws.com",
        "logs.cn-north-1.amazonaws.com.cn",
        "logs.${AWS::Region}.amazonaws.com",
        "logs.${AWS::Region}.${AWS::URLSuffix}",
    ],
)
def test_logs_service_principal_spellings(text):
    assert service_principal("logs")(render({"Fn::Sub": text})) is True


def test_service_principal_rejects_another_service():
    assert service_principal("logs")(render("events.amazonaws.com")) is False


def test_getatt_both_spellings():
    assert getatt_target({"Fn::GetAtt": "Key.Arn"}) == ("Key", "Arn")
    assert getatt_target({"Fn::GetAtt": ["Key", "Arn"]}) == ("Key", "Arn")
    assert getatt_target({"Fn::GetAtt": [{"Ref": "X"}, "Arn"]}) is None


def test_sub_json_placeholders_inside_and_outside_strings():
    value = {"Fn::Sub": '{"a": "${AWS::Region}-x", "b": ${Period}, "c": "${!Literal}"}'}
    document, exact = parse_json_text(value)
    assert document == {"a": f"{UNKNOWN_MARK}-x", "b": UNKNOWN_MARK, "c": "${Literal}"}
    assert exact is False


def test_sub_list_form_substitutes_its_variables():
    value = {"Fn::Sub": ['{"n": "${N}"}', {"N": "literal"}]}
    assert parse_json_text(value) == ({"n": "literal"}, True)


def test_join_json_with_intrinsic_parts():
    value = {"Fn::Join": ["", ['{"r": "', {"Ref": "AWS::Region"}, '", "p": ', {"Ref": "P"}, "}"]]}
    document, _ = parse_json_text(value)
    assert document == {"r": UNKNOWN_MARK, "p": UNKNOWN_MARK}


def _function_template(code: str, handler: str, runtime: str = "python3.12") -> str:
    function = {
        "Type": "AWS::Lambda::Function",
        "Properties": {"Runtime": runtime, "Handler": handler, "Role": "r", "Code": code},
    }
    return json.dumps({"Resources": {"Function": function}})


@pytest.mark.parametrize(
    ("handler", "expected"),
    [("app.handler", []), ("src.app.handler", []), ("other.handler", ["E9009"])],
)
def test_lambda_code_in_a_zip(tmp_path, handler, expected):
    with zipfile.ZipFile(tmp_path / "function.zip", "w") as archive:
        archive.writestr("app.py", "def handler(event, context): pass\n")
        archive.writestr("src/app.py", "def handler(event, context): pass\n")
    template = tmp_path / "template.json"
    template.write_text(_function_template("function.zip", handler))
    assert [rule_id for rule_id, _ in findings(template)] == expected


def test_lambda_node_folder_in_a_zip(tmp_path):
    with zipfile.ZipFile(tmp_path / "function.zip", "w") as archive:
        archive.writestr("lib/handlers/index.js", "exports.handler = async () => 1;\n")
    template = tmp_path / "template.json"
    template.write_text(_function_template("function.zip", "lib.handler", "nodejs22.x"))
    assert findings(template) == []


def test_lambda_code_path_is_relative_to_the_template_not_the_working_directory(
    tmp_path, monkeypatch
):
    (tmp_path / "stack" / "src").mkdir(parents=True)
    (tmp_path / "stack" / "src" / "app.py").write_text("def handler(e, c): pass\n")
    template = tmp_path / "stack" / "template.json"
    template.write_text(_function_template("src", "app.handler"))
    monkeypatch.chdir(tmp_path)
    assert findings(template) == []
