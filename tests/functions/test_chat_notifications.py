"""Chat cards (AWS Chatbot's custom-notification format) next to the e-mail text, published per
protocol when CHAT_NOTIFICATIONS=true, and the short e-mail subjects."""

from __future__ import annotations

import json

import chat
import pytest
import render
import settings
import subjects
from conftest import ACCOUNT, REGION, lambda_context, load_app
from function_events import change_event, finding

processing = load_app("processing")
remediation = load_app("remediation")


def chat_on(monkeypatch):
    monkeypatch.setenv("CHAT_NOTIFICATIONS", "true")


def published(world) -> list[dict]:
    """Each notification as SNS received it; a per-protocol one decoded (and its card)."""
    notes = []
    for note in world.notifications():
        try:
            message = json.loads(note["message"])
        except ValueError:
            message = None
        if isinstance(message, dict) and "https" in message:
            notes.append({**note, "per_protocol": message, "card": json.loads(message["https"])})
        else:
            notes.append(note)
    return notes


def sqs_subscriber(world) -> str:
    sqs, sns = world.aws.client("sqs"), world.aws.client("sns")
    url = sqs.create_queue(QueueName="subscriber")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    sns.subscribe(TopicArn=world.topic_arn, Protocol="sqs", Endpoint=arn)
    return url


def received(world, url: str) -> list[dict]:
    messages = world.aws.client("sqs").receive_message(QueueUrl=url, MaxNumberOfMessages=10)
    return [json.loads(m["Body"]) for m in messages.get("Messages", [])]


# --- the card -------------------------------------------------------------------------------


def test_a_card_has_the_custom_notification_shape():
    document = chat.card(
        "Title", [("Rule", "r"), ("Resource", "x")], ["do this", ""], ["A", "A", "B"], "t/1"
    )
    assert document == {
        "version": "1.0",
        "source": "custom",
        "content": {
            "textType": "client-markdown",
            "title": "Title",
            "description": "*Rule:* r\n*Resource:* x",
            "nextSteps": ["do this"],
            "keywords": ["A", "B"],
        },
        "metadata": {"threadId": "t/1"},
    }
    assert "metadata" not in chat.card("T", [], [], [])


def test_every_part_of_a_card_stays_within_its_bound():
    long = "é" * 5000 + "\nsecond line"
    document = chat.card(long, [(f"F{i}", long) for i in range(10)], [long] * 9, [long] * 9, long)
    content = document["content"]
    assert len(content["title"]) == chat.MAX_TITLE and content["title"].endswith("...")
    assert "\n" not in content["title"]
    assert len(content["description"]) <= chat.MAX_DESCRIPTION
    assert len(content["nextSteps"]) == chat.MAX_NEXT_STEPS
    assert all(len(step) <= chat.MAX_STEP for step in content["nextSteps"])
    assert len(content["keywords"]) <= chat.MAX_KEYWORDS
    assert all(len(k) <= chat.MAX_KEYWORD for k in content["keywords"])
    assert len(document["metadata"]["threadId"]) <= chat.MAX_FIELD
    # Far within SNS's 256 KB for the whole message, text and card together.
    assert len(chat.per_protocol(long * 10, document).encode("utf-8")) < 256 * 1024


def test_runbook_links_are_markdown_only_for_web_addresses():
    assert chat.link("https://wiki/X.md", "X runbook") == "[X runbook](https://wiki/X.md)"
    assert chat.link("docs/runbooks/X.md", "X runbook") == "docs/runbooks/X.md"


def test_per_protocol_message_gives_text_by_email_and_the_card_over_https():
    card = chat.card("T", [("A", "b")], [], [])
    message = json.loads(chat.per_protocol("plain text", card))
    assert set(message) == {"default", "email", "https"}
    assert message["default"] == message["email"] == "plain text"
    assert json.loads(message["https"]) == card


# --- processing -------------------------------------------------------------------------------


