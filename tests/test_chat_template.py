"""Slack and Microsoft Teams channels through AWS Chatbot: parameters, conditions, deploy-time
rules, the channel role and guardrail, and which templates have them."""

from __future__ import annotations

import json
import re

import pytest
from template_helpers import LINT_REGIONS, TEMPLATES, evaluate_condition, resolve

from compliance_template import intrinsics
from compliance_template.generator.parameters import CHAT_PARAMETERS, GROUP_CHAT

SLACK = {"SlackWorkspaceId": "T0123ABCD", "SlackChannelId": "C0123ABCD"}
TEAMS = {
    "TeamsTenantId": "0a1b2c3d-4e5f-1a2b-3c4d-0a1b2c3d4e5f",
    "TeamsTeamId": "1a2b3c4d-5e6f-1a2b-3c4d-1a2b3c4d5e6f",
    "TeamsChannelId": "19%3ab6ef35dc342d56ba5654e6fc6d25a071%40thread.tacv2",
}
CHAT_NAMES = [spec.name for spec in CHAT_PARAMETERS]
CONFIGURATIONS = {
    "SlackChannelConfiguration": "AWS::Chatbot::SlackChannelConfiguration",
    "TeamsChannelConfiguration": "AWS::Chatbot::MicrosoftTeamsChannelConfiguration",
}


def load(name: str) -> dict:
    return json.loads((TEMPLATES / name).read_text(encoding="utf-8"))


def empty() -> dict[str, str]:
    return dict.fromkeys(CHAT_NAMES, "")


@pytest.fixture(params=["compliance-monitoring.json", "org-central.json"])
def with_topic(request) -> dict:
    return load(request.param)


def test_the_parameters_default_to_empty_in_their_own_group(with_topic):
    for name in CHAT_NAMES:
        assert with_topic["Parameters"][name]["Default"] == ""
    groups = with_topic["Metadata"]["AWS::CloudFormation::Interface"]["ParameterGroups"]
    [group] = [g for g in groups if g["Label"]["default"] == GROUP_CHAT]
    assert group["Parameters"] == CHAT_NAMES


@pytest.mark.parametrize(
    ("given", "slack", "teams"),
    [
        ({}, False, False),
        (SLACK, True, False),
        (TEAMS, False, True),
        ({**SLACK, **TEAMS}, True, True),
    ],
)
def test_each_configuration_exists_only_when_its_ids_are_set(with_topic, given, slack, teams):
    parameters = {**empty(), **given}
    for region in ("us-east-1", "eu-west-1", "ap-southeast-1"):
        assert evaluate_condition(with_topic, "HasSlackChannel", region, parameters) is slack
        assert evaluate_condition(with_topic, "HasTeamsChannel", region, parameters) is teams
        has_chat = evaluate_condition(with_topic, "HasChatChannel", region, parameters)
        assert has_chat is (slack or teams)
    resources = with_topic["Resources"]
    assert resources["SlackChannelConfiguration"]["Condition"] == "HasSlackChannel"
    assert resources["TeamsChannelConfiguration"]["Condition"] == "HasTeamsChannel"
    assert resources["ChatChannelRole"]["Condition"] == "HasChatChannel"


@pytest.mark.parametrize(
    ("partition", "region"),
    [
        ("aws-cn", "cn-north-1"),
        ("aws-cn", "cn-northwest-1"),
        ("aws-us-gov", "us-gov-east-1"),
        ("aws-us-gov", "us-gov-west-1"),
    ],
)
def test_no_configuration_in_china_or_govcloud(with_topic, partition, region):
    """AWS Chatbot's types are not offered there (cfn-lint's region schemas)."""
    evaluator = intrinsics.Evaluator(
        {**empty(), **SLACK, **TEAMS},
        {"AWS::Partition": partition, "AWS::Region": region},
        conditions=with_topic["Conditions"],
    )
    assert evaluator.condition("HasChatChannel") is False


