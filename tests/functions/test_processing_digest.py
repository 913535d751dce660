"""Digests: changes of DIGEST_RULES rules wait in digest-pending/ and go out as one message per
rule from the scheduled job, never lost and never twice, against in-process moto."""

from __future__ import annotations

import json

import delivery
import digest
import pytest
import settings
from botocore.exceptions import ClientError
from conftest import ACCOUNT, BUCKET, REGION, lambda_context, load_app
from function_events import change_event

processing = load_app("processing")
VOLUMES = "compliance-encrypted-volumes"
BUCKETS = "compliance-s3-bucket-server-side-encryption-enabled"
# Every member account and region of an organization shares the central bucket: each keeps its
# entries and markers under its own account and region.
HERE = f"account={ACCOUNT}/region={REGION}"


def run(event, request_id="req-1"):
    return processing.handler(event, lambda_context(request_id))


def run_digest(request_id="req-digest"):
    return run({"kind": "digest"}, request_id)


@pytest.fixture
def digests(world, monkeypatch):
    monkeypatch.setenv("DIGEST_RULES", '["ENCRYPTED_VOLUMES"]')
    return world


def pending(world):
    return world.keys(digest.PENDING_PREFIX)


def test_a_digest_rule_writes_an_entry_instead_of_a_notification(digests):
    outcome = run(change_event("NON_COMPLIANT", "COMPLIANT"))
    assert outcome["sent"] == ["digest"]
    assert digests.notifications() == []
    [key] = pending(digests)
    assert key.startswith(f"digest-pending/{HERE}/rule={VOLUMES}/")
    entry = digests.read_json(key)
    assert entry["kind"] == "digest-entry" and entry["changeKind"] == "violation"
    assert entry["record"].startswith(f"s3://{BUCKET}/compliance-changes/")
    # A rule not in DIGEST_RULES still notifies at once.
    run(change_event(resource_type="AWS::S3::Bucket", resource_id="b"), "req-2")
    assert len(digests.notifications()) == 1 and len(pending(digests)) == 1
    # A change that would not be notified leaves no entry.
    run(change_event("NON_COMPLIANT", "NON_COMPLIANT", ordering="2024-05-02T00:00:00Z"), "req-3")
    assert len(pending(digests)) == 1


def test_a_retried_change_rewrites_the_same_entry(digests):
    run(change_event(), "req-1")
    run(change_event(), "req-1")  # Lambda's retry of the same request
    assert len(pending(digests)) == 1


def test_the_job_sends_one_message_per_rule_with_the_newest_state_per_resource(
    digests, monkeypatch
):
    monkeypatch.setenv(
        "DIGEST_RULES", '["ENCRYPTED_VOLUMES", "S3_BUCKET_SERVER_SIDE_ENCRYPTION_ENABLED"]'
    )
    run(change_event("NON_COMPLIANT", "COMPLIANT", resource_id="vol-1"), "r1")
    run(
        change_event(
            "COMPLIANT", "NON_COMPLIANT", resource_id="vol-1", ordering="2024-05-02T00:00:00Z"
        ),
        "r2",
    )
    run(change_event("NON_COMPLIANT", "COMPLIANT", resource_id="vol-2"), "r3")
    run(change_event(resource_type="AWS::S3::Bucket", resource_id="b1"), "r4")
    outcome = run_digest()
    assert outcome["status"] == "digest" and len(outcome["sent"]) == 2
    messages = {n["attributes"]["ruleName"]: n for n in digests.notifications()}
    assert set(messages) == {VOLUMES, BUCKETS}
    volumes = messages[VOLUMES]
    assert volumes["subject"] == f"Digest: {VOLUMES}: 1 non-compliant, 1 resolved"
    assert volumes["attributes"]["notificationType"] == "compliance-digest"
    body = volumes["message"]
    assert "RESOLVED      AWS::EC2::Volume vol-1" in body
    assert "NON_COMPLIANT AWS::EC2::Volume vol-2" in body
    assert "3 changes, newest state per resource" in body
    assert f"Full list: s3://{BUCKET}/digest-sent/{HERE}/rule={VOLUMES}/" in body
    assert pending(digests) == []
    marker = digests.read_json(body.split(f"s3://{BUCKET}/")[1].strip())
    assert marker["status"] == "published" and len(marker["entries"]) == 3
    # Nothing pending: nothing sent.
    assert run_digest()["sent"] == [] and len(digests.notifications()) == 2


