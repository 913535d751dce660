"""Notifications SNS cannot deliver are kept and alarmed on, in every template with a topic."""

from __future__ import annotations

import json

import pytest
from template_helpers import as_dict, resources_of, statements

from compliance_template.generator.organization import build_central_template, build_member_template
from compliance_template.generator.settings import Settings
from compliance_template.output import render

SUBSCRIPTIONS = {
    "EmailSubscription": "HasNotificationEmail",
    "HttpsSubscription": "HasNotificationHttpsUrl",
}


@pytest.fixture(scope="module", params=["single-account", "org-central"])
def with_topic(request) -> dict:
    if request.param == "single-account":
        return as_dict(Settings())
    return json.loads(render(build_central_template(Settings()), "json"))


def test_every_subscription_redrives_to_its_own_encrypted_queue(with_topic):
    resources = with_topic["Resources"]
    for subscription, condition in SUBSCRIPTIONS.items():
        queue_id = f"{subscription}DeadLetterQueue"
        properties = resources[subscription]["Properties"]
        assert properties["RedrivePolicy"] == {
            "deadLetterTargetArn": {"Fn::GetAtt": [queue_id, "Arn"]}
        }
        queue = resources[queue_id]
        assert queue["Type"] == "AWS::SQS::Queue"
        assert queue["Condition"] == condition == resources[subscription]["Condition"]
        assert queue["Properties"]["KmsMasterKeyId"] == {"Fn::GetAtt": ["ComplianceKey", "Arn"]}
        assert queue["Properties"]["MessageRetentionPeriod"] == 14 * 24 * 3600


def test_only_our_topic_may_send_to_a_redrive_queue(with_topic):
    resources = with_topic["Resources"]
    for subscription, condition in SUBSCRIPTIONS.items():
        queue_id = f"{subscription}DeadLetterQueue"
        policy = resources[f"{queue_id}Policy"]
        assert policy["Type"] == "AWS::SQS::QueuePolicy"
        assert policy["Condition"] == condition
        assert policy["Properties"]["Queues"] == [{"Ref": queue_id}]
        found = statements(policy["Properties"]["PolicyDocument"])
        send = found["TopicRedrivesUndeliverable"]
        assert send["Principal"] == {"Service": ["sns.amazonaws.com"]}
        assert send["Action"] == ["sqs:SendMessage"]
        assert send["Resource"] == [{"Fn::GetAtt": [queue_id, "Arn"]}]
        assert send["Condition"] == {"ArnEquals": {"aws:SourceArn": {"Ref": "NotificationTopic"}}}
        assert found["DenyInsecureTransport"]["Effect"] == "Deny"


def test_key_policy_lets_sns_write_the_encrypted_redrive_queues(with_topic):
    policy = with_topic["Resources"]["ComplianceKey"]["Properties"]["KeyPolicy"]
    sns = statements(policy)["NotificationsRedriveToEncryptedQueues"]
    assert sns["Principal"] == {"Service": ["sns.amazonaws.com"]}
    assert sorted(sns["Action"]) == ["kms:Decrypt", "kms:GenerateDataKey*"]


def test_member_key_policy_has_no_topic_statements():
    member = json.loads(render(build_member_template(Settings()), "json"))
    policy = member["Resources"]["ComplianceKey"]["Properties"]["KeyPolicy"]
    assert not {"AlarmsPublishToEncryptedTopic", "NotificationsRedriveToEncryptedQueues"} & set(
        statements(policy)
    )
    assert not resources_of(member, "AWS::SNS::Subscription")


def test_failed_deliveries_and_redriven_messages_raise_alarms_to_the_topic(with_topic):
    alarms = resources_of(with_topic, "AWS::CloudWatch::Alarm")
    failed = alarms["NotificationsFailedAlarm"]["Properties"]
    assert (failed["Namespace"], failed["MetricName"]) == ("AWS/SNS", "NumberOfNotificationsFailed")
    assert failed["Dimensions"] == [
        {"Name": "TopicName", "Value": {"Fn::GetAtt": ["NotificationTopic", "TopicName"]}}
    ]
    assert failed["Statistic"] == "Sum"
    assert (failed["Threshold"], failed["ComparisonOperator"]) == (
        1,
        "GreaterThanOrEqualToThreshold",
    )
    for subscription, condition in SUBSCRIPTIONS.items():
        queue_id = f"{subscription}DeadLetterQueue"
        alarm = alarms[f"{queue_id}Alarm"]
        assert alarm["Condition"] == condition
        properties = alarm["Properties"]
        assert (properties["Namespace"], properties["MetricName"]) == (
            "AWS/SQS",
            "ApproximateNumberOfMessagesVisible",
        )
        assert properties["Dimensions"] == [
            {"Name": "QueueName", "Value": {"Fn::GetAtt": [queue_id, "QueueName"]}}
        ]
        assert properties["Threshold"] == 1
        assert properties["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
    for name in ("NotificationsFailedAlarm", *(f"{s}DeadLetterQueueAlarm" for s in SUBSCRIPTIONS)):
        topic = [{"Ref": "NotificationTopic"}]
        assert alarms[name]["Properties"]["AlarmActions"] == topic, name
        assert alarms[name]["Properties"]["OKActions"] == topic, name


def test_dashboard_shows_undelivered_notifications_without_referring_to_optional_queues(
    with_topic,
):
    body = with_topic["Resources"]["ComplianceDashboard"]["Properties"]["DashboardBody"]["Fn::Sub"]
    dashboard = json.loads(body)
    (widget,) = [
        w
        for w in dashboard["widgets"]
        if w["properties"]["title"] == "Notifications SNS could not deliver"
    ]
    failed, redrive = widget["properties"]["metrics"]
    assert failed[:4] == [
        "AWS/SNS",
        "NumberOfNotificationsFailed",
        "TopicName",
        "${NotificationTopic.TopicName}",
    ]
    expression = redrive[0]["expression"]
    assert expression.startswith("SEARCH('{AWS/SQS,QueueName}")
    for subscription in SUBSCRIPTIONS:
        assert f'"{subscription}DeadLetterQueue"' in expression
        # A conditional resource named in the unconditional dashboard would fail the deploy.
        assert f"${{{subscription}DeadLetterQueue" not in body
