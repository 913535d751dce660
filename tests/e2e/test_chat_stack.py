"""The default template deployed with a Slack and a Teams channel: the emulator keeps both
configurations on the stack's topic (moto has no Chatbot), the functions publish the card next
to the text, and a new channel id updates a configuration in place."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from e2e_checks import FUNCTIONS
from e2e_handlers import Notifications, compliance_change_event, run_handler

from compliance_template.local.chatbot import configurations
from compliance_template.local.cycle import INITIAL_PARAMETERS, REGION, LocalStack, local_stack
from compliance_template.local.emulator import ACCOUNT_ID

CHAT = {
    "SlackWorkspaceId": "T0123ABCD",
    "SlackChannelId": "C0123ABCD",
    "TeamsTenantId": "0a1b2c3d-4e5f-1a2b-3c4d-0a1b2c3d4e5f",
    "TeamsTeamId": "1a2b3c4d-5e6f-1a2b-3c4d-1a2b3c4d5e6f",
    "TeamsChannelId": "19%3aabc123%40thread.tacv2",
}
BUCKET = "chat-example-bucket"


@pytest.fixture(scope="module")
def stack() -> Iterator[LocalStack]:
    with local_stack() as running:
        running.account_setup()
        running.deploy_stack({**INITIAL_PARAMETERS, **CHAT}, "chat")
        yield running


def environment_of(stack: LocalStack, folder: str) -> dict[str, str]:
    name = stack.physical[FUNCTIONS[folder]]
    configuration = stack.client("lambda").get_function_configuration(FunctionName=name)
    return configuration["Environment"]["Variables"]


def test_both_channels_read_the_stacks_topic_with_the_narrow_settings(stack):
    stored = configurations(ACCOUNT_ID)
    by_type = {c["Type"].rsplit("::", 1)[-1]: c["Properties"] for c in stored.values()}
    assert sorted(by_type) == ["MicrosoftTeamsChannelConfiguration", "SlackChannelConfiguration"]
    role = stack.client("iam").get_role(RoleName=stack.physical["ChatChannelRole"])["Role"]
    for properties in by_type.values():
        assert properties["SnsTopicArns"] == [stack.physical["NotificationTopic"]]
        assert properties["IamRoleArn"] == role["Arn"]
        assert properties["GuardrailPolicies"] == ["arn:aws:iam::aws:policy/AWSDenyAll"]
        assert properties["LoggingLevel"] == "ERROR"
        assert properties["ConfigurationName"].startswith("compliance-")
        assert f"-{REGION}-" in properties["ConfigurationName"]
    assert by_type["SlackChannelConfiguration"]["SlackChannelId"] == CHAT["SlackChannelId"]
    assert by_type["MicrosoftTeamsChannelConfiguration"]["TeamId"] == CHAT["TeamsTeamId"]
    assert set(stored) == {
        stack.physical["SlackChannelConfiguration"],
        stack.physical["TeamsChannelConfiguration"],
    }
    attached = stack.client("iam").list_attached_role_policies(RoleName=role["RoleName"])
    assert attached["AttachedPolicies"] == []


def test_every_function_publishes_cards(stack):
    for folder in FUNCTIONS:
        assert environment_of(stack, folder)["CHAT_NOTIFICATIONS"] == "true", folder


def test_a_violation_reaches_a_queue_as_text_and_https_as_the_card(stack):
    from moto.sns.models import sns_backends

    notifications = Notifications(stack)
    stack.client("s3").create_bucket(
        Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION}
    )
    rule = next(
        r["ConfigRuleName"]
        for r in stack.client("config").describe_config_rules()["ConfigRules"]
        if r["ConfigRuleName"].endswith("s3-bucket-server-side-encryption-enabled")
    )
    event = compliance_change_event(rule, "AWS::S3::Bucket", BUCKET, datetime.now(UTC))
    assert run_handler(stack, "processing", event)["status"] == "recorded"
    [envelope] = notifications.received()
    assert envelope["Message"].startswith("A resource became non-compliant.")
    assert envelope["Subject"] == (
        f"Non-compliant: s3-bucket-server-side-encryption-enabled on {BUCKET}"
    )
    topic = sns_backends[ACCOUNT_ID][REGION].topics[stack.physical["NotificationTopic"]]
    message = json.loads(topic.sent_notifications[-1][1])
    card = json.loads(message["https"])
    assert card["source"] == "custom"
    assert f"*Resource:* AWS::S3::Bucket {BUCKET}" in card["content"]["description"]


def test_a_new_channel_id_updates_the_configuration_in_place(stack):
    """SlackChannelId is not create-only: same configuration, same ARN, new channel. (Clearing
    the ids is not emulated: moto updates a resource whose condition turns false instead of
    deleting it; docs/deploy.md.)"""
    before = stack.physical["SlackChannelConfiguration"]
    stack.deploy_stack({**INITIAL_PARAMETERS, **CHAT, "SlackChannelId": "C9999ZZZZ"}, "chat-moved")
    assert stack.physical["SlackChannelConfiguration"] == before
    assert configurations(ACCOUNT_ID)[before]["Properties"]["SlackChannelId"] == "C9999ZZZZ"
