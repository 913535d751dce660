"""The exemptions template deployed on the emulator with every optional feature of issue 12 on:
Security Hub findings imported, OpsItems opened, a Slack channel reading the topic. The real
handlers run against it, in this process, and each test checks what a person would see: on the
topic (an SQS subscriber), in Security Hub, in OpsCenter, in the reports bucket, and what was
handed to remediation (the emulator's Lambda records every Invoke).

The events are dated 2026-12-01, inside the example's build-volumes exemption (2026-10-01 to
2027-01-31): exemptions are matched on the evaluation's day, so the outcome does not depend on
the day the test runs. The review job and the report use today's date; what they must find is
computed from the example's fixed dates. The tests run in file order on one deployment, each on
the state the ones before it left (a violation, then its remediation, then its resolution), as a
person would follow one resource; the last ones rewrite the exemptions parameter and redeploy."""

from __future__ import annotations

import csv
import io
import json
import sys
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from types import ModuleType
from typing import Any

import pytest
from e2e_handlers import Notifications, compliance_change_event, run_handler, scheduled_event
from template_helpers import TEMPLATES

from compliance_template.function_loader import function_module
from compliance_template.local.cycle import INITIAL_PARAMETERS, REGION, LocalStack, local_stack
from compliance_template.local.emulator import ACCOUNT_ID
from compliance_template.local.security_hub import send_config_evaluation
from compliance_template.paths import FUNCTIONS_DIR, PROJECT_ROOT

TEMPLATE = TEMPLATES / "compliance-monitoring-exemptions.json"
EXAMPLE = json.loads((PROJECT_ROOT / "examples" / "exemptions.json").read_text(encoding="utf-8"))
FEATURES = {
    "SecurityHubFindings": "import",
    "CreateOpsItems": "true",
    "SlackWorkspaceId": "T0123ABCD",
    "SlackChannelId": "C0123ABCD",
    # A URL, so the finding's recommendation links the runbook (a repository path would not).
    "RunbookBaseUrl": "https://runbooks.example.com/compliance",
}
EXEMPT_VOLUME = "vol-0123456789abcdef0"  # named by the example's build-volumes exemption
BUCKET = "issue12-data-bucket"
DAY = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
SUBJECT_MAX = 80
S3_SUFFIX = "s3-bucket-server-side-encryption-enabled"


@pytest.fixture(scope="module")
def stack() -> Iterator[LocalStack]:
    with local_stack(TEMPLATE) as running:
        running.account_setup()
        running.client("securityhub").enable_security_hub()
        running.deploy_stack({**INITIAL_PARAMETERS, **FEATURES}, "issue12")
        running.client("s3").create_bucket(
            Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION}
        )
        yield running


@pytest.fixture(scope="module")
def notifications(stack: LocalStack) -> Notifications:
    return Notifications(stack)


def rule(stack: LocalStack, suffix: str) -> str:
    return f"{stack.parameters['RuleNamePrefix']}-{suffix}"


def change(
    stack: LocalStack,
    suffix: str,
    resource_type: str,
    resource_id: str,
    at: datetime,
    compliance: str = "NON_COMPLIANT",
    previous: str = "COMPLIANT",
) -> dict[str, Any]:
    event = compliance_change_event(rule(stack, suffix), resource_type, resource_id, at)
    event["detail"]["newEvaluationResult"]["complianceType"] = compliance
    event["detail"]["oldEvaluationResult"]["complianceType"] = previous
    return event


def process(stack: LocalStack, event: dict[str, Any]) -> tuple[dict[str, Any], list[Any]]:
    """Processing's result and what it handed to remediation."""
    stack.emulator.invocations.clear()
    result = run_handler(stack, "processing", event)
    remediation = (stack.outputs["RemediationFunctionArn"], stack.physical["RemediationFunction"])
    return result, [i for i in stack.emulator.invocations if i.function in remediation]


def stored(stack: LocalStack, key: str) -> Any:
    body = stack.client("s3").get_object(Bucket=stack.physical["ReportsBucket"], Key=key)["Body"]
    return json.loads(body.read())


def findings_of(stack: LocalStack, resource_id: str) -> list[dict[str, Any]]:
    found = stack.client("securityhub").get_findings()["Findings"]
    return [f for f in found if any(r["Id"].endswith(resource_id) for r in f["Resources"])]


