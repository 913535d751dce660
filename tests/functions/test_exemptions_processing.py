"""Processing with exemptions: an exempt failure is recorded EXEMPT and neither notified nor
handed off; the daily review tells owners of expiries once, retried after a failed publish."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import changes
import pytest
import review
from botocore.exceptions import ClientError
from conftest import ACCOUNT, REGION, emf_metrics, lambda_context, load_app
from exemption_helpers import exemption, store
from function_events import change_event

processing = load_app("processing")
REVIEW = {"kind": "exemption-review"}


def run(event, request_id="req-1"):
    return processing.handler(event, lambda_context(request_id))


def record(world):
    [key] = [k for k in world.keys("compliance-changes/") if "exemption-notices" not in k]
    return world.read_json(key)


def test_an_exempt_failure_is_recorded_exempt_without_notice_or_hand_off(world, capsys):
    world.enable_remediation_function()
    world.monkeypatch.setenv("REMEDIATE_RULES", '["ENCRYPTED_VOLUMES"]')
    store(world, exemption())
    result = run(change_event("NON_COMPLIANT", "COMPLIANT"))
    assert result["status"] == "recorded" and result["sent"] == []
    stored = record(world)
    assert stored["status"] == "EXEMPT" and stored["complianceType"] == "NON_COMPLIANT"
    assert stored["exemption"] == {
        "id": "build-volumes",
        "reason": "scratch volumes of the build fleet",
        "owner": "build-infra@example.com",
        "granted": "2024-01-01",
        "expires": "2024-12-31",
    }
    assert stored["delivery"]["planned"] == []
    assert world.notifications() == [] and world.invocations == []
    [metric] = emf_metrics(capsys.readouterr().out)
    assert metric["ComplianceType"] == "EXEMPT"


def test_plan_exposes_the_exemption_only_for_a_failure():
    import exemptions
    from exemption_helpers import document

    found = exemptions.parse(document(exemption()))
    config = changes.load_settings(
        {
            "REPORTS_BUCKET": "bucket-name",
            "TOPIC_ARN": f"arn:aws:sns:{REGION}:{ACCOUNT}:t",
            "RULE_NAME_PREFIX": "compliance",
        }
    )
    failing = changes.parse_event(change_event("NON_COMPLIANT"))
    plan = changes.plan(failing, {}, config, "r", found)
    assert plan.exemption["id"] == "build-volumes" and plan.status == "EXEMPT"
    assert plan.notification is None and plan.side_effects == ()
    passing = changes.parse_event(change_event("COMPLIANT", "NON_COMPLIANT"))
    plan = changes.plan(passing, {}, config, "r", found)
    assert plan.exemption is None and plan.status == "COMPLIANT"
    assert plan.notification is None  # the violation was never notified: no "resolved"
    assert plan.record["exemption"]["id"] == "build-volumes"
    plain = changes.plan(failing, {}, config, "r")
    assert plain.exemption is None and plain.record["status"] == "NON_COMPLIANT"
    assert plain.notification is not None


def test_an_uncovered_failure_is_notified_as_before(world):
    store(world, exemption(resources=["vol-other"]))
    run(change_event("NON_COMPLIANT", "COMPLIANT"))
    assert record(world)["status"] == "NON_COMPLIANT" and "exemption" not in record(world)
    [note] = world.notifications()
    assert note["attributes"]["changeKind"] == "violation"


@pytest.mark.parametrize(
    ("ordering", "exempt"),
    [
        ("2024-12-30T23:59:59.000Z", True),  # the last day it applies
        ("2024-12-31T00:00:00.000Z", False),  # expires 2024-12-31: no longer
        ("2023-12-31T23:59:59.000Z", False),  # before it was granted
    ],
)
def test_expiry_is_decided_on_the_evaluation_day(world, ordering, exempt):
    store(world, exemption())
    run(change_event("NON_COMPLIANT", "COMPLIANT", ordering=ordering))
    assert (record(world)["status"] == "EXEMPT") is exempt
    assert (world.notifications() == []) is exempt


def test_an_ssm_read_failure_fails_the_invocation_and_records_nothing(world):
    store(world, exemption())
    world.fail("ssm", "GetParameters", "ThrottlingException", times=1)
    with pytest.raises(ClientError):
        run(change_event("NON_COMPLIANT", "COMPLIANT"))
    assert world.keys("compliance-changes/") == [] and world.notifications() == []
    # The retry (the failure is gone) decides with the exemptions.
    run(change_event("NON_COMPLIANT", "COMPLIANT"))
    assert record(world)["status"] == "EXEMPT"


def _today() -> date:
    return datetime.now(UTC).date()


def _expiring(days: int, **fields) -> dict:
    expires = _today() + timedelta(days=days)
    return exemption(
        granted=(expires - timedelta(days=60)).isoformat(), expires=expires.isoformat(), **fields
    )


def _markers(world):
    return world.keys(review.MARKER_PREFIX)


def test_review_tells_the_owner_on_the_expiry_day_once(world):
    store(world, _expiring(0))
    result = run(REVIEW)
    [note] = world.notifications()
    assert note["attributes"] == {
        "notificationType": "exemption-expired",
        "owner": "build-infra@example.com",
        "exemptionId": "build-volumes",
        "account": ACCOUNT,
        "region": REGION,
    }
    assert "Exemption build-volumes expired on" in note["subject"]
    for text in ("build-infra@example.com", "scratch volumes", "ENCRYPTED_VOLUMES", "vol-0123*"):
        assert text in note["message"]
    [marker] = _markers(world)
    assert result["sent"] == [marker]
    assert world.read_json(marker)["delivery"]["messageId"]
    run(REVIEW, request_id="req-2")  # the next day's run, or a duplicate delivery
    run(REVIEW)  # a retry of the first
    assert len(world.notifications()) == 1


def test_review_reminds_fourteen_days_before_and_catches_up_a_missed_day(world):
    store(world, _expiring(14), _expiring(3, id="soon"), _expiring(15, id="later"),
          _expiring(-2, id="missed"), _expiring(-30, id="long-gone"))  # fmt: skip
    run(REVIEW)
    kinds = sorted(
        (n["attributes"]["exemptionId"], n["attributes"]["notificationType"])
        for n in world.notifications()
    )
    assert kinds == [
        ("build-volumes", "exemption-expiring"),
        ("missed", "exemption-expired"),
        ("soon", "exemption-expiring"),
    ]


def test_review_only_where_the_exemption_applies(world):
    store(
        world, _expiring(0, accounts=["210987654321"]), _expiring(0, id="eu", regions=["eu-west-1"])
    )
    assert run(REVIEW)["sent"] == []
    assert world.notifications() == []


def test_a_failed_publish_is_marked_raised_and_sent_by_the_retry_once(world):
    store(world, _expiring(0), _expiring(0, id="other"))
    world.fail("sns", "Publish", "InternalError", times=1)
    with pytest.raises(ClientError):
        run(REVIEW)
    # The other notice was still sent; the failed one is marked for the retry.
    assert len(world.notifications()) == 1
    failed = [world.read_json(k) for k in _markers(world)]
    assert sum(1 for m in failed if m["delivery"].get("lastError")) == 1
    run(REVIEW, request_id="req-retry")
    run(REVIEW, request_id="req-later")
    ids = sorted(n["attributes"]["exemptionId"] for n in world.notifications())
    assert ids == ["build-volumes", "other"]


def test_a_marker_claimed_by_another_running_invocation_is_left_to_it(world):
    store(world, _expiring(0))
    (notice,) = review.notices(
        __import__("exemptions").load(__import__("os").environ, lambda: world.aws.client("ssm")),
        _today(),
        ACCOUNT,
        REGION,
    )
    world.s3.put_object(
        Bucket="compliance-reports-test",
        Key=notice.key,
        Body=b'{"delivery": {"requestId": "other", "incomplete": ["notification"]}}',
    )
    assert run(REVIEW)["sent"] == []
    assert world.notifications() == []


def test_review_fails_when_the_exemptions_cannot_be_read(world):
    store(world, _expiring(0))
    world.fail("ssm", "GetParameters", "AccessDeniedException", times=5)
    with pytest.raises(ClientError):
        run(REVIEW)
    assert world.notifications() == []


def test_without_exemptions_the_review_does_nothing(world):
    world.monkeypatch.delenv("EXEMPTIONS_PARAMETERS", raising=False)
    assert run(REVIEW) == {"status": "reviewed", "sent": [], "replayed": []}


class FakePort:
    """The delivery port's claim/load/save/notify over a dict, with a publish that can fail."""

    def __init__(self, failures: int = 0) -> None:
        self.objects: dict[str, dict] = {}
        self.published: list[str] = []
        self.failures = failures

    def claim(self, key, record):
        if key in self.objects:
            return False
        self.objects[key] = record
        return True

    def load(self, key):
        return self.objects.get(key)

    def save(self, key, record):
        self.objects[key] = record

    def notify(self, notification):
        if self.failures:
            self.failures -= 1
            raise RuntimeError("publish failed")
        self.published.append(notification.subject)
        return f"m-{len(self.published)}"


