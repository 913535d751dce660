"""The one reader of CloudFormation intrinsics: Fn::Sub text and the evaluator."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st
from template_helpers import load_scan_script, resolve

from compliance_template.cfn_rules._helpers import parse_json_text, render, sub_reference
from compliance_template.deploy.inputs import check_rules
from compliance_template.errors import SettingsError
from compliance_template.generator.limits import LONGEST_ARN, _longest
from compliance_template.intrinsics import (
    NO_VALUE,
    Evaluator,
    NotEvaluable,
    Placeholder,
    referenced_names,
    sub_arguments,
    sub_parts,
    substitute,
)

LITERAL = "${!Literal}"


def test_sub_parts_reads_each_kind_of_placeholder():
    text = "arn:${AWS::Partition}:x:${Param}/${Res.Attr.Deep}-${!Literal}${}"
    assert sub_parts(text) == [
        "arn:",
        Placeholder("AWS::Partition"),
        ":x:",
        Placeholder("Param"),
        "/",
        Placeholder("Res.Attr.Deep"),
        "-${Literal}${}",
    ]
    assert Placeholder("Res.Attr.Deep").attribute == ("Res", "Attr.Deep")
    assert Placeholder("AWS::Region").attribute is None
    assert Placeholder("Param").target == "Param"


def test_sub_arguments_reads_both_forms():
    assert sub_arguments("${A}") == ("${A}", {})
    assert sub_arguments(["${A}", {"A": "x"}]) == ("${A}", {"A": "x"})
    with pytest.raises(NotEvaluable):
        sub_arguments(["${A}"])


# Every reader agrees that ${!Literal} is the literal text ${Literal}.


def test_the_evaluator_renders_an_escaped_placeholder_literally():
    evaluator = Evaluator(parameters={"P": "v"}, pseudo_parameters={"AWS::Region": "eu-west-1"})
    value = {"Fn::Sub": "${AWS::Region}/${P}/" + LITERAL}
    assert evaluator.evaluate(value) == "eu-west-1/v/${Literal}"


def test_the_test_helpers_render_an_escaped_placeholder_literally():
    template = {"Parameters": {}, "Resources": {}}
    assert resolve({"Fn::Sub": LITERAL + "-${AWS::Region}"}, template, "us-east-2", {}) == (
        "${Literal}-us-east-2"
    )


def test_the_security_scan_renders_an_escaped_placeholder_literally():
    scan = load_scan_script()
    assert scan.Resolver({}).resolve({"Fn::Sub": LITERAL}) == "${Literal}"


def test_the_lint_rules_read_an_escaped_placeholder_as_known_text():
    assert render({"Fn::Sub": LITERAL}).exact is True
    assert parse_json_text({"Fn::Sub": '{"a": "' + LITERAL + '"}'}) == ({"a": "${Literal}"}, True)
    assert sub_reference({"Fn::Sub": LITERAL}) is None
    assert sub_reference({"Fn::Sub": "${Topic}"}) == "Topic"


def test_limits_count_an_escaped_placeholder_as_its_literal_text():
    assert _longest({"Fn::Sub": LITERAL}, 10) == "${Literal}"
    assert _longest({"Fn::Sub": "${RuleNamePrefix}-${Other}"}, 3) == "ppp-" + LONGEST_ARN


def test_the_local_cycle_sees_no_parameter_in_an_escaped_placeholder():
    fragment = {
        "A": {"Ref": "One"},
        "B": {"Fn::Sub": "${Two}-${Res.Arn}-" + LITERAL + "-${AWS::Region}"},
        "C": {"Fn::Sub": ["${Local}-x", {"Local": {"Ref": "Three"}}]},
    }
    assert referenced_names(fragment) == {"One", "Two", "Res", "AWS::Region", "Three"}


# The evaluator.


class _Stack(Evaluator):
    def resource(self, logical_id: str) -> str:
        return f"{logical_id}-id"

    def attribute(self, logical_id: str, attribute: str) -> str:
        return f"{logical_id}-{attribute}"


def _stack() -> _Stack:
    return _Stack(
        parameters={"Mode": "on", "List": ["a", "b"]},
        pseudo_parameters={"AWS::Region": "us-east-1"},
        conditions={
            "IsOn": {"Fn::Equals": [{"Ref": "Mode"}, "on"]},
            "IsOff": {"Fn::Not": [{"Condition": "IsOn"}]},
            "Either": {"Fn::Or": [{"Condition": "IsOn"}, {"Condition": "IsOff"}]},
            "Both": {"Fn::And": [{"Condition": "IsOn"}, {"Condition": "IsOff"}]},
        },
        mappings={"Sizes": {"us-east-1": {"Small": "t3.micro"}}},
    )


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({"Ref": "Mode"}, "on"),
        ({"Ref": "Bucket"}, "Bucket-id"),
        ({"Fn::GetAtt": ["Bucket", "Arn"]}, "Bucket-Arn"),
        ({"Fn::GetAtt": "Bucket.Arn"}, "Bucket-Arn"),
        ({"Fn::Sub": "${Bucket.Arn}/${Bucket}/${Mode}"}, "Bucket-Arn/Bucket-id/on"),
        ({"Fn::Sub": ["${X}-${AWS::Region}", {"X": {"Ref": "Mode"}}]}, "on-us-east-1"),
        ({"Fn::Join": ["-", ["a", {"Ref": "Mode"}, {"Ref": "AWS::NoValue"}]]}, "a-on"),
        ({"Fn::If": ["IsOn", "yes", "no"]}, "yes"),
        ({"Fn::If": ["IsOff", "yes", "no"]}, "no"),
        ({"Fn::Select": [1, {"Ref": "List"}]}, "b"),
        ({"Fn::Select": ["0", ["x", "y"]]}, "x"),
        ({"Fn::Split": [",", "a,b"]}, ["a", "b"]),
        ({"Fn::FindInMap": ["Sizes", {"Ref": "AWS::Region"}, "Small"]}, "t3.micro"),
        ({"Fn::Contains": [{"Ref": "List"}, "a"]}, True),
        ({"Condition": "Either"}, True),
        ({"Condition": "Both"}, False),
        ({"Ref": "AWS::NoValue"}, NO_VALUE),
    ],
)
def test_the_evaluator_follows_cloudformation(value, expected):
    assert _stack().evaluate(value) == expected


def test_no_value_removes_the_element_or_the_key():
    no_value = {"Fn::If": ["IsOff", "x", {"Ref": "AWS::NoValue"}]}
    assert _stack().evaluate({"Keep": 1, "Drop": no_value, "List": ["a", no_value]}) == {
        "Keep": 1,
        "List": ["a"],
    }


def test_a_policy_condition_object_is_not_a_condition_reference():
    statement = {"Condition": {"Bool": {"aws:SecureTransport": "false"}}}
    assert _stack().evaluate(statement) == statement


@pytest.mark.parametrize(
    "value",
    [
        {"Fn::ImportValue": "elsewhere"},
        {"Condition": "Undeclared"},
        {"Fn::Join": ["-", [["nested"]]]},
        {"Fn::If": ["IsOn", "only one branch"]},
        {"Fn::Select": [5, ["a"]]},
    ],
)
def test_what_cannot_be_evaluated_says_so(value):
    with pytest.raises(NotEvaluable):
        _stack().evaluate(value)


def test_a_plain_evaluator_knows_no_resource():
    with pytest.raises(NotEvaluable):
        Evaluator().evaluate({"Ref": "Bucket"})


def test_deploy_rules_use_the_evaluator():
    rules = {
        "Together": {
            "RuleCondition": {"Fn::Not": [{"Fn::Equals": [{"Ref": "A"}, ""]}]},
            "Assertions": [{"Assert": {"Fn::Not": [{"Fn::Equals": [{"Ref": "B"}, ""]}]}}],
        }
    }
    check_rules(rules, {"A": "", "B": ""})
    with pytest.raises(SettingsError, match=r"Parameters\.B"):
        check_rules(rules, {"A": "x", "B": ""})


# Properties over any text.

_TEXT = st.text(alphabet="ab$!{}.:", max_size=30)


@given(_TEXT)
def test_every_placeholder_is_read_and_no_literal_part_hides_one(text):
    parts = sub_parts(text)
    for part in parts:
        if isinstance(part, Placeholder):
            assert "${" + part.name + "}" in text and not part.name.startswith("!")
        elif "!" not in text:
            assert not re.search(r"\$\{[^}]+\}", part)
    if "!" not in text:  # writing each placeholder back as it was gives the text again
        assert substitute(text, lambda p: "${" + p.name + "}") == text


@given(st.lists(st.one_of(st.text(alphabet="ab:-/", min_size=1), st.sampled_from("PQR"))))
def test_sub_parts_inverts_writing_a_sub(pieces):
    text = "".join(p if len(p) != 1 or p not in "PQR" else "${" + p + "}" for p in pieces)
    names = [p for p in pieces if len(p) == 1 and p in "PQR"]
    assert [p.name for p in sub_parts(text) if isinstance(p, Placeholder)] == names
    literal = "".join(p for p in sub_parts(text) if isinstance(p, str))
    assert literal == "".join(p for p in pieces if p not in names)


@given(st.text(alphabet="abc-/", max_size=20))
def test_an_escaped_placeholder_is_always_literal(name):
    assert substitute("${!" + name + "}", lambda p: "REPLACED") == "${" + name + "}"