def ops_items(stack: LocalStack, status: str | None = None) -> list[dict[str, Any]]:
    filters = [{"Key": "Status", "Values": [status], "Operator": "Equal"}] if status else []
    response = stack.client("ssm").describe_ops_items(OpsItemFilters=filters)
    return response["OpsItemSummaries"]


def published(stack: LocalStack) -> list[dict[str, Any]]:
    """Every message published to the topic, as the SNS API received it (per protocol)."""
    from moto.sns.models import sns_backends

    topic = sns_backends[ACCOUNT_ID][REGION].topics[stack.physical["NotificationTopic"]]
    return [json.loads(sent[1]) for sent in topic.sent_notifications]


def test_every_feature_is_on_in_the_deployed_functions(stack):
    variables = stack.client("lambda").get_function_configuration(
        FunctionName=stack.physical["ProcessingFunction"]
    )["Environment"]["Variables"]
    assert variables["SECURITY_HUB_MODE"] == "import"
    assert variables["OPS_ITEMS"] == "true"
    assert variables["CHAT_NOTIFICATIONS"] == "true"
    assert variables["EXEMPTIONS_PARAMETERS"] == stack.physical["ExemptionsParameter1"]


@pytest.fixture(scope="module")
def exempt(stack, notifications) -> dict[str, Any]:
    notifications.received()
    before = len(published(stack))
    event = change(stack, "encrypted-volumes", "AWS::EC2::Volume", EXEMPT_VOLUME, DAY)
    result, handed = process(stack, event)
    return {"result": result, "handed": handed, "published": published(stack)[before:]}


def test_an_exempt_failure_is_recorded_exempt_and_nobody_is_told(stack, notifications, exempt):
    result = exempt["result"]
    assert result["status"] == "recorded", result
    record = stored(stack, result["key"])
    assert record["status"] == "EXEMPT" and record["complianceType"] == "NON_COMPLIANT"
    [declared] = [e for e in EXAMPLE["exemptions"] if e["id"] == "build-volumes"]
    assert record["exemption"] == {
        name: declared[name] for name in ("id", "reason", "owner", "granted", "expires")
    }
    assert exempt["published"] == [] and notifications.received() == []
    assert exempt["handed"] == []
    assert ops_items(stack) == []
    assert result["sent"] == ["securityhub"]


def test_an_exempt_failures_finding_is_imported_suppressed_with_the_exemption(stack, exempt):
    [finding] = findings_of(stack, EXEMPT_VOLUME)
    assert finding["Compliance"]["Status"] == "FAILED"
    assert finding["Workflow"]["Status"] == "SUPPRESSED"
    assert "build-volumes" in finding["Note"]["Text"]


@pytest.fixture(scope="module")
def violation(stack, notifications, exempt) -> dict[str, Any]:
    notifications.received()
    before = len(published(stack))
    event = change(stack, S3_SUFFIX, "AWS::S3::Bucket", BUCKET, DAY)
    result, handed = process(stack, event)
    return {
        "event": event,
        "result": result,
        "handed": handed,
        "received": notifications.received(),
        "published": published(stack)[before:],
    }


def test_a_violation_is_notified_once_text_by_queue_and_card_by_https(violation):
    assert violation["result"]["status"] == "recorded", violation["result"]
    [envelope] = violation["received"]
    assert len(envelope["Subject"]) <= SUBJECT_MAX, envelope["Subject"]
    assert envelope["Subject"].startswith("Non-compliant:") and BUCKET in envelope["Subject"]
    assert envelope["Message"].startswith("A resource became non-compliant.")
    assert BUCKET in envelope["Message"]
    [message] = violation["published"]
    assert message["default"] == envelope["Message"]
    card = json.loads(message["https"])
    assert card["source"] == "custom"
    assert f"AWS::S3::Bucket {BUCKET}" in card["content"]["description"]


def test_a_violation_is_handed_to_remediation(violation):
    [handed] = violation["handed"]
    assert handed.invocation_type == "Event"
    assert handed.payload["resourceId"] == BUCKET and "exemption" not in handed.payload


def test_a_violations_finding_fails_with_the_runbook(stack, violation):
    [finding] = findings_of(stack, BUCKET)
    assert finding["Compliance"]["Status"] == "FAILED"
    assert finding["Workflow"]["Status"] == "NEW"
    runbook = f"{FEATURES['RunbookBaseUrl']}/S3_BUCKET_SERVER_SIDE_ENCRYPTION_ENABLED.md"
    assert finding["Remediation"]["Recommendation"]["Url"] == runbook
    assert finding["Note"]["Text"].startswith(f"Non-compliant. Runbook: {runbook}")