def _parsed(*items):
    import exemptions
    from exemption_helpers import document

    return exemptions.parse(document(*items))


def test_a_retry_of_an_attempt_that_died_under_the_same_request_id_publishes():
    (notice,) = review.notices(_parsed(exemption()), date(2024, 12, 31), ACCOUNT, REGION)
    port = FakePort()
    port.claim(notice.key, {"delivery": {"requestId": "r1", "incomplete": ["notification"]}})
    assert review.send(notice, port, "r1") is True  # Lambda's retry of r1, which timed out
    assert review.send(notice, port, "r1") is False  # done now
    assert review.send(notice, port, "r2") is False
    assert port.objects[notice.key]["delivery"] == {"requestId": "r1", "messageId": "m-1"}


def test_a_failed_publish_leaves_the_error_on_the_marker_and_the_next_attempt_sends():
    (notice,) = review.notices(_parsed(exemption()), date(2024, 12, 31), ACCOUNT, REGION)
    port = FakePort(failures=1)
    with pytest.raises(RuntimeError):
        review.send(notice, port, "r1")
    assert "publish failed" in port.objects[notice.key]["delivery"]["lastError"]
    assert review.send(notice, port, "r2") is True and port.published == [
        notice.notification.subject
    ]


@pytest.mark.parametrize(
    ("today", "kind"),
    [
        (date(2024, 12, 16), None),  # 15 days before
        (date(2024, 12, 17), review.EXPIRING),  # 14 days before
        (date(2024, 12, 30), review.EXPIRING),
        (date(2024, 12, 31), review.EXPIRED),  # the expiry day
        (date(2025, 1, 14), review.EXPIRED),  # caught up within 14 days
        (date(2025, 1, 15), None),
    ],
)
def test_which_notice_is_due_when(today, kind):
    due = review.notices(_parsed(exemption()), today, ACCOUNT, REGION)
    assert [n.kind for n in due] == ([kind] if kind else [])


