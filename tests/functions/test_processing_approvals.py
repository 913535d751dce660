"""Processing passes SSM Automation's approval requests (aws:approve, through the stack's
"Automation..." topic) on to the notification topic, once per SNS message, whatever the text
looks like: AWS does not document it, so fields are taken where found and the raw text kept."""

from __future__ import annotations

import json

import approvals
import pytest
from conftest import ACCOUNT, REGION, lambda_context, load_app

processing = load_app("processing")
APPROVAL_TOPIC = f"arn:aws:sns:{REGION}:{ACCOUNT}:Automation-compliance-approvals"
EXECUTION = "4f8f1c5e-2d3b-4a6c-9e7d-0123456789ab"
# The Message input of the stack's wrapper runbook ("Name: value" lines, docs/functions.md).
RUNBOOK_MESSAGE = (
    "Rule: compliance-ec2-instance-no-public-ip\n"
    "Resource: i-0123456789abcdef0\n"
    "Document: AWSConfigRemediation-RemovePublicIp\n"
    "Approvers: arn:aws:iam::123456789012:role/SecurityLead\n"
)


def sns_event(message: str, topic: str = APPROVAL_TOPIC, message_id: str = "msg-1") -> dict:
    """What SNS hands a Lambda subscriber (lambda protocol)."""
    return {
        "Records": [
            {
                "EventSource": "aws:sns",
                "EventVersion": "1.0",
                "EventSubscriptionArn": f"{topic}:sub-1",
                "Sns": {
                    "Type": "Notification",
                    "MessageId": message_id,
                    "TopicArn": topic,
                    "Subject": None,
                    "Message": message,
                    "Timestamp": "2026-12-02T10:00:00.000Z",
                    "MessageAttributes": {},
                },
            }
        ]
    }


def run(event, request_id="req-1"):
    return processing.handler(event, lambda_context(request_id))


def test_a_request_is_republished_with_who_may_approve_and_how(world):
    text = f"Automation execution {EXECUTION} is waiting for approval.\n{RUNBOOK_MESSAGE}"
    assert run(sns_event(text)) == {"status": "approval-requests", "outcomes": ["published"]}
    [sent] = world.notifications()
    assert sent["attributes"]["notificationType"] == "approval-request"
    assert sent["attributes"]["document"] == "AWSConfigRemediation-RemovePublicIp"
    assert sent["subject"].startswith("Approval needed: AWSConfigRemediation-RemovePublicIp on")
    body = sent["message"]
    for line in (
        f"Execution:   {EXECUTION}",
        "Runbook:     AWSConfigRemediation-RemovePublicIp",
        "Rule:        compliance-ec2-instance-no-public-ip",
        "Resource:    i-0123456789abcdef0",
        "Approvers:   arn:aws:iam::123456789012:role/SecurityLead",
        f"aws ssm send-automation-signal --automation-execution-id {EXECUTION} "
        "--signal-type Approve",
        "Systems Manager console > Automation",
    ):
        assert line in body
    assert body.endswith(text + "\n")  # the request as sent, whole
    [key] = world.keys("compliance-changes/approval-requests/")
    assert world.read_json(key)["delivery"]["published"] is True


def test_a_json_request_gives_its_fields_and_an_unknown_shape_is_kept_raw(world):
    message = json.dumps({"AutomationExecutionId": EXECUTION, "DocumentName": "Wrapper-Doc"})
    run(sns_event(message, message_id="m-json"))
    run(sns_event("please look at this", message_id="m-text"))
    first, second = world.notifications()
    assert f"Execution:   {EXECUTION}" in first["message"]
    assert "Runbook:     Wrapper-Doc" in first["message"]
    assert "Execution:   unknown (see the request below)" in second["message"]
    assert "--automation-execution-id <id>" in second["message"]
    assert second["message"].endswith("please look at this\n")


def test_a_duplicate_delivery_is_published_once_and_a_failed_publish_retried(world):
    world.fail("sns", "Publish")
    with pytest.raises(Exception, match="injected"):
        run(sns_event(RUNBOOK_MESSAGE))
    assert world.notifications() == []
    assert run(sns_event(RUNBOOK_MESSAGE))["outcomes"] == ["published"]
    assert run(sns_event(RUNBOOK_MESSAGE), "req-2")["outcomes"] == ["duplicate"]
    assert len(world.notifications()) == 1


def test_the_chat_card_carries_the_command(world):
    world.monkeypatch.setenv("CHAT_NOTIFICATIONS", "true")
    run(sns_event(f"{EXECUTION}\n{RUNBOOK_MESSAGE}"))
    [sent] = world.notifications()
    card = json.loads(json.loads(sent["message"])["https"])
    assert any("send-automation-signal" in step for step in card["content"]["nextSteps"])


@pytest.mark.parametrize(
    "event",
    [
        sns_event("x", topic=f"arn:aws:sns:{REGION}:{ACCOUNT}:compliance"),
        {"Records": []},
        {"Records": [{"EventSource": "aws:sqs"}]},
        {"source": "aws.config"},
    ],
)
def test_only_sns_deliveries_from_an_automation_topic_are_approval_requests(event):
    assert not approvals.is_approval_event(event)