def test_a_violation_card_names_rule_resource_place_compliance_and_runbook(world, monkeypatch):
    chat_on(monkeypatch)
    monkeypatch.setenv("RUNBOOK_BASE_URL", "https://wiki.example.com/runbooks")
    processing.handler(change_event("NON_COMPLIANT", "COMPLIANT"), lambda_context())
    [note] = published(world)
    card = note["card"]
    assert card["version"] == "1.0" and card["source"] == "custom"
    content = card["content"]
    assert content["title"] == ":rotating_light: Non-compliant: compliance-encrypted-volumes"
    description = content["description"]
    for expected in (
        "*Rule:* compliance-encrypted-volumes (ENCRYPTED_VOLUMES)",
        "*Resource:* AWS::EC2::Volume vol-0123456789abcdef0",
        f"*Account / region:* {ACCOUNT} / {REGION}",
        "*Compliance:* NON_COMPLIANT (was COMPLIANT)",
        "[ENCRYPTED_VOLUMES runbook](https://wiki.example.com/runbooks/ENCRYPTED_VOLUMES.md)",
    ):
        assert expected in description
    assert content["nextSteps"][0].startswith("Snapshot the volume")
    assert content["keywords"] == ["NON_COMPLIANT", "ENCRYPTED_VOLUMES", ACCOUNT, REGION]
    assert card["metadata"]["threadId"] == (
        f"{ACCOUNT}/{REGION}/compliance-encrypted-volumes/vol-0123456789abcdef0"
    )
    # E-mail keeps today's text and gets a short subject.
    assert note["per_protocol"]["email"].startswith("A resource became non-compliant.")
    assert note["subject"] == "Non-compliant: encrypted-volumes on vol-0123456789abcdef0"


def test_a_resolved_card_has_nothing_to_do(world, monkeypatch):
    chat_on(monkeypatch)
    processing.handler(change_event("COMPLIANT", "NON_COMPLIANT"), lambda_context())
    [note] = published(world)
    assert note["card"]["content"]["title"].startswith(":white_check_mark: Resolved: ")
    assert note["card"]["content"]["nextSteps"] == []
    assert "docs/runbooks/ENCRYPTED_VOLUMES.md" in note["card"]["content"]["description"]


def test_an_sqs_subscriber_gets_the_text_not_the_card(world, monkeypatch):
    chat_on(monkeypatch)
    url = sqs_subscriber(world)
    processing.handler(change_event("NON_COMPLIANT", "COMPLIANT"), lambda_context())
    [envelope] = received(world, url)
    assert envelope["Message"].startswith("A resource became non-compliant.")
    assert envelope["Subject"] == "Non-compliant: encrypted-volumes on vol-0123456789abcdef0"


def test_without_a_channel_the_message_is_the_text_alone(world, monkeypatch):
    monkeypatch.delenv("CHAT_NOTIFICATIONS", raising=False)
    url = sqs_subscriber(world)
    processing.handler(change_event("NON_COMPLIANT", "COMPLIANT"), lambda_context())
    [note] = published(world)
    assert "card" not in note and note["message"].startswith("A resource became non-compliant.")
    [envelope] = received(world, url)
    assert envelope["Message"] == note["message"]


@pytest.mark.parametrize("value", ["yes", "1", "on"])
def test_a_chat_setting_other_than_true_or_false_is_refused_by_name(value):
    with pytest.raises(settings.ConfigurationError) as error:
        settings.boolean({"CHAT_NOTIFICATIONS": value}, "CHAT_NOTIFICATIONS", False)
    assert str(error.value) == (
        f"environment variable CHAT_NOTIFICATIONS is '{value}'; allowed: true or false"
    )


def test_a_bad_chat_setting_fails_the_invocation_naming_it(world, monkeypatch):
    monkeypatch.setenv("CHAT_NOTIFICATIONS", "maybe")
    with pytest.raises(settings.ConfigurationError, match="CHAT_NOTIFICATIONS"):
        processing.handler(change_event(), lambda_context())
    assert world.notifications() == []


# --- remediation and reporting ------------------------------------------------------------


def test_a_remediation_decision_has_a_card(world, monkeypatch):
    chat_on(monkeypatch)
    world.aws.client("s3").create_bucket(Bucket="data-bucket")
    remediation.handler(
        finding("AWS::S3::Bucket", "data-bucket"), lambda_context(function="remediation")
    )
    [note] = published(world)
    content = note["card"]["content"]
    assert content["title"] == (
        ":wrench: Remediation dry-run: compliance-s3-bucket-server-side-encryption-enabled"
    )
    assert "*Mode:* dry-run" in content["description"]
    assert "*Why:* the bucket has no default encryption" in content["description"]
    assert content["nextSteps"] == [
        "Follow the runbook: docs/runbooks/S3_BUCKET_SERVER_SIDE_ENCRYPTION_ENABLED.md"
    ]
    assert (
        note["subject"]
        == "Remediation dry-run: s3-bucket-server-side-encryption-enabled on data-bucket"
    )