def test_a_violation_opens_one_ops_item_with_its_dedup_string(stack, violation):
    [summary] = ops_items(stack)
    assert summary["Status"] == "Open"
    item = stack.client("ssm").get_ops_item(OpsItemId=summary["OpsItemId"])["OpsItem"]
    evaluation = (ACCOUNT_ID, REGION, rule(stack, S3_SUFFIX), "AWS::S3::Bucket", BUCKET)
    tickets = processing_module("tickets")
    dedup = json.loads(item["OperationalData"]["/aws/dedup"]["Value"])["dedupString"]
    assert dedup == tickets.dedup_string(*evaluation)
    assert item["Title"].startswith("Non-compliant: ") and BUCKET in item["Title"]
    assert stored(stack, tickets.ticket_key(*evaluation))["opsItemId"] == summary["OpsItemId"]


def processing_module(name: str) -> ModuleType:
    """One of processing's modules, imported from its folder as Lambda would."""
    with function_module(FUNCTIONS_DIR / "processing"):
        return sys.modules[name]


def stored_keys(stack: LocalStack, prefix: str) -> list[str]:
    pages = stack.client("s3").get_paginator("list_objects_v2")
    return [
        o["Key"]
        for page in pages.paginate(Bucket=stack.physical["ReportsBucket"], Prefix=prefix)
        for o in page.get("Contents", [])
    ]


def read_text(stack: LocalStack, key: str) -> str:
    s3, bucket = stack.client("s3"), stack.physical["ReportsBucket"]
    return s3.get_object(Bucket=bucket, Key=key)["Body"].read().decode("utf-8", "replace")


def test_a_duplicate_delivery_creates_nothing_new(stack, notifications, violation):
    before = len(published(stack))
    result, handed = process(stack, violation["event"])
    assert result["status"] == "duplicate" and result["sent"] == []
    assert handed == [] and notifications.received() == []
    assert len(published(stack)) == before
    assert len(ops_items(stack)) == 1 and len(findings_of(stack, BUCKET)) == 1


def test_remediation_decides_on_the_hand_off_and_notes_it_on_the_finding(
    stack, notifications, violation
):
    result = run_handler(stack, "remediation", violation["handed"][0].payload)
    assert result["status"] == "decided", result
    record = stored(stack, result["key"])
    assert record["outcome"] == result["outcome"]
    assert record["securityHubNote"] == {"status": "added"}
    [finding] = findings_of(stack, BUCKET)
    assert (
        result["outcome"] in finding["Note"]["Text"]
        or result["reason"][:40] in (finding["Note"]["Text"])
    ), finding["Note"]
    [decision] = notifications.received()
    assert len(decision["Subject"]) <= SUBJECT_MAX, decision["Subject"]
    assert decision["Message"].startswith("Remediation decision:")
    card = json.loads(published(stack)[-1]["https"])
    assert BUCKET in card["content"]["description"]


def test_back_to_compliant_resolves_the_notice_the_finding_and_the_ops_item(
    stack, notifications, violation
):
    event = change(
        stack,
        S3_SUFFIX,
        "AWS::S3::Bucket",
        BUCKET,
        DAY + timedelta(hours=1),
        compliance="COMPLIANT",
        previous="NON_COMPLIANT",
    )
    result, handed = process(stack, event)
    assert result["status"] == "recorded" and handed == [], result
    [envelope] = notifications.received()
    assert envelope["Subject"].startswith("Resolved:") and len(envelope["Subject"]) <= SUBJECT_MAX
    card = json.loads(published(stack)[-1]["https"])
    assert card["content"]["title"].startswith(":white_check_mark: Resolved:")
    [finding] = findings_of(stack, BUCKET)
    assert finding["Compliance"]["Status"] == "PASSED"
    assert finding["Workflow"]["Status"] == "RESOLVED"
    [summary] = ops_items(stack)
    assert summary["Status"] == "Resolved"


