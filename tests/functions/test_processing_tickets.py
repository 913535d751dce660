"""Tickets: an OpsCenter OpsItem per new violation, de-duplicated and resolved, against moto with
the emulator's OpsItem APIs (moto has none)."""

from __future__ import annotations

import json

import changes
import delivery
import exemptions
import pytest
import settings
import tickets
from botocore.exceptions import ClientError
from conftest import ACCOUNT, BUCKET, REGION, lambda_context, load_app
from function_events import change_event

from compliance_template.generator.naming import OPS_ITEM_TAG_KEY, TICKETS_PREFIX
from compliance_template.local.ops_items import ops_items, stored

processing = load_app("processing")
STACK = "compliance-stack"
EXEMPTING = exemptions.parse(
    json.dumps(
        {
            "schemaVersion": exemptions.SCHEMA_VERSION,
            "exemptions": [
                {
                    "id": "EX-1",
                    "rules": ["ENCRYPTED_VOLUMES"],
                    "resources": ["vol-*"],
                    "accounts": [],
                    "regions": [],
                    "reason": "legacy volume, replaced in Q3",
                    "owner": "storage-team",
                    "granted": "2024-04-01",
                    "expires": "2024-09-30",
                }
            ],
        }
    )
)


def run(event, request_id="req-1"):
    return processing.handler(event, lambda_context(request_id))


@pytest.fixture
def opscenter(world, monkeypatch):
    monkeypatch.setenv("OPS_ITEMS", "true")
    monkeypatch.setenv("STACK_NAME", STACK)
    with ops_items():
        yield world


def items():
    return list(stored(ACCOUNT, REGION).values())


def ticket_keys(world):
    return world.keys(TICKETS_PREFIX + "/")


def test_a_violation_opens_one_ops_item_and_keeps_its_id(opscenter):
    outcome = run(change_event("NON_COMPLIANT", "COMPLIANT"))
    assert outcome["sent"] == ["notification", "ticket"]
    [item] = items()
    assert item["Status"] == "Open"
    assert item["Source"] == "compliance-monitoring" and item["Category"] == "Security"
    assert item["Severity"] == tickets.SEVERITY_OTHER  # the stack enables no framework
    assert (
        item["Title"] == "Non-compliant: ENCRYPTED_VOLUMES - AWS::EC2::Volume vol-0123456789abcdef0"
    )
    for text in (
        "compliance-encrypted-volumes (ENCRYPTED_VOLUMES)",
        f"{ACCOUNT} / {REGION}",
        "The volume is not encrypted.",
        "docs/runbooks/ENCRYPTED_VOLUMES.md",
        f"s3://{BUCKET}/compliance-changes/",
    ):
        assert text in item["Description"]
    dedup = json.loads(item["OperationalData"]["/aws/dedup"]["Value"])["dedupString"]
    assert dedup == tickets.dedup_string(
        ACCOUNT,
        REGION,
        "compliance-encrypted-volumes",
        "AWS::EC2::Volume",
        "vol-0123456789abcdef0",
    )
    assert "/aws/resources" not in item["OperationalData"]
    assert item["_tags"] == [{"Key": OPS_ITEM_TAG_KEY, "Value": STACK}]
    [key] = ticket_keys(opscenter)
    assert key == (
        f"tickets/account={ACCOUNT}/region={REGION}/rule=compliance-encrypted-volumes/"
        "AWS%3A%3AEC2%3A%3AVolume/vol-0123456789abcdef0.json"
    )
    document = opscenter.read_json(key)
    assert document["opsItemId"] == item["OpsItemId"] and document["status"] == "Open"
    assert document["kind"] == "compliance-ticket"