def report(non_compliant: int) -> dict:
    rule = {
        "ruleName": "compliance-encrypted-volumes",
        "ruleIdentifier": "ENCRYPTED_VOLUMES",
        "found": True,
        "compliant": 3,
        "nonCompliant": non_compliant,
        "evaluated": 3 + non_compliant,
        "runbook": "https://wiki/ENCRYPTED_VOLUMES.md",
    }
    return {
        "runId": "2024-05-01T060000Z",
        "scope": {"account": ACCOUNT, "region": REGION},
        "totals": {
            "compliant": 3,
            "nonCompliant": non_compliant,
            "evaluated": 3 + non_compliant,
            "rules": 1,
            "rulesNotFound": 0,
            "rulesWithNonCompliant": 1 if non_compliant else 0,
            "score": round(300 / (3 + non_compliant), 2),
            "previousScore": None,
            "scoreChange": None,
        },
        "rules": [rule],
        "changes": {"previousRunId": None, "stillOpen": non_compliant},
        "frameworks": [],
        "trend": [],
        "artifacts": {"report": "s3://b/reports/r/report.html"},
    }


def test_a_report_card_lists_the_worst_rules_with_their_runbooks():
    content = render.card(report(2))["content"]
    assert content["title"] == ":warning: Compliance report 2024-05-01: 2 non-compliant"
    assert (
        "*compliance-encrypted-volumes:* 2 / 5 non-compliant ([runbook](https://wiki/ENCRYPTED_VOLUMES.md))"
        in content["description"]
    )
    assert "*Report:* s3://b/reports/r/report.html" in content["description"]
    assert content["nextSteps"] == [
        "Open the runbook of compliance-encrypted-volumes: https://wiki/ENCRYPTED_VOLUMES.md"
    ]
    clean = render.card(report(0))["content"]
    assert clean["title"].startswith(":white_check_mark:") and clean["nextSteps"] == []


def test_a_report_card_shows_at_most_five_rules():
    document = report(1)
    document["rules"] = [
        {**document["rules"][0], "ruleName": f"rule-{i}", "nonCompliant": i} for i in range(1, 9)
    ]
    lines = render.card(document)["content"]["description"].splitlines()
    shown = [line for line in lines if line.startswith("*rule-")]
    assert [line.split(":")[0] for line in shown] == [f"*rule-{i}" for i in (8, 7, 6, 5, 4)]


# --- subjects -------------------------------------------------------------------------------

LONGEST_RULE = "r" * 64  # a Config rule name has at most 64 characters
LONGEST_RESOURCE = "x" * 768  # what processing accepts as a resource id


@pytest.mark.parametrize(
    ("label", "rule", "resource"),
    [
        ("Non-compliant", LONGEST_RULE, LONGEST_RESOURCE),
        ("Remediation interrupted", LONGEST_RULE, "arn:aws:iam::1:role/" + LONGEST_RESOURCE),
        ("Resolved", "règle-ünïcode-\u202e", "日本語/ressource\n" + "y" * 300),
    ],
)
def test_subjects_are_short_one_ascii_line(label, rule, resource):
    subject = subjects.short_subject(label, rule, resource)
    assert len(subject) <= subjects.SHORT_SUBJECT_MAX
    assert subject.isascii() and "\n" not in subject
    assert subject.startswith(f"{label}: ") and " on " in subject
    assert subjects.subject_line(subject) == subject  # what SNS is sent


def test_a_subject_keeps_both_ends_of_a_long_resource_id():
    subject = subjects.short_subject("Non-compliant", "encrypted-volumes", "vol-" + "0" * 100 + "f")
    assert subject.startswith("Non-compliant: encrypted-volumes on vol-000")
    assert subject.endswith("000f") and "..." in subject


def test_a_subject_names_the_last_part_of_an_arn():
    subject = subjects.short_subject(
        "Non-compliant", "iam-policy", "arn:aws:iam::123456789012:policy/team/admins"
    )
    assert subject == "Non-compliant: iam-policy on admins"