def due_today(today: date) -> list[tuple[str, str]]:
    """(exemption id, kind) the review must send in the emulator's account and region today,
    from the example's fixed dates (review.py: 14 days before expiry, and on it, with 14 days
    of catch-up)."""
    due = []
    for item in EXAMPLE["exemptions"]:
        if item.get("accounts") and ACCOUNT_ID not in item["accounts"]:
            continue
        if item.get("regions") and REGION not in item["regions"]:
            continue
        expires, granted = date.fromisoformat(item["expires"]), date.fromisoformat(item["granted"])
        if expires <= today <= expires + timedelta(days=14):
            due.append((item["id"], "exemption-expired"))
        elif max(expires - timedelta(days=14), granted) <= today < expires:
            due.append((item["id"], "exemption-expiring"))
    return due


def test_the_review_job_reads_the_deployed_parameters_and_sends_what_is_due(
    stack, notifications, violation
):
    notifications.received()
    result = run_handler(stack, "processing", {"kind": "exemption-review"})
    assert result["status"] == "reviewed", result
    due = due_today(datetime.now(UTC).date())
    sent = sorted(
        (key.split("/")[-2], key.rsplit("/", 1)[-1].rsplit("-", 3)[0]) for key in result["sent"]
    )
    assert sent == sorted(due)
    assert len(notifications.received()) == len(due)
    # Run again: every notice was sent once.
    again = run_handler(stack, "processing", {"kind": "exemption-review"})
    assert again["sent"] == [] and notifications.received() == []


@pytest.mark.parametrize(
    ("run_at", "active"),
    [("2026-12-01T06:00:00Z", True), ("2027-02-01T06:00:00Z", False)],
    ids=["while-exempt", "after-expiry"],
)
def test_the_report_counts_the_exempt_volume_and_lists_the_exemptions(
    stack, notifications, run_at, active
):
    """The report matches exemptions on its run's day (the scheduled event's time): the volume
    is exempt in a run before build-volumes expires (2027-01-31) and fails in one after."""
    moment = datetime.fromisoformat(run_at.replace("Z", "+00:00"))
    now = moment.timestamp()
    stack.emulator.compliance.clear()
    volumes, buckets = (
        rule(stack, "encrypted-volumes"),
        rule(stack, S3_SUFFIX),
    )
    stack.emulator.record_evaluation(
        volumes, "AWS::EC2::Volume", EXEMPT_VOLUME, "NON_COMPLIANT", "", now
    )
    stack.emulator.record_evaluation(buckets, "AWS::S3::Bucket", BUCKET, "NON_COMPLIANT", "", now)
    stack.emulator.record_evaluation(buckets, "AWS::S3::Bucket", "other", "COMPLIANT", "", now)
    schedule = stack.client("events").describe_rule(Name=stack.physical["ReportScheduleRule"])
    notifications.received()
    result = run_handler(stack, "reporting", scheduled_event(schedule["Arn"], moment))
    assert result.get("status") not in ("rejected", None), result
    prefix = result["prefix"].rstrip("/")
    summary = json.loads(read_text(stack, f"{prefix}/summary.json"))
    assert summary["totals"]["exempt"] == (1 if active else 0)
    assert [e["id"] for e in summary["exemptions"]] == [e["id"] for e in EXAMPLE["exemptions"]]
    rows = list(csv.DictReader(io.StringIO(read_text(stack, f"{prefix}/details.csv"))))
    by_resource = {row["resourceId"]: row for row in rows}
    assert by_resource[BUCKET]["complianceType"] == "NON_COMPLIANT"
    assert by_resource[BUCKET]["exemption"] == ""
    volume = by_resource[EXEMPT_VOLUME]
    [listed] = [e for e in summary["exemptions"] if e["id"] == "build-volumes"]
    if active:
        assert (volume["complianceType"], volume["exemption"]) == ("EXEMPT", "build-volumes")
        assert (listed["status"], listed["matched"]) == ("active", 1)
    else:
        assert (volume["complianceType"], volume["exemption"]) == ("NON_COMPLIANT", "")
        assert (listed["status"], listed["matched"]) == ("expired", 0)


