"""Slack and Microsoft Teams channels on the notification topic, through AWS Chatbot (Amazon Q
Developer in chat applications).

Each configuration subscribes Chatbot to the topic; the functions then publish a custom
notification card for it next to the e-mail text (functions/_shared/chat.py). The channel role
has no permissions and the guardrail denies everything: the channel only receives notifications,
and nobody can run AWS commands from it, whatever the role is later given (docs/aws-facts.md,
"Chat").
"""

from __future__ import annotations

from troposphere import (
    Equals,
    GetAtt,
    If,
    Join,
    Not,
    Ref,
    Select,
    Split,
    chatbot,
    iam,
)

from . import policies
from .conditions import HAS_CHAT, HAS_SLACK, HAS_TEAMS
from .naming import managed_policy
from .parameters import CHAT_TOGETHER
from .stack import Stack

# Channels get notifications only: no channel member's command can do anything.
GUARDRAIL = "AWSDenyAll"
# Errors only, to /aws/chatbot/<configuration name> in us-east-1, where Chatbot writes its logs.
LOGGING_LEVEL = "ERROR"


def add_chat(stack: Stack) -> None:
    role = stack.add(
        iam.Role(
            "ChatChannelRole",
            Condition=HAS_CHAT,
            Description="Assumed by AWS Chatbot for the chat channels: no permissions "
            "(notifications only)",
            AssumeRolePolicyDocument=policies.assume_role("chatbot", source_account=False),
        ),
        role="chat-role",
    )
    common = {
        "IamRoleArn": GetAtt(role, "Arn"),
        "SnsTopicArns": [stack.topic_arn],
        "GuardrailPolicies": [managed_policy(GUARDRAIL)],
        "LoggingLevel": LOGGING_LEVEL,
        "UserRoleRequired": False,
    }
    stack.add(
        chatbot.SlackChannelConfiguration(
            "SlackChannelConfiguration",
            Condition=HAS_SLACK,
            ConfigurationName=configuration_name("slack"),
            SlackWorkspaceId=Ref("SlackWorkspaceId"),
            SlackChannelId=Ref("SlackChannelId"),
            **common,
        )
    )
    stack.add(
        chatbot.MicrosoftTeamsChannelConfiguration(
            "TeamsChannelConfiguration",
            Condition=HAS_TEAMS,
            ConfigurationName=configuration_name("teams"),
            TeamsTenantId=Ref("TeamsTenantId"),
            TeamId=Ref("TeamsTeamId"),
            TeamsChannelId=Ref("TeamsChannelId"),
            **common,
        )
    )
    for tool, names in zip(("Slack", "Teams"), CHAT_TOGETHER, strict=True):
        _add_rules(stack, tool, names)


def chat_notifications_variable() -> If:
    """CHAT_NOTIFICATIONS of the functions: whether a channel reads the topic."""
    return If(HAS_CHAT, "true", "false")


def configuration_name(tool: str) -> Join:
    """compliance-<tool>-<region>-<first block of the stack id>: a configuration name is the
    account's, not the region's, so a stack in each region gets a name of its own (at most 40
    characters, within the 128 of ^[A-Za-z0-9-_]+$)."""
    stack_uuid = Select(2, Split("/", Ref("AWS::StackId")))
    return Join(
        "-",
        [f"compliance-{tool}", Ref("AWS::Region"), Select(0, Split("-", stack_uuid))],
    )


def _add_rules(stack: Stack, tool: str, names: tuple[str, ...]) -> None:
    """Some of a channel's ids without the others would silently configure nothing: refuse it at
    deploy time, as the aggregator pair is refused. Outside the aws partition, refuse any."""
    empty = [Equals(Ref(name), "") for name in names]
    listed = ", ".join(names[:-1]) + f" and {names[-1]}"
    every = "both" if len(names) == 2 else "all"
    stack.template.add_rule(
        f"{tool}ChannelIdsTogether",
        {
            "Assertions": [
                {
                    "Assert": {
                        "Fn::Or": [
                            {"Fn::And": empty},
                            {"Fn::And": [Not(test) for test in empty]},
                        ]
                    },
                    "AssertDescription": f"{listed} must be set together, or {every} left empty",
                }
            ]
        },
    )
    stack.template.add_rule(
        f"{tool}ChannelOnlyWhereChatbotIs",
        {
            "RuleCondition": Not(Equals(Ref("AWS::Partition"), "aws")),
            "Assertions": [
                {
                    "Assert": {"Fn::And": empty},
                    "AssertDescription": f"{listed} must be empty outside the aws partition: "
                    "AWS Chatbot is not available in China or GovCloud regions",
                }
            ],
        },
    )