def test_a_short_exemption_is_reminded_from_its_granted_day():
    short = exemption(granted="2024-12-25", expires="2024-12-31")
    assert review.notices(_parsed(short), date(2024, 12, 24), ACCOUNT, REGION) == []
    (notice,) = review.notices(_parsed(short), date(2024, 12, 25), ACCOUNT, REGION)
    assert notice.kind == review.EXPIRING and "(in 6 days)" in notice.notification.subject


def test_a_renewed_exemption_gets_its_notices_again():
    first = review.notices(_parsed(exemption()), date(2024, 12, 31), ACCOUNT, REGION)
    renewed = exemption(expires="2025-06-30")
    second = review.notices(_parsed(renewed), date(2025, 6, 30), ACCOUNT, REGION)
    assert first[0].key != second[0].key and second[0].key.endswith(
        "exemption-expired-2025-06-30.json"
    )


VOLUMES_RULE = "compliance-encrypted-volumes"


def _config_result(resource_id, ordering):
    """One NON_COMPLIANT result as GetComplianceDetailsByConfigRule returns it (boto3 datetimes)."""
    moment = datetime.fromisoformat(ordering.replace("Z", "+00:00"))
    return {
        "EvaluationResultIdentifier": {
            "EvaluationResultQualifier": {
                "ConfigRuleName": VOLUMES_RULE,
                "ResourceType": "AWS::EC2::Volume",
                "ResourceId": resource_id,
            },
            "OrderingTimestamp": moment,
        },
        "ComplianceType": "NON_COMPLIANT",
        "ResultRecordedTime": moment,
        "ConfigRuleInvokedTime": moment,
        "Annotation": "The volume is not encrypted.",
    }


@pytest.fixture
def config_results(world):
    """What Config answers the review (moto has no GetComplianceDetailsByConfigRule): the stack's
    rule, another account's rule, and the results recorded here."""
    results: list[dict] = []
    world.monkeypatch.setattr(
        processing.config_results, "rule_names", lambda _: iter([VOLUMES_RULE, "other-rule"])
    )
    world.monkeypatch.setattr(
        processing.config_results,
        "non_compliant_results",
        lambda _, name: iter(results if name == VOLUMES_RULE else []),
    )
    return results


def _replays(world):
    return [k for k in world.keys(review.MARKER_PREFIX) if "/replays-" in k]