def rule_holds(template: dict, rule: str, parameters: dict, partition: str = "aws") -> bool:
    """Whether a template rule lets a deploy with these parameters through."""
    body = template["Rules"][rule]
    evaluator = intrinsics.Evaluator(
        {**empty(), **parameters}, {"AWS::Partition": partition, "AWS::Region": "us-east-1"}
    )
    if "RuleCondition" in body and not evaluator.evaluate(body["RuleCondition"]):
        return True
    return all(evaluator.evaluate(a["Assert"]) for a in body["Assertions"])


@pytest.mark.parametrize("name", list(SLACK))
def test_one_slack_id_alone_is_refused(with_topic, name):
    assert rule_holds(with_topic, "SlackChannelIdsTogether", {})
    assert rule_holds(with_topic, "SlackChannelIdsTogether", SLACK)
    assert not rule_holds(with_topic, "SlackChannelIdsTogether", {name: SLACK[name]})


@pytest.mark.parametrize("name", list(TEAMS))
def test_teams_ids_without_the_others_are_refused(with_topic, name):
    assert rule_holds(with_topic, "TeamsChannelIdsTogether", TEAMS)
    assert not rule_holds(with_topic, "TeamsChannelIdsTogether", {name: TEAMS[name]})
    missing_one = {k: v for k, v in TEAMS.items() if k != name}
    assert not rule_holds(with_topic, "TeamsChannelIdsTogether", missing_one)


@pytest.mark.parametrize("partition", ["aws-cn", "aws-us-gov"])
def test_chat_ids_are_refused_outside_the_aws_partition(with_topic, partition):
    for tool, ids in (("Slack", SLACK), ("Teams", TEAMS)):
        rule = f"{tool}ChannelOnlyWhereChatbotIs"
        assert rule_holds(with_topic, rule, ids, "aws")
        assert rule_holds(with_topic, rule, {}, partition)
        assert not rule_holds(with_topic, rule, ids, partition)


def test_the_channel_role_is_trusted_by_chatbot_and_has_no_permissions(with_topic):
    role = with_topic["Resources"]["ChatChannelRole"]["Properties"]
    [statement] = role["AssumeRolePolicyDocument"]["Statement"]
    assert statement["Principal"] == {"Service": ["chatbot.amazonaws.com"]}
    assert statement["Action"] == ["sts:AssumeRole"]
    assert "Policies" not in role and "ManagedPolicyArns" not in role
    attached = [
        r
        for r in with_topic["Resources"].values()
        if r["Type"] == "AWS::IAM::ManagedPolicy"
        and {"Ref": "ChatChannelRole"} in r["Properties"].get("Roles", [])
    ]
    assert attached == []


@pytest.mark.parametrize("logical_id", list(CONFIGURATIONS))
def test_each_configuration_is_narrow_and_reads_the_topic(with_topic, logical_id):
    resource = with_topic["Resources"][logical_id]
    assert resource["Type"] == CONFIGURATIONS[logical_id]
    properties = resource["Properties"]
    assert properties["GuardrailPolicies"] == [
        {"Fn::Sub": "arn:${AWS::Partition}:iam::aws:policy/AWSDenyAll"}
    ]
    assert properties["LoggingLevel"] == "ERROR"
    assert properties["UserRoleRequired"] is False
    assert properties["SnsTopicArns"] == [{"Ref": "NotificationTopic"}]
    assert properties["IamRoleArn"] == {"Fn::GetAtt": ["ChatChannelRole", "Arn"]}
    assert {"Key": "project", "Value": "compliance-monitoring"} in properties["Tags"]


@pytest.mark.parametrize("region", LINT_REGIONS)
def test_configuration_names_fit_chatbot_and_differ_per_region(with_topic, region):
    names = set()
    for logical_id in CONFIGURATIONS:
        value = with_topic["Resources"][logical_id]["Properties"]["ConfigurationName"]
        name = resolve(value, with_topic, region, {})
        assert re.fullmatch(r"[A-Za-z0-9-_]{1,128}", name), name
        assert region in name
        names.add(name)
    assert len(names) == 2  # Slack and Teams never share a name


