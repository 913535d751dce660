"""The processing function against in-process moto: records, notifications, hand-offs, failures."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import changes
import pytest
import settings
from botocore.exceptions import ClientError
from conftest import (
    ACCOUNT,
    FUNCTIONS,
    REGION,
    REMEDIATION_ARN,
    RULES,
    emf_metrics,
    lambda_context,
    load_app,
    stdout_documents,
)
from function_events import change_event
from validation import ValidationError

processing = load_app("processing")


def run(event, request_id="req-1"):
    return processing.handler(event, lambda_context(request_id))


def change_keys(world):
    return world.keys("compliance-changes/")


@pytest.mark.parametrize(
    ("compliance", "old", "expected_kind"),
    [
        ("NON_COMPLIANT", "COMPLIANT", "violation"),
        ("NON_COMPLIANT", None, "violation"),
        ("NON_COMPLIANT", "NOT_APPLICABLE", "violation"),
        ("NON_COMPLIANT", "NON_COMPLIANT", None),
        ("COMPLIANT", "NON_COMPLIANT", "resolved"),
        ("COMPLIANT", None, None),
        ("COMPLIANT", "INSUFFICIENT_DATA", None),
        ("NOT_APPLICABLE", "NON_COMPLIANT", None),
        ("INSUFFICIENT_DATA", "COMPLIANT", None),
        ("INSUFFICIENT_DATA", None, None),
    ],
)
def test_every_compliance_type_is_recorded_and_only_changes_to_and_from_non_compliant_notify(
    world, capsys, compliance, old, expected_kind
):
    result = run(change_event(compliance, old))

    assert result["status"] == "recorded"
    [key] = change_keys(world)
    record = world.read_json(key)
    assert record["complianceType"] == compliance
    assert record["previousComplianceType"] == old
    assert record["ruleIdentifier"] == "ENCRYPTED_VOLUMES"
    assert record["event"]["detail"]["resourceId"] == "vol-0123456789abcdef0"
    sent = world.notifications()
    if expected_kind is None:
        assert sent == []
    else:
        [note] = sent
        assert note["attributes"]["changeKind"] == expected_kind
        assert note["attributes"]["complianceType"] == compliance
    [metric] = emf_metrics(capsys.readouterr().out)
    assert metric["ComplianceChange"] == 1
    assert metric["RuleName"] == "compliance-encrypted-volumes"
    assert metric["ComplianceType"] == compliance
    directive = metric["_aws"]["CloudWatchMetrics"][0]
    assert directive["Namespace"] == "ComplianceMonitoring"
    assert directive["Dimensions"] == [["ComplianceType", "RuleName"]]
    assert directive["Metrics"] == [{"Name": "ComplianceChange", "Unit": "Count"}]


def test_violation_notification_is_readable_and_filterable(world, monkeypatch):
    monkeypatch.setenv("RUNBOOK_BASE_URL", "https://wiki.example.com/runbooks/")
    run(change_event("NON_COMPLIANT", None))

    [note] = world.notifications()
    assert note["subject"].startswith("NON_COMPLIANT: compliance-encrypted-volumes")
    assert len(note["subject"]) < 100 and note["subject"].isascii()
    body = note["message"]
    for expected in (
        "compliance-encrypted-volumes (ENCRYPTED_VOLUMES)",
        "Attached EBS volumes are encrypted.",
        "AWS::EC2::Volume vol-0123456789abcdef0",
        f"Account:     {ACCOUNT}",
        f"Region:      {REGION}",
        "(was not evaluated before)",
        "The volume is not encrypted.",
        "What to do:  Snapshot the volume",
        "https://wiki.example.com/runbooks/ENCRYPTED_VOLUMES.md",
        "Not enabled for this rule.",
        "s3://compliance-reports-test/compliance-changes/year=2024/month=05/day=01/",
    ):
        assert expected in body
    assert note["attributes"] == {
        "notificationType": "compliance-change",
        "changeKind": "violation",
        "complianceType": "NON_COMPLIANT",
        "ruleName": "compliance-encrypted-volumes",
        "ruleIdentifier": "ENCRYPTED_VOLUMES",
        "resourceType": "AWS::EC2::Volume",
        "account": ACCOUNT,
        "region": REGION,
    }


def test_null_or_missing_annotation_is_recorded_as_null(world):
    event = change_event("NON_COMPLIANT", "COMPLIANT", annotation=None)
    run(event)
    del event["detail"]["newEvaluationResult"]["annotation"]
    event["detail"]["newEvaluationResult"]["evaluationResultIdentifier"]["orderingTimestamp"] = (
        "2024-05-02T00:00:00Z"
    )
    run(event, "req-2")

    records = [world.read_json(key) for key in change_keys(world)]
    assert [r["annotation"] for r in records] == [None, None]
    assert all("(none given by the rule)" in n["message"] for n in world.notifications())


def test_runbook_defaults_to_the_repository_path(world):
    run(change_event())
    assert "Runbook:     docs/runbooks/ENCRYPTED_VOLUMES.md" in world.notifications()[0]["message"]


def test_duplicate_delivery_gives_one_record_one_notification_one_metric(world, capsys):
    event = change_event()
    first = run(event, "req-1")
    second = run(event, "req-2")  # EventBridge delivered the same event again

    assert (first["status"], second["status"]) == ("recorded", "duplicate")
    assert first["key"] == second["key"]
    assert len(change_keys(world)) == 1
    assert len(world.notifications()) == 1
    assert len(emf_metrics(capsys.readouterr().out)) == 1


def test_a_late_older_evaluation_is_recorded_as_stale_and_not_notified(world, capsys):
    newer = change_event("COMPLIANT", "NON_COMPLIANT", ordering="2024-05-02T09:00:00.000Z")
    older = change_event("NON_COMPLIANT", "COMPLIANT", ordering="2024-05-01T23:59:59.999Z")
    assert run(newer, "req-1")["status"] == "recorded"
    late = run(older, "req-2")  # EventBridge delivered the older evaluation last

    assert late["status"] == "stale" and late["sent"] == []
    keys = change_keys(world)
    assert len(keys) == 2  # never lose a record
    assert any("/day=01/" in k and k.endswith("20240501T235959.999Z.json") for k in keys)
    assert any("/day=02/" in k and k.endswith("20240502T090000.000Z.json") for k in keys)
    record = world.read_json(late["key"])
    assert record["stale"] is True
    assert record["supersededBy"]["complianceType"] == "COMPLIANT"
    assert record["supersededBy"]["orderingTimestamp"] == "2024-05-02T09:00:00.000Z"
    assert record["delivery"]["planned"] == [] and record["delivery"]["skipped"] == ["notification"]
    # The last (and only) message a person reads is the resolution, which is still true.
    [message] = world.notifications()
    assert message["subject"].startswith("RESOLVED:")
    output = capsys.readouterr().out
    # Only the newer evaluation counts as a change; the stale one is logged as stale.
    assert [m["ComplianceType"] for m in emf_metrics(output)] == ["COMPLIANT"]
    assert any(d.get("message") == "compliance change stale" for d in stdout_documents(output))
    [latest] = world.keys("compliance-latest/")
    assert world.read_json(latest)["recordKey"] == run(newer, "req-3")["key"]


def test_latest_evaluation_is_judged_by_recorded_time_then_invoked_time(world):
    first = change_event("NON_COMPLIANT", "COMPLIANT", ordering="2024-05-01T12:00:00.000Z")
    second = change_event("COMPLIANT", "NON_COMPLIANT", ordering="2024-05-01T12:00:00.000Z")
    # Same triggering change (same ordering timestamp) would be a duplicate; a re-evaluation of
    # it is recorded later: it has its own ordering in practice, here a later recorded time.
    second["detail"]["newEvaluationResult"]["evaluationResultIdentifier"]["orderingTimestamp"] = (
        "2024-05-01T11:00:00.000Z"
    )
    second["detail"]["newEvaluationResult"]["resultRecordedTime"] = "2024-05-01T13:00:00.000Z"
    assert run(second, "req-1")["status"] == "recorded"
    # Older ordering timestamp, but first[...] was recorded before second: stale.
    assert run(first, "req-2")["status"] == "stale"
    tie = change_event("NON_COMPLIANT", "COMPLIANT", ordering="2024-05-01T10:00:00.000Z")
    tie["detail"]["newEvaluationResult"]["resultRecordedTime"] = "2024-05-01T13:00:00.000Z"
    tie["detail"]["newEvaluationResult"]["configRuleInvokedTime"] = "2024-05-01T14:00:00.000Z"
    assert run(tie, "req-3")["status"] == "recorded"  # same recorded time, rule ran later


def test_record_key_is_idempotent_and_safe_for_any_resource_id():
    event = change_event(resource_type="AWS::S3::Bucket", resource_id="a/b c:d" + "x" * 700)
    change = changes.parse_event(event)
    key = changes.record_key(change)
    assert key == changes.record_key(changes.parse_event(event))
    assert key.startswith(
        "compliance-changes/year=2024/month=05/day=01/account=123456789012/region=us-east-1/"
        "rule=compliance-s3-bucket-server-side-encryption-enabled/AWS%3A%3AS3%3A%3ABucket/a%2Fb%20c%3Adx"
    )
    assert key.endswith("/20240501T120000.123Z.json")
    assert len(key.encode()) < 1024
    assert key.count("/") == 9


MALFORMED = {
    "not an object": (["not", "an", "event"], "event"),
    "null": (None, "event"),
    "wrong source": ({**change_event(), "source": "aws.ec2"}, "source"),
    "wrong detail-type": ({**change_event(), "detail-type": "Scheduled Event"}, "detail-type"),
    "missing detail": ({k: v for k, v in change_event().items() if k != "detail"}, "detail"),
}


def _broken(path, value):
    event = change_event()
    target = event
    for part in path[:-1]:
        target = target[part]
    if value is KeyError:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return event


MALFORMED.update(
    {
        "unknown compliance type": (
            _broken(("detail", "newEvaluationResult", "complianceType"), "MOSTLY_OK"),
            "detail.newEvaluationResult.complianceType",
        ),
        "bad account id": (_broken(("detail", "awsAccountId"), "12345"), "detail.awsAccountId"),
        "number as rule name": (_broken(("detail", "configRuleName"), 42), "detail.configRuleName"),
        "new result missing": (
            _broken(("detail", "newEvaluationResult"), KeyError),
            "detail.newEvaluationResult",
        ),
        "unparseable timestamp": (
            _broken(
                (
                    "detail",
                    "newEvaluationResult",
                    "evaluationResultIdentifier",
                    "orderingTimestamp",
                ),
                "yesterday",
            ),
            "detail.newEvaluationResult.evaluationResultIdentifier.orderingTimestamp",
        ),
        "unparseable invoked time (orders evaluations)": (
            _broken(("detail", "newEvaluationResult", "configRuleInvokedTime"), "soon"),
            "detail.newEvaluationResult.configRuleInvokedTime",
        ),
        "old result not an object": (
            _broken(("detail", "oldEvaluationResult"), "COMPLIANT"),
            "detail.oldEvaluationResult",
        ),
        "annotation not a string": (
            _broken(("detail", "newEvaluationResult", "annotation"), {"text": "x"}),
            "detail.newEvaluationResult.annotation",
        ),
    }
)


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_malformed_events_are_rejected_with_a_logged_error_and_a_metric_not_raised(
    world, capsys, case
):
    event, field = MALFORMED[case]
    result = run(event)

    assert result["status"] == "rejected"
    assert result["error"].startswith(f"{field}: expected ")
    assert change_keys(world) == [] and world.notifications() == []
    documents = stdout_documents(capsys.readouterr().out)
    [error] = [d for d in documents if d.get("level") == "ERROR"]
    assert error["message"] == "rejected malformed compliance-change event"
    assert error["field"] == field and error["requestId"] == "req-1"
    assert "event" in error  # the rejected event is kept in the log, not dropped
    [metric] = [d for d in documents if "_aws" in d]
    assert metric["MalformedEvent"] == 1
    assert metric["_aws"]["CloudWatchMetrics"][0]["Dimensions"] == [[]]


def test_error_message_names_field_value_and_what_is_allowed():
    event = _broken(("detail", "newEvaluationResult", "complianceType"), "MOSTLY_OK")
    with pytest.raises(ValidationError) as caught:
        changes.parse_event(event)
    assert str(caught.value) == (
        "detail.newEvaluationResult.complianceType: expected one of COMPLIANT, NON_COMPLIANT, "
        "NOT_APPLICABLE, INSUFFICIENT_DATA; got 'MOSTLY_OK'"
    )


def test_ordering_falls_back_to_result_recorded_time_when_the_identifier_lacks_it(world):
    event = change_event()
    del event["detail"]["newEvaluationResult"]["evaluationResultIdentifier"]
    assert run(event)["key"].endswith("/20240501T120000.123Z.json")


def test_events_of_rules_the_stack_does_not_manage_are_ignored(world, capsys):
    result = run(change_event(rule="someone-elses-rule"))
    assert result == {"status": "ignored", "rule": "someone-elses-rule"}
    assert change_keys(world) == [] and world.notifications() == []
    [log] = stdout_documents(capsys.readouterr().out)
    assert log["level"] == "INFO" and log["rule"] == "someone-elses-rule"


@pytest.mark.parametrize(
    "rule",
    [
        "compliance-x-desired-instance-type",  # our prefix, a suffix no stack deploys
        "compliance-desired-instance-type-x",
        "compliance-",
        "complianc-desired-instance-type",  # a known suffix, another prefix
        "compliancedesired-instance-type",
        "Compliance-desired-instance-type",
    ],
)
def test_a_rule_sharing_the_prefix_is_logged_and_skipped_without_a_retry(world, capsys, rule):
    """The event pattern matches the rule-name prefix, so another stack's rule with a longer
    prefix (or any other rule starting with ours) reaches processing: skipped, not failed."""
    assert rule not in RULES
    assert run(change_event(rule=rule)) == {"status": "ignored", "rule": rule}
    assert change_keys(world) == [] and world.notifications() == [] and world.invocations == []
    [log] = stdout_documents(capsys.readouterr().out)
    assert log["level"] == "INFO" and log["message"].startswith("ignored")


def test_s3_failure_raises_for_a_platform_retry_and_the_retry_completes(world):
    world.fail("s3", "PutObject")
    with pytest.raises(ClientError):
        run(change_event(), "req-1")
    assert change_keys(world) == [] and world.notifications() == []

    assert run(change_event(), "req-1")["status"] == "recorded"  # Lambda's retry
    assert len(change_keys(world)) == 1 and len(world.notifications()) == 1


def test_sns_failure_raises_marks_the_record_and_the_retry_sends_once(world, capsys):
    world.fail("sns", "Publish")
    with pytest.raises(ClientError):
        run(change_event(), "req-1")
    [key] = change_keys(world)
    delivery = world.read_json(key)["delivery"]
    assert delivery["incomplete"] == ["notification"]
    assert delivery["lastError"].startswith("InternalError")
    assert world.notifications() == []
    assert emf_metrics(capsys.readouterr().out) == []

    assert run(change_event(), "req-1")["status"] == "recovered"
    assert len(world.notifications()) == 1
    assert "incomplete" not in world.read_json(key)["delivery"]
    assert len(emf_metrics(capsys.readouterr().out)) == 1
    # Later duplicates see a finished evaluation.
    assert run(change_event(), "req-2")["status"] == "duplicate"
    assert len(world.notifications()) == 1


def test_a_redrive_from_the_dead_letter_queue_finishes_what_failed(world):
    world.fail("sns", "Publish", times=3)
    for _ in range(3):  # the first attempt and Lambda's two retries
        with pytest.raises(ClientError):
            run(change_event(), "req-1")
    assert world.notifications() == []
    assert run(change_event(), "req-redrive")["status"] == "recovered"
    assert len(world.notifications()) == 1


def test_when_the_latest_evaluation_cannot_be_written_a_redrive_still_notifies(world, monkeypatch):
    real = world.aws.put_json_conditionally
    failures = {"left": 3}  # the first attempt and Lambda's two retries

    def unavailable(*args, **kwargs):
        if failures["left"] > 0:
            failures["left"] -= 1
            raise ClientError({"Error": {"Code": "SlowDown", "Message": "injected"}}, "PutObject")
        return real(*args, **kwargs)

    monkeypatch.setattr(world.aws, "put_json_conditionally", unavailable)
    for _ in range(3):
        with pytest.raises(ClientError):
            run(change_event(), "req-1")
    [key] = change_keys(world)
    assert world.read_json(key)["delivery"]["incomplete"] == ["notification"]
    assert world.notifications() == []

    assert run(change_event(), "req-redrive")["status"] == "recovered"
    assert len(world.notifications()) == 1
    assert "incomplete" not in world.read_json(key)["delivery"]


def test_when_even_the_failure_marker_cannot_be_written_the_retry_still_notifies(world, capsys):
    world.fail("sns", "Publish")
    s3 = world.aws.client("s3")
    calls = {"n": 0}

    def fail_third_put(**_):  # the record, the latest evaluation, then the failure marker
        calls["n"] += 1
        if calls["n"] == 3:
            from types import SimpleNamespace

            return SimpleNamespace(status_code=503, headers={}, content=b""), {
                "Error": {"Code": "SlowDown", "Message": "injected"},
                "ResponseMetadata": {"HTTPStatusCode": 503},
            }
        return None

    s3.meta.events.register("before-call.s3.PutObject", fail_third_put)
    with pytest.raises(ClientError):
        run(change_event(), "req-1")
    logs = stdout_documents(capsys.readouterr().out)
    assert any(d.get("incomplete") == ["notification"] and d["level"] == "ERROR" for d in logs)
    assert run(change_event(), "req-1")["status"] == "recovered"  # same request id: re-run all
    assert len(world.notifications()) == 1


def test_non_compliant_resources_of_enabled_rules_are_handed_off_asynchronously(world, monkeypatch):
    world.enable_remediation_function()
    monkeypatch.setenv("REMEDIATE_RULES", '["ENCRYPTED_VOLUMES"]')

    run(change_event("NON_COMPLIANT", "COMPLIANT"), "req-1")
    run(change_event("NON_COMPLIANT", "NON_COMPLIANT", ordering="2024-05-03T00:00:00Z"), "req-2")
    run(change_event("COMPLIANT", "NON_COMPLIANT", ordering="2024-05-04T00:00:00Z"), "req-3")
    run(change_event(resource_type="AWS::S3::Bucket", resource_id="bucket"), "req-4")

    assert [i["type"] for i in world.invocations] == ["Event", "Event"]
    payload = world.invocations[0]["payload"]
    assert payload["kind"] == "compliance-finding"
    assert payload["ruleIdentifier"] == "ENCRYPTED_VOLUMES"
    assert payload["resourceId"] == "vol-0123456789abcdef0"
    assert payload["changeRecord"].startswith("s3://compliance-reports-test/compliance-changes/")
    handed_off = world.notifications()[0]["message"]
    assert "Handed to the remediation function" in handed_off
    # What remediation does comes from the catalog, through the generated rulebook.
    assert "What it does for this rule: No in-place fix exists: optionally turns on" in handed_off


def test_hand_off_failure_is_retried_without_sending_the_notification_again(world, monkeypatch):
    world.enable_remediation_function()
    monkeypatch.setenv("REMEDIATE_RULES", '["ENCRYPTED_VOLUMES"]')
    world.fail("lambda", "Invoke", code="TooManyRequestsException")
    with pytest.raises(ClientError):
        run(change_event(), "req-1")
    assert len(world.notifications()) == 1
    [key] = change_keys(world)
    assert world.read_json(key)["delivery"]["incomplete"] == ["remediation"]

    assert run(change_event(), "req-1")["sent"] == ["remediation"]
    assert len(world.notifications()) == 1
    assert len(world.invocations) == 2  # the refused attempt and the retry


def test_one_aws_call_per_side_effect_plus_the_latest_evaluation(world, monkeypatch):
    world.enable_remediation_function()
    monkeypatch.setenv("REMEDIATE_RULES", '["ENCRYPTED_VOLUMES"]')
    calls = []
    for service in ("s3", "sns", "lambda"):
        world.aws.client(service).meta.events.register(
            "before-parameter-build.*.*",
            lambda model, params, **_: calls.append(_call(model, params)),
        )
    run(change_event("NON_COMPLIANT", "COMPLIANT"), "req-1")
    # The record, the first latest evaluation of the resource (If-None-Match), the side effects.
    assert calls == ["PutObject IfNoneMatch", "PutObject IfNoneMatch", "Publish", "Invoke"]
    calls.clear()
    run(change_event("NOT_APPLICABLE", "COMPLIANT", ordering="2024-06-01T00:00:00Z"), "req-2")
    # The latest exists: refused, read, replaced with If-Match.
    assert calls == [
        "PutObject IfNoneMatch",
        "PutObject IfNoneMatch",
        "GetObject",
        "PutObject IfMatch",
    ]
    calls.clear()
    run(change_event("NON_COMPLIANT", "COMPLIANT"), "req-3")  # duplicate: a read, no side effect
    assert calls == ["PutObject IfNoneMatch", "GetObject"]


def _call(model, params):
    condition = [name for name in ("IfNoneMatch", "IfMatch") if name in params]
    return " ".join([model.name, *condition])


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("REPORTS_BUCKET", "", "environment variable REPORTS_BUCKET is required but is not set"),
        ("TOPIC_ARN", "my-topic", "environment variable TOPIC_ARN is 'my-topic'; allowed: an SNS"),
        ("RULE_NAME_PREFIX", "", "environment variable RULE_NAME_PREFIX is required"),
        (
            "RULE_NAME_PREFIX",
            "9lives",
            "environment variable RULE_NAME_PREFIX is '9lives'; allowed: 1 to 40 letters",
        ),
        (
            "FRAMEWORKS",
            "no-such-framework",
            "environment variable FRAMEWORKS is 'no-such-framework'; allowed: empty or "
            "comma-separated framework names of the rulebook (not no-such-framework): ",
        ),
        (
            # A catalog rule without automatic remediation.
            "REMEDIATE_RULES",
            '["CLOUD_TRAIL_ENABLED"]',
            "REMEDIATE_RULES is 'CLOUD_TRAIL_ENABLED'; allowed: identifiers of rules with "
            "automatic remediation: ",
        ),
        ("REMEDIATE_RULES", "S3", "REMEDIATE_RULES is 'S3'; allowed: valid JSON"),
        ("REMEDIATION_FUNCTION", "not a function!", "REMEDIATION_FUNCTION is 'not a function!'"),
        ("METRICS_NAMESPACE", "AWS/Config", "METRICS_NAMESPACE is 'AWS/Config'"),
        ("RUNBOOK_BASE_URL", "wiki", "RUNBOOK_BASE_URL is 'wiki'; allowed: empty or an http(s)"),
        (
            "SECURITY_HUB_MODE",
            "on",
            "SECURITY_HUB_MODE is 'on'; allowed: one of off, config, import",
        ),
    ],
)
def test_invalid_configuration_fails_with_the_variable_named(
    world, monkeypatch, name, value, message
):
    monkeypatch.setenv(name, value)
    with pytest.raises(settings.ConfigurationError) as caught:
        run(change_event())
    assert message in str(caught.value)


def test_modules_import_with_no_environment_and_clients_retry():
    code = (
        "from pathlib import Path\n"
        "from compliance_template.function_loader import import_app\n"
        "from compliance_template.generator.naming import FUNCTION_NAMES\n"
        "for name in FUNCTION_NAMES:\n"
        f"    import_app(Path({str(FUNCTIONS)!r}) / name, name + '_app')\n"
        "import aws\n"
        "print(aws.CLIENT_CONFIG.retries['mode'])\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        env={"PATH": os.environ.get("PATH", "")},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "standard"


def test_subject_lines_follow_sns_rules():
    import aws

    subject = aws.subject_line("NON_COMPLIANT: rule – résumé\nbucket " + "x" * 200)
    assert subject.isascii() and "\n" not in subject and len(subject) < 100
    assert subject.endswith("...")


def test_stored_records_are_deterministic_json(world):
    run(change_event())
    [key] = change_keys(world)
    raw = world.read(key).decode()
    assert raw == json.dumps(json.loads(raw), sort_keys=True, indent=1, ensure_ascii=False)
    assert REMEDIATION_ARN not in raw