def test_the_change_back_to_compliant_resolves_the_ops_item(opscenter):
    run(change_event("NON_COMPLIANT", "COMPLIANT"), "req-1")
    outcome = run(
        change_event("COMPLIANT", "NON_COMPLIANT", ordering="2024-05-02T00:00:00Z"), "req-2"
    )
    assert outcome["sent"] == ["notification", "ticket"]
    [item] = items()
    assert item["Status"] == "Resolved"
    [key] = ticket_keys(opscenter)
    document = opscenter.read_json(key)
    assert document["status"] == "Resolved"
    assert document["resolvedBy"].startswith(
        f"s3://{BUCKET}/compliance-changes/year=2024/month=05/day=02/"
    )

    # A later violation of the same resource opens a new OpsItem: the old one is resolved.
    run(change_event("NON_COMPLIANT", "COMPLIANT", ordering="2024-05-03T00:00:00Z"), "req-3")
    assert sorted(i["Status"] for i in items()) == ["Open", "Resolved"]
    assert opscenter.read_json(key)["opsItemId"] != item["OpsItemId"]


def test_resolving_a_key_with_no_ticket_does_nothing_and_succeeds(opscenter):
    outcome = run(change_event("COMPLIANT", "NON_COMPLIANT"))
    assert outcome["sent"] == ["notification", "ticket"]
    assert items() == [] and ticket_keys(opscenter) == []


def test_still_non_compliant_and_other_changes_leave_tickets_alone(opscenter):
    run(change_event("NON_COMPLIANT", "NON_COMPLIANT"))
    run(change_event("NOT_APPLICABLE", "COMPLIANT", ordering="2024-05-02T00:00:00Z"))
    assert items() == [] and ticket_keys(opscenter) == []


def test_tickets_are_off_by_default(world):
    with ops_items():
        assert run(change_event())["sent"] == ["notification"]
        assert items() == []


def test_a_failed_create_marks_the_ticket_incomplete_and_the_retry_opens_it_once(opscenter):
    opscenter.fail("ssm", "CreateOpsItem", code="InternalServerError")
    with pytest.raises(ClientError):
        run(change_event(), "req-1")
    [record_key] = opscenter.keys("compliance-changes/")
    assert opscenter.read_json(record_key)["delivery"]["incomplete"] == ["ticket"]
    assert items() == [] and len(opscenter.notifications()) == 1

    assert run(change_event(), "req-1")["sent"] == ["ticket"]  # Lambda's retry
    assert len(items()) == 1 and len(opscenter.notifications()) == 1
    assert "incomplete" not in opscenter.read_json(record_key)["delivery"]
    assert run(change_event(), "req-2")["status"] == "duplicate"
    assert len(items()) == 1


def test_when_the_id_cannot_be_stored_the_retry_finds_the_open_ops_item_by_its_dedup_string(
    opscenter,
):
    # CreateOpsItem succeeded, then the S3 write of its id failed: the retry must not open a
    # second OpsItem. OpsCenter refuses it (same dedup string, still open) and names the first.
    original = delivery.AwsPort.save
    failures = {"left": 1}

    def save(self, key, record):
        if key.startswith(TICKETS_PREFIX) and failures["left"]:
            failures["left"] -= 1
            raise ClientError({"Error": {"Code": "SlowDown", "Message": "x"}}, "PutObject")
        return original(self, key, record)

    opscenter.monkeypatch.setattr(delivery.AwsPort, "save", save)
    with pytest.raises(ClientError):
        run(change_event(), "req-1")
    [item] = items()
    assert ticket_keys(opscenter) == []

    assert run(change_event(), "req-1")["sent"] == ["ticket"]
    assert len(items()) == 1
    [key] = ticket_keys(opscenter)
    assert opscenter.read_json(key)["opsItemId"] == item["OpsItemId"]


def test_a_failed_resolve_is_retried_and_completes(opscenter):
    run(change_event("NON_COMPLIANT", "COMPLIANT"), "req-1")
    opscenter.fail("ssm", "UpdateOpsItem", code="ThrottlingException")
    resolved = change_event("COMPLIANT", "NON_COMPLIANT", ordering="2024-05-02T00:00:00Z")
    with pytest.raises(ClientError):
        run(resolved, "req-2")
    assert items()[0]["Status"] == "Open"
    assert run(resolved, "req-2")["sent"] == ["ticket"]
    assert items()[0]["Status"] == "Resolved"