def test_an_exemption_expiring_today_is_announced_and_its_failure_replayed(stack, notifications):
    """The deployed parameter rewritten as a settings change would deploy it: build-volumes now
    expires today. The review reads it, announces the expiry once with the volume still failing
    (Config's current result, given to the emulator), and replays that failure once: handed to
    remediation, finding reopened, OpsItem opened."""
    ssm, name = stack.client("ssm"), stack.physical["ExemptionsParameter1"]
    document = json.loads(ssm.get_parameter(Name=name)["Parameter"]["Value"])
    today = datetime.now(UTC).date()
    [volumes_exemption] = [e for e in document["exemptions"] if e["id"] == "build-volumes"]
    volumes_exemption["expires"] = today.isoformat()
    ssm.put_parameter(Name=name, Value=json.dumps(document), Type="String", Overwrite=True)
    stack.emulator.compliance.clear()
    stack.emulator.record_evaluation(
        rule(stack, "encrypted-volumes"), "AWS::EC2::Volume", EXEMPT_VOLUME, "NON_COMPLIANT",
        "not encrypted", datetime.now(UTC).timestamp(),
    )  # fmt: skip
    notifications.received()
    open_before = len(ops_items(stack, "Open"))
    stack.emulator.invocations.clear()
    result = run_handler(stack, "processing", {"kind": "exemption-review"})
    assert result["status"] == "reviewed", result
    [notice] = notifications.received()
    assert notice["Subject"] == f"Exemption build-volumes expired on {today.isoformat()}"
    assert "Still failing:" in notice["Message"] and EXEMPT_VOLUME in notice["Message"]
    card = json.loads(published(stack)[-1]["https"])
    assert card["content"]["title"].startswith(":hourglass: Exemption build-volumes expired")
    [replayed] = result["replayed"]
    assert replayed.endswith(f"/{EXEMPT_VOLUME}.json")
    remediation = (stack.outputs["RemediationFunctionArn"], stack.physical["RemediationFunction"])
    [handed] = [i for i in stack.emulator.invocations if i.function in remediation]
    assert handed.payload["resourceId"] == EXEMPT_VOLUME and "exemption" not in handed.payload
    [finding] = findings_of(stack, EXEMPT_VOLUME)
    assert finding["Compliance"]["Status"] == "FAILED"
    assert finding["Workflow"]["Status"] != "SUPPRESSED", finding["Workflow"]
    assert len(ops_items(stack, "Open")) == open_before + 1
    # The next day's run (or a duplicate delivery) sends and replays nothing again.
    again = run_handler(stack, "processing", {"kind": "exemption-review"})
    assert (again["sent"], again["replayed"]) == ([], [])
    assert notifications.received() == []
    # Fixed afterwards: the replayed violation resolves like any other.
    fixed = change(
        stack, "encrypted-volumes", "AWS::EC2::Volume", EXEMPT_VOLUME,
        datetime.now(UTC) + timedelta(minutes=1), compliance="COMPLIANT", previous="NON_COMPLIANT",
    )  # fmt: skip
    result, handed = process(stack, fixed)
    assert result["status"] == "recorded" and handed == [], result
    [resolved] = notifications.received()
    assert resolved["Subject"].startswith("Resolved:") and EXEMPT_VOLUME in resolved["Subject"]
    assert len(ops_items(stack, "Open")) == open_before
    [finding] = findings_of(stack, EXEMPT_VOLUME)
    assert (finding["Compliance"]["Status"], finding["Workflow"]["Status"]) == (
        "PASSED",
        "RESOLVED",
    )


def test_in_config_mode_an_exempt_failure_suppresses_aws_configs_finding(stack, notifications):
    """SecurityHubFindings=config: no finding of ours, AWS Config's own is annotated. The second
    volume pattern of build-volumes (vol-0fedcba98765432??) covers this one."""
    stack.deploy_stack({**INITIAL_PARAMETERS, **FEATURES, "SecurityHubFindings": "config"}, "cfg")
    volume = "vol-0fedcba9876543210"
    sent = send_config_evaluation(
        ACCOUNT_ID, REGION, rule(stack, "encrypted-volumes"), "AWS::EC2::Volume", volume,
        "NON_COMPLIANT", DAY.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
    )  # fmt: skip
    notifications.received()
    result, handed = process(
        stack, change(stack, "encrypted-volumes", "AWS::EC2::Volume", volume, DAY)
    )
    assert result["sent"] == ["securityhub"] and handed == [] and notifications.received() == []
    [finding] = stack.client("securityhub").get_findings(
        Filters={"Id": [{"Value": sent["Id"], "Comparison": "EQUALS"}]}
    )["Findings"]
    assert finding["Workflow"]["Status"] == "SUPPRESSED"
    assert "build-volumes" in finding["Note"]["Text"]
    assert [f for f in findings_of(stack, volume) if f["Id"] != sent["Id"]] == []