def test_failures_an_expired_exemption_hid_are_listed_and_handled_as_new_violations(
    world, config_results
):
    world.enable_remediation_function()
    world.monkeypatch.setenv("REMEDIATE_RULES", '["ENCRYPTED_VOLUMES"]')
    item = _expiring(0)
    during = (date.fromisoformat(item["expires"]) - timedelta(days=3)).isoformat()
    store(world, item)
    config_results.extend(
        [
            _config_result("vol-0123aaa", f"{during}T08:00:00.000Z"),  # covered: replayed
            _config_result("vol-9999zzz", f"{during}T08:00:00.000Z"),  # not covered
        ]
    )
    result = run(REVIEW)
    [note] = world.notifications()
    assert "Resources still failing its rules here: 1;" in note["message"]
    assert f"{VOLUMES_RULE}  AWS::EC2::Volume vol-0123aaa" in note["message"]
    assert "vol-9999zzz" not in note["message"]
    [handed] = [i["payload"] for i in world.invocations]
    assert handed["resourceId"] == "vol-0123aaa" and "exemption" not in handed
    [key] = _replays(world)
    assert result["replayed"] == [key]
    assert handed["changeRecord"].endswith(key)
    replayed = world.read_json(key)
    assert replayed["replayOf"]["exemption"]["id"] == "build-volumes"
    assert replayed["status"] == "NON_COMPLIANT" and "exemption" not in replayed
    assert replayed["delivery"]["planned"] == ["remediation"]
    # The next day's review, a duplicate delivery or a retry: nothing again.
    run(REVIEW, request_id="req-2")
    assert len(world.notifications()) == 1 and len(world.invocations) == 1


def test_a_failure_processing_handled_after_the_expiry_is_not_replayed(world, config_results):
    world.enable_remediation_function()
    world.monkeypatch.setenv("REMEDIATE_RULES", '["ENCRYPTED_VOLUMES"]')
    item = _expiring(-1)
    store(world, item)
    after = f"{item['expires']}T06:00:00.000Z"
    # A change to NON_COMPLIANT after the expiry: processing notified and handed it off itself.
    run(change_event("NON_COMPLIANT", "COMPLIANT", resource_id="vol-0123aaa", ordering=after))
    assert len(world.invocations) == 1
    config_results.append(_config_result("vol-0123aaa", after))
    run(REVIEW, request_id="req-2")
    assert _replays(world) == [] and len(world.invocations) == 1
    notice = [n for n in world.notifications() if n["attributes"].get("exemptionId")]
    assert "Resources still failing its rules here: 0;" in notice[0]["message"]


def test_a_failure_another_active_exemption_covers_is_not_handed_off(world, config_results):
    world.enable_remediation_function()
    world.monkeypatch.setenv("REMEDIATE_RULES", '["ENCRYPTED_VOLUMES"]')
    ended = _expiring(0)
    during = (date.fromisoformat(ended["expires"]) - timedelta(days=3)).isoformat()
    today = _today()
    renewed = exemption(
        id="renewed",
        granted=(today - timedelta(days=1)).isoformat(),
        expires=(today + timedelta(days=90)).isoformat(),
    )
    store(world, ended, renewed)
    config_results.append(_config_result("vol-0123aaa", f"{during}T08:00:00.000Z"))
    assert run(REVIEW)["replayed"] == []
    assert world.invocations == []


def test_a_failed_hand_off_of_a_replay_is_raised_and_finished_once_by_the_retry(
    world, config_results
):
    world.enable_remediation_function()
    world.monkeypatch.setenv("REMEDIATE_RULES", '["ENCRYPTED_VOLUMES"]')
    item = _expiring(0)
    during = (date.fromisoformat(item["expires"]) - timedelta(days=3)).isoformat()
    store(world, item)
    config_results.append(_config_result("vol-0123aaa", f"{during}T08:00:00.000Z"))
    world.fail("lambda", "Invoke")
    with pytest.raises(ClientError):
        run(REVIEW)
    [key] = _replays(world)
    assert world.read_json(key)["delivery"]["incomplete"] == ["remediation"]
    assert len(world.notifications()) == 1  # the notice went out before the replays
    run(REVIEW)  # Lambda's retry
    # The spy sees each attempt: the failed one and the retry's; the next review sends nothing.
    assert len(world.invocations) == 2 and len(world.notifications()) == 1
    assert "incomplete" not in world.read_json(key)["delivery"]
    run(REVIEW, request_id="req-2")
    assert len(world.invocations) == 2


def test_an_expiry_notice_carries_a_chat_card_when_a_channel_reads_the_topic(world, config_results):
    world.monkeypatch.setenv("CHAT_NOTIFICATIONS", "true")
    store(world, _expiring(0))
    run(REVIEW)
    [note] = world.notifications()
    published = json.loads(note["message"])
    card = json.loads(published["https"])
    assert card["content"]["title"].startswith(":hourglass: Exemption build-volumes expired")
    assert "*Still failing:* 0" in card["content"]["description"]
    assert published["email"].startswith("Exemption build-volumes expired")