def test_configuration_names_stay_short_for_the_longest_region_and_stack_id():
    template = load("compliance-monitoring.json")
    value = template["Resources"]["TeamsChannelConfiguration"]["Properties"]["ConfigurationName"]
    stack_id = (
        "arn:aws:cloudformation:ap-southeast-7:123456789012:stack/"
        + "s" * 128
        + "/abcdef01-2345-6789-abcd-ef0123456789"
    )
    evaluator = intrinsics.Evaluator(
        {}, {"AWS::Region": "ap-southeast-7", "AWS::StackId": stack_id}
    )
    assert evaluator.evaluate(value) == "compliance-teams-ap-southeast-7-abcdef01"


def test_the_functions_publish_cards_only_when_a_channel_is_configured(with_topic):
    functions = [
        r for r in with_topic["Resources"].values() if r["Type"] == "AWS::Lambda::Function"
    ]
    assert functions
    for function in functions:
        variable = function["Properties"]["Environment"]["Variables"]["CHAT_NOTIFICATIONS"]
        assert variable == {"Fn::If": ["HasChatChannel", "true", "false"]}


@pytest.mark.parametrize("name", ["conformance-pack.json", "org-conformance-pack.json"])
def test_conformance_packs_have_no_chat(name):
    text = json.dumps(load(name))
    assert "AWS::Chatbot::" not in text and "CHAT_NOTIFICATIONS" not in text
    assert not any(name in text for name in CHAT_NAMES)


def test_a_member_has_no_channel_but_may_publish_cards_to_the_central_topic():
    template = load("org-member.json")
    assert "AWS::Chatbot::" not in json.dumps(template)
    assert not set(CHAT_NAMES) & set(template["Parameters"])
    parameter = template["Parameters"]["CentralChatNotifications"]
    assert (parameter["Default"], parameter["AllowedValues"]) == ("false", ["false", "true"])
    [function] = [r for r in template["Resources"].values() if r["Type"] == "AWS::Lambda::Function"]
    variables = function["Properties"]["Environment"]["Variables"]
    assert variables["CHAT_NOTIFICATIONS"] == {"Ref": "CentralChatNotifications"}


def test_the_default_template_creates_no_chat_resource_with_default_parameters():
    template = load("compliance-monitoring.json")
    defaults = {n: p.get("Default") for n, p in template["Parameters"].items()}
    assert not evaluate_condition(template, "HasChatChannel", "us-east-1", defaults)


def test_a_teams_channel_id_longer_than_chatbot_takes_is_refused():
    from compliance_template.errors import SettingsError
    from compliance_template.generator.parameters import check_value

    spec = next(spec for spec in CHAT_PARAMETERS if spec.name == "TeamsChannelId")
    fits = "19%3a" + "a" * 247 + "%40x"
    assert len(fits) == 256 and check_value(spec, fits, "TeamsChannelId") == fits
    with pytest.raises(SettingsError, match=r"^TeamsChannelId: "):
        check_value(spec, fits + "x", "TeamsChannelId")
    assert load("compliance-monitoring.json")["Parameters"]["TeamsChannelId"]["MaxLength"] == 256


@pytest.mark.cfn_lint
def test_the_region_condition_is_what_keeps_china_and_govcloud_deployable():
    """cfn-lint, whose region schemas come from CloudFormation, finds the Chatbot types missing
    in China and GovCloud unless a condition on AWS::Region excludes them; one on AWS::Partition
    it does not follow."""
    from cfnlint.api import ManualArgs, lint

    regions = ["cn-north-1", "us-gov-west-1"]
    template = load("compliance-monitoring.json")
    assert [m for m in lint(json.dumps(template), config=ManualArgs(regions=regions))] == []
    template["Conditions"]["InChatbotRegion"] = {"Fn::Equals": [{"Ref": "AWS::Partition"}, "aws"]}
    matches = lint(json.dumps(template), config=ManualArgs(regions=regions))
    missing = sorted({m.message for m in matches if m.rule.id == "E3006"})
    assert missing == [
        f"Resource type '{kind}' does not exist in '{region}'"
        for kind in sorted(CONFIGURATIONS.values())
        for region in ("cn-north-1", "us-gov-west-1")
    ]