def test_long_digests_are_capped_with_the_count_of_the_rest(digests):
    for number in range(digest.LINES_MAX + 3):
        run(change_event(resource_id=f"vol-{number:03d}"), f"r{number}")
    run_digest()
    [message] = digests.notifications()
    body = message["message"]
    assert body.count("NON_COMPLIANT AWS::EC2::Volume") == digest.LINES_MAX
    assert "... and 3 more" in body


def test_a_crash_after_the_claim_before_publishing_is_published_once_by_the_retry(
    digests, monkeypatch
):
    run(change_event())
    original = delivery.AwsPort.notify
    calls = {"n": 0}

    def notify(self, notification):
        calls["n"] += 1
        if calls["n"] == 1:
            raise ClientError({"Error": {"Code": "InternalError", "Message": "x"}}, "Publish")
        return original(self, notification)

    monkeypatch.setattr(delivery.AwsPort, "notify", notify)
    with pytest.raises(ClientError):
        run_digest()
    assert digests.notifications() == [] and len(pending(digests)) == 1
    assert digests.read_json(digests.keys(digest.SENT_PREFIX)[0])["status"] == "claimed"
    run_digest()  # the platform's retry
    assert len(digests.notifications()) == 1 and pending(digests) == []


def test_a_crash_after_publishing_before_deleting_is_not_published_again(digests, monkeypatch):
    run(change_event())
    original = delivery.AwsPort.delete_keys
    calls = {"n": 0}

    def delete_keys(self, keys):
        calls["n"] += 1
        if calls["n"] == 1:
            raise ClientError({"Error": {"Code": "SlowDown", "Message": "x"}}, "DeleteObjects")
        return original(self, keys)

    monkeypatch.setattr(delivery.AwsPort, "delete_keys", delete_keys)
    with pytest.raises(ClientError):
        run_digest()
    assert len(digests.notifications()) == 1 and len(pending(digests)) == 1
    run_digest()
    assert len(digests.notifications()) == 1 and pending(digests) == []


def test_entries_written_after_the_listing_wait_for_the_next_digest(digests, monkeypatch):
    run(change_event(resource_id="vol-1"), "r1")
    original = delivery.AwsPort.list_keys

    def list_keys(self, prefix):
        listed = original(self, prefix)
        run(change_event(resource_id="vol-late"), "r-late")  # arrives while the job runs
        return listed

    monkeypatch.setattr(delivery.AwsPort, "list_keys", list_keys)
    run_digest()
    [first] = digests.notifications()
    assert "vol-1" in first["message"] and "vol-late" not in first["message"]
    assert len(pending(digests)) == 1
    monkeypatch.setattr(delivery.AwsPort, "list_keys", original)
    run_digest("req-digest-2")
    assert "vol-late" in digests.notifications()[1]["message"] and pending(digests) == []


def test_objects_that_are_not_entries_are_left_alone(digests):
    digests.s3.put_object(
        Bucket=BUCKET, Key=f"digest-pending/{HERE}/rule={VOLUMES}/x.json", Body=b"[]"
    )
    assert run_digest()["sent"] == []
    assert digests.notifications() == []