def _config(world):
    return changes.load_settings(
        {
            "REPORTS_BUCKET": BUCKET,
            "TOPIC_ARN": world.topic_arn,
            "RULE_NAME_PREFIX": "compliance",
            "OPS_ITEMS": "true",
            "STACK_NAME": STACK,
        }
    )


def test_an_exempt_violation_opens_no_ticket(opscenter):
    config = _config(opscenter)
    event = change_event()
    change = changes.parse_event(event)
    exempt = changes.plan(change, event, config, "req-1", EXEMPTING)
    assert exempt.exemption["id"] == "EX-1"
    assert exempt.ticket is None and "ticket" not in exempt.side_effects
    not_exempt = changes.plan(change, event, config, "req-1")
    assert not_exempt.ticket is not None and not_exempt.ticket.action == "open"
    assert not_exempt.side_effects[-1] == "ticket"


def test_a_ticket_opened_before_the_exemption_is_still_resolved(opscenter):
    run(change_event("NON_COMPLIANT", "COMPLIANT"), "req-1")
    config = _config(opscenter)
    event = change_event("COMPLIANT", "NON_COMPLIANT", ordering="2024-05-02T00:00:00Z")
    plan = changes.plan(changes.parse_event(event), event, config, "req-2", EXEMPTING)
    # No "resolved" notification while exempt, but the open ticket is closed.
    assert plan.notification is None and plan.ticket.action == "resolve"
    delivery.deliver(
        plan,
        delivery.AwsPort(
            opscenter.s3,
            opscenter.aws.client("sns"),
            None,
            BUCKET,
            opscenter.topic_arn,
            "",
            ssm=opscenter.aws.client("ssm"),
        ),
        "req-2",
    )
    assert items()[0]["Status"] == "Resolved"


def test_framework_rules_rank_higher(opscenter, monkeypatch):
    monkeypatch.setenv("FRAMEWORKS", "abs-ccigv2-material")
    run(change_event(resource_type="AWS::S3::Bucket", resource_id="logs-bucket"))
    [item] = items()
    # The rule belongs to the framework the stack enables: above a best-practice rule.
    assert "**Frameworks:** abs-ccigv2-material" in item["Description"]
    assert item["Severity"] == tickets.SEVERITY_FRAMEWORK


def test_long_resource_ids_and_annotations_stay_within_opscenter_limits(opscenter):
    resource_id = "r" * 768
    run(change_event(resource_id=resource_id, annotation="a" * 4000))
    [item] = items()
    assert len(item["Title"]) <= tickets.TITLE_MAX
    assert len(item["Description"]) <= tickets.DESCRIPTION_MAX
    assert item["Description"].endswith("...")
    [key] = ticket_keys(opscenter)
    assert len(key.encode()) < 1024


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"OPS_ITEMS": "yes"}, "environment variable OPS_ITEMS is 'yes'; allowed: true or false"),
        (
            {"OPS_ITEMS": "true", "STACK_NAME": ""},
            "environment variable STACK_NAME is ''; allowed: the stack's name",
        ),
        (
            {"OPS_ITEMS": "true", "STACK_NAME": "bad name!"},
            "environment variable STACK_NAME is 'bad name!'",
        ),
    ],
)
def test_bad_ticket_configuration_names_the_variable(world, monkeypatch, env, message):
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(settings.ConfigurationError) as caught:
        run(change_event())
    assert message in str(caught.value)


@pytest.mark.parametrize(
    "stored_document",
    [
        None,
        [],
        {"kind": "other"},
        {"kind": "compliance-ticket", "status": "Open"},
        {"kind": "compliance-ticket", "status": "Resolved", "opsItemId": "oi-0123456789ab"},
    ],
)
def test_a_stored_ticket_that_is_not_an_open_one_of_ours_is_not_resolved(stored_document):
    assert tickets.open_ops_item(stored_document) is None


def test_the_tag_key_is_the_one_the_policy_requires():
    assert tickets.TAG_KEY == OPS_ITEM_TAG_KEY
    assert tickets.TICKETS_PREFIX == TICKETS_PREFIX + "/"