def test_the_job_sends_and_deletes_only_its_own_account_and_regions_entries(digests):
    """Another member's entries in the shared bucket are its own job's to send."""
    run(change_event(resource_id="vol-here"))
    elsewhere = {
        f"digest-pending/account=210987654321/region={REGION}/rule={VOLUMES}/a.json": "vol-a",
        f"digest-pending/account={ACCOUNT}/region=eu-west-1/rule={VOLUMES}/b.json": "vol-b",
    }
    for key, resource in elsewhere.items():
        entry = {**_entries(1)[0], "kind": "digest-entry", "resourceId": resource}
        digests.s3.put_object(Bucket=BUCKET, Key=key, Body=json.dumps(entry).encode())
    [marker_key] = run_digest()["sent"]
    assert marker_key.startswith(f"digest-sent/{HERE}/rule={VOLUMES}/")
    [message] = digests.notifications()
    assert "vol-here" in message["message"]
    assert "vol-a" not in message["message"] and "vol-b" not in message["message"]
    assert sorted(pending(digests)) == sorted(elsewhere)


def test_the_job_without_its_region_names_the_variable(digests, monkeypatch):
    monkeypatch.delenv("AWS_REGION")
    with pytest.raises(settings.ConfigurationError) as caught:
        run_digest()
    assert "AWS_REGION" in str(caught.value)


def test_remediation_and_tickets_are_not_batched(digests, monkeypatch):
    from compliance_template.local.ops_items import ops_items

    digests.enable_remediation_function()
    monkeypatch.setenv("REMEDIATE_RULES", '["ENCRYPTED_VOLUMES"]')
    monkeypatch.setenv("OPS_ITEMS", "true")
    monkeypatch.setenv("STACK_NAME", "stack")
    with ops_items():
        assert run(change_event())["sent"] == ["digest", "remediation", "ticket"]
    assert len(digests.invocations) == 1


def test_an_unknown_scheduled_job_is_rejected_without_a_retry(digests, capsys):
    # Not a job of the dispatch table: read as a (malformed) compliance-change event.
    assert run({"kind": "nightly"})["status"] == "rejected"
    assert "rejected malformed compliance-change event" in capsys.readouterr().out


@pytest.mark.parametrize("value", ["ENCRYPTED_VOLUMES", '["encrypted volumes"]', "{}"])
def test_bad_digest_rules_name_the_variable(world, monkeypatch, value):
    monkeypatch.setenv("DIGEST_RULES", value)
    with pytest.raises(settings.ConfigurationError) as caught:
        run(change_event())
    assert "environment variable DIGEST_RULES is" in str(caught.value)


def test_batch_ids_depend_only_on_the_set_of_entries():
    assert digest.batch_id(["b", "a"]) == digest.batch_id(["a", "b"])
    assert digest.batch_id(["a"]) != digest.batch_id(["a", "b"])


def test_with_a_chat_channel_a_digest_carries_its_card(digests, monkeypatch):
    """Chatbot shows only messages in its card format: with CHAT_NOTIFICATIONS the digest is
    published per protocol, the text by e-mail and the card over HTTPS."""
    monkeypatch.setenv("CHAT_NOTIFICATIONS", "true")
    for number in range(digest.CARD_LINES_MAX + 2):
        run(change_event(resource_id=f"vol-{number:03d}"), f"r{number}")
    run_digest()
    [message] = digests.notifications()
    published = json.loads(message["message"])  # MessageStructure=json: one body per protocol
    assert published["email"].startswith("Changes of ")
    assert json.loads(published["https"])["content"]["title"].startswith(":bell: Digest:")
    card = digest.message(
        _entries(digest.CARD_LINES_MAX + 2),
        "s3://bucket/marker.json",
        chat_on=True,
    ).card
    assert card is not None and card["source"] == "custom"
    description = card["content"]["description"]
    assert description.count("*Non-compliant:*") == digest.CARD_LINES_MAX
    assert "2 more in the e-mail" in description and "s3://bucket/marker.json" in description
    assert digest.message(_entries(1), "s3://bucket/m.json").card is None


def _entries(count):
    return [
        {
            "ruleName": VOLUMES,
            "ruleIdentifier": "ENCRYPTED_VOLUMES",
            "changeKind": "violation",
            "resourceType": "AWS::EC2::Volume",
            "resourceId": f"vol-{number:03d}",
            "account": "123456789012",
            "region": "eu-west-1",
            "evaluated": f"2024-05-01T00:00:{number:02d}.000000Z",
        }
        for number in range(count)
    ]
