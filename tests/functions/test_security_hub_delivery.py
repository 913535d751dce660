"""Processing and remediation with Security Hub, against in-process moto plus the emulator's
Security Hub additions (BatchUpdateFindings, filters, AWS Config's findings)."""

from __future__ import annotations

import contextlib
import json
import os

import changes
import delivery
import exemptions
import pytest
import security_hub
from botocore.exceptions import ClientError
from conftest import ACCOUNT, REGION, emf_metrics, lambda_context, load_app
from function_events import change_event, finding
from security_hub import FindingNotFound

from compliance_template.local.security_hub import security_hub_additions, send_config_evaluation

processing = load_app("processing")
remediation = load_app("remediation")
BUCKET_RULE = "compliance-s3-bucket-server-side-encryption-enabled"
RECORDED = "2024-05-01T12:00:00.123Z"


@pytest.fixture
def hub(world, monkeypatch):
    """Security Hub enabled (with AWS Config's integration on, as it is by default)."""
    with security_hub_additions():
        client = world.aws.client("securityhub")
        client.enable_security_hub()
        calls: list[str] = []
        client.meta.events.register(
            "before-call.securityhub.*", lambda model, **_: calls.append(model.name)
        )
        world.hub, world.hub_calls = client, calls
        yield client


def mode(world, value):
    world.monkeypatch.setenv("SECURITY_HUB_MODE", value)


def aws_config_sends(resource_id="data-bucket", compliance="NON_COMPLIANT", at=RECORDED):
    return send_config_evaluation(
        ACCOUNT, REGION, BUCKET_RULE, "AWS::S3::Bucket", resource_id, compliance, at
    )


def bucket_event(
    compliance="NON_COMPLIANT", old="COMPLIANT", ordering=RECORDED, bucket="data-bucket"
):
    return change_event(
        compliance, old, resource_type="AWS::S3::Bucket", resource_id=bucket, ordering=ordering
    )


def run(event, request_id="req-1"):
    return processing.handler(event, lambda_context(request_id))


def findings(world, **filters):
    return world.hub.get_findings(Filters=filters)["Findings"]


def only_finding(world):
    [found] = findings(world)
    return found


def test_config_mode_notes_aws_configs_finding_and_imports_nothing(world, hub):
    mode(world, "config")
    world.monkeypatch.setenv("RUNBOOK_BASE_URL", "https://runbooks.example.com")
    aws_config_sends()
    result = run(bucket_event())
    assert result["sent"] == ["notification", "securityhub"]
    found = only_finding(world)  # still AWS Config's one: no duplicate
    assert found["ProductName"] == "Config"
    assert found["Note"]["Text"] == (
        "Non-compliant. Runbook: https://runbooks.example.com/"
        "S3_BUCKET_SERVER_SIDE_ENCRYPTION_ENABLED.md. Automatic remediation: not enabled for "
        "this rule."
    )
    assert found["Workflow"] == {"Status": "NEW"}
    assert "BatchImportFindings" not in world.hub_calls


def test_securityhub_runs_after_the_notification_and_before_the_hand_off(world, hub):
    mode(world, "config")
    world.enable_remediation_function()
    world.monkeypatch.setenv("REMEDIATE_RULES", '["S3_BUCKET_SERVER_SIDE_ENCRYPTION_ENABLED"]')
    aws_config_sends()
    result = run(bucket_event())
    assert result["sent"] == ["notification", "securityhub", "remediation"]
    assert "handed to the remediation function" in only_finding(world)["Note"]["Text"]
    [key] = world.keys("compliance-changes/")
    assert world.read_json(key)["delivery"]["planned"] == [
        "notification",
        "securityhub",
        "remediation",
    ]


def test_a_finding_aws_config_has_not_sent_yet_is_retried_and_completed_once(world, hub):
    mode(world, "config")
    world.enable_remediation_function()
    world.monkeypatch.setenv("REMEDIATE_RULES", '["S3_BUCKET_SERVER_SIDE_ENCRYPTION_ENABLED"]')
    with pytest.raises(FindingNotFound, match="no active AWS Config finding"):
        run(bucket_event())
    [key] = world.keys("compliance-changes/")
    record = world.read_json(key)["delivery"]
    assert record["incomplete"] == ["securityhub", "remediation"]
    assert record["lastError"].startswith("FindingNotFound: Security Hub has no active")
    assert len(world.notifications()) == 1 and world.invocations == []

    aws_config_sends()  # minutes later
    assert run(bucket_event())["status"] == "recovered"  # Lambda's retry, same request id
    assert len(world.notifications()) == 1  # not sent again
    assert len(world.invocations) == 1
    assert only_finding(world)["Note"]["UpdatedBy"] == "compliance-monitoring"
    assert "incomplete" not in world.read_json(key)["delivery"]


def test_a_failed_update_is_retried_and_the_note_is_written_once(world, hub):
    mode(world, "config")
    aws_config_sends()
    world.fail("securityhub", "BatchUpdateFindings")
    with pytest.raises(ClientError):
        run(bucket_event())
    [key] = world.keys("compliance-changes/")
    assert world.read_json(key)["delivery"]["incomplete"] == ["securityhub"]
    assert "Note" not in only_finding(world)

    assert run(bucket_event())["status"] == "recovered"
    assert only_finding(world)["Note"]["Text"].startswith("Non-compliant.")
    assert world.hub_calls.count("BatchUpdateFindings") == 2  # the failed one and the retry
    # A duplicate delivery sends nothing.
    assert run(bucket_event(), "req-2")["status"] == "duplicate"
    # Lambda retrying an attempt that timed out runs the effect again: the note is there.
    assert run(bucket_event(), "req-1")["status"] == "recovered"
    assert world.hub_calls.count("BatchUpdateFindings") == 2


def _deliver(world, event, exemption, request_id="req-1"):
    """``exemption`` declared for the bucket rule and every bucket; matched by processing on the
    evaluation's day, as the stack's exemptions are."""
    change = changes.parse_event(event)
    declared = (
        exemptions.parse(
            json.dumps(
                {
                    "schemaVersion": 1,
                    "exemptions": [
                        {
                            **exemption,
                            "rules": ["S3_BUCKET_SERVER_SIDE_ENCRYPTION_ENABLED"],
                            "resources": ["*"],
                            "accounts": [],
                            "regions": [],
                        }
                    ],
                }
            )
        )
        if exemption
        else exemptions.NONE
    )
    plan = changes.plan(change, event, changes.load_settings(os.environ), request_id, declared)
    port = delivery.AwsPort(
        world.s3,
        world.aws.client("sns"),
        None,
        "compliance-reports-test",
        world.topic_arn,
        "",
        world.hub,
    )
    return plan, delivery.deliver(plan, port, request_id)


EXEMPTION = {
    "id": "EX-1",
    "reason": "legacy bucket, migration planned",
    "owner": "data-team",
    "granted": "2024-04-01",
    "expires": "2024-06-30",
}


@pytest.mark.parametrize("value", ["config", "import"])
def test_an_exempt_violation_is_suppressed_with_the_exemption_in_the_note(world, hub, value):
    mode(world, value)
    aws_config_sends()
    _, outcome = _deliver(world, bucket_event(), EXEMPTION)
    assert "securityhub" in outcome.sent
    product = (
        "arn:aws:securityhub:us-east-1::product/aws/config"
        if value == "config"
        else f"arn:aws:securityhub:{REGION}:{ACCOUNT}:product/{ACCOUNT}/default"
    )
    [found] = findings(world, ProductArn=[{"Value": product, "Comparison": "EQUALS"}])
    assert found["Workflow"] == {"Status": "SUPPRESSED"}
    assert found["Note"]["Text"] == (
        "Exempt: EX-1. Reason: legacy bucket, migration planned. Owner: data-team. "
        "Granted 2024-04-01, expires 2024-06-30."
    )
    # The exemption ended, the bucket is still non-compliant: the next violation reopens it.
    _deliver(world, bucket_event(ordering="2024-07-01T00:00:00.000Z"), EXEMPTION, "req-2")
    [found] = findings(world, ProductArn=[{"Value": product, "Comparison": "EQUALS"}])
    assert found["Workflow"] == {"Status": "NEW"}
    assert found["Note"]["Text"].startswith("Non-compliant.")


def test_import_mode_imports_one_finding_per_rule_and_resource_through_its_lifecycle(world, hub):
    mode(world, "import")
    world.monkeypatch.setenv("RUNBOOK_BASE_URL", "https://runbooks.example.com")
    assert run(bucket_event())["sent"] == ["notification", "securityhub"]
    own = [{"Value": f"arn:aws:securityhub:{REGION}:{ACCOUNT}:product/{ACCOUNT}/default",
            "Comparison": "EQUALS"}]  # fmt: skip
    [found] = findings(world, ProductArn=own)
    assert found["Id"] == f"{ACCOUNT}/{REGION}/{BUCKET_RULE}/AWS::S3::Bucket/data-bucket"
    assert found["Compliance"] == {"Status": "FAILED"}
    assert found["Severity"] == {"Label": "MEDIUM"}
    assert found["Remediation"]["Recommendation"]["Url"] == (
        "https://runbooks.example.com/S3_BUCKET_SERVER_SIDE_ENCRYPTION_ENABLED.md"
    )
    assert found["Note"]["Text"].startswith("Non-compliant.")

    later = "2024-05-02T09:00:00.000Z"
    assert run(bucket_event("COMPLIANT", "NON_COMPLIANT", later), "req-2")["sent"] == [
        "notification",
        "securityhub",
    ]
    [found] = findings(world, ProductArn=own)  # the same finding, not a second one
    assert found["Compliance"] == {"Status": "PASSED"}
    assert found["Workflow"] == {"Status": "RESOLVED"}  # Security Hub's own lifecycle
    assert found["Note"]["Text"].startswith("COMPLIANT since 2024-05-02T09:00:00.000000Z")
    assert found["UpdatedAt"] == "2024-05-02T09:00:00.000000Z"


def test_a_failed_import_raises_so_the_effect_is_retried(world, hub):
    mode(world, "import")
    world.fail("securityhub", "BatchImportFindings")
    with pytest.raises(ClientError):
        run(bucket_event())
    [key] = world.keys("compliance-changes/")
    assert world.read_json(key)["delivery"]["incomplete"] == ["securityhub"]
    assert run(bucket_event())["status"] == "recovered"
    assert len(findings(world)) == 1


def test_an_import_security_hub_refuses_is_an_error_not_a_success(world, hub):
    mode(world, "import")
    hub.disable_security_hub()
    with pytest.raises(RuntimeError, match=r"did not import finding .*InvalidAccess"):
        run(bucket_event())


def test_off_calls_no_security_hub_api(world, hub):
    assert run(bucket_event())["sent"] == ["notification"]
    assert world.hub_calls == []


def remediate(world, request_id="req-1"):
    world.s3.create_bucket(Bucket="data-bucket")
    with contextlib.suppress(ClientError):
        world.s3.delete_bucket_encryption(Bucket="data-bucket")
    message = finding("AWS::S3::Bucket", "data-bucket")
    return remediation.handler(message, lambda_context(request_id, "remediation"))


def test_remediation_replaces_the_note_with_its_decision(world, hub):
    mode(world, "config")
    aws_config_sends()
    result = remediate(world)
    assert result["outcome"] == "dry-run"
    note = only_finding(world)["Note"]["Text"]
    assert note.startswith("Remediation dry-run (dry-run mode). Runbook: docs/runbooks/")
    assert "would " in note
    assert world.read_json(result["key"])["securityHubNote"] == {"status": "added"}
    [message] = world.notifications()
    assert "Security Hub: the decision is the finding's note" in message["message"]
    assert only_finding(world)["Workflow"] == {"Status": "NEW"}  # never changed by remediation


def test_remediation_keeps_its_record_when_security_hub_fails_and_says_so(world, hub, capsys):
    mode(world, "config")
    aws_config_sends()
    world.fail("securityhub", "BatchUpdateFindings", code="ThrottlingException")
    result = remediate(world)  # not raised
    assert result["status"] == "decided"
    record = world.read_json(result["key"])
    assert record["outcome"] == "dry-run"
    assert record["securityHubNote"]["status"] == "missing"
    assert record["securityHubNote"]["error"].startswith("ThrottlingException")
    assert "Note" not in only_finding(world)
    out = capsys.readouterr().out
    metrics = [m for m in emf_metrics(out) if "SecurityHubNoteFailed" in m]
    assert len(metrics) == 1 and metrics[0]["RuleName"] == BUCKET_RULE
    [message] = world.notifications()
    assert "Security Hub: the decision's note is missing (ThrottlingException" in message["message"]


def test_remediation_without_aws_configs_finding_records_the_note_missing(world, hub):
    mode(world, "config")
    result = remediate(world)
    note = world.read_json(result["key"])["securityHubNote"]
    assert note["status"] == "missing" and "no active AWS Config finding" in note["error"]


def test_an_older_evaluation_never_overwrites_a_newer_import(world, hub):
    """Security Hub ignores an import whose UpdatedAt is older than the finding's."""
    target = security_hub.Target(ACCOUNT, REGION, BUCKET_RULE, "AWS::S3::Bucket", "data-bucket")
    newer = security_hub.asff_finding(
        target,
        compliance_type="COMPLIANT",
        evaluated_at="2024-05-02T00:00:00.000000Z",
        severity="MEDIUM",
        description="d",
        what_to_do="w",
        runbook="r",
        annotation=None,
    )
    older = {
        **newer,
        "UpdatedAt": "2024-05-01T00:00:00.000000Z",
        "Compliance": {"Status": "FAILED"},
    }
    hub.batch_import_findings(Findings=[newer])
    assert hub.batch_import_findings(Findings=[older])["SuccessCount"] == 1
    assert only_finding(world)["Compliance"] == {"Status": "PASSED"}


def test_config_mode_finds_an_rds_instance_by_the_resource_id_in_its_details(world, hub):
    mode(world, "config")
    rule, dbi = "compliance-db-instance-backup-enabled", "db-M5ENSHXFPU6XHZ4G4ZEI5QIO2U"
    send_config_evaluation(
        ACCOUNT, REGION, rule, "AWS::RDS::DBInstance", dbi, "NON_COMPLIANT", RECORDED,
        resource_arn=f"arn:aws:rds:{REGION}:{ACCOUNT}:db:orders",
        details={"AwsRdsDbInstance": {"DbiResourceId": dbi}},
    )  # fmt: skip
    event = change_event(resource_type="AWS::RDS::DBInstance", resource_id=dbi, ordering=RECORDED)
    assert run(event)["sent"] == ["notification", "securityhub"]
    assert only_finding(world)["Note"]["Text"].startswith("Non-compliant.")


class MemoryPort:
    """delivery's Port in memory, with a Security Hub that fails the first `failures` calls."""

    def __init__(self, failures: int = 0) -> None:
        self.objects: dict[str, dict] = {}
        self.failures = failures
        self.updates: list[security_hub.FindingUpdate] = []
        self.sent: list[str] = []

    def claim(self, key, record):
        if key in self.objects:
            return False
        self.objects[key] = record
        return True

    def load(self, key):
        return self.objects.get(key)

    def save(self, key, record):
        self.objects[key] = record

    def create_latest(self, key, document):
        return self.claim(key, document)

    def load_latest(self, key):
        return self.objects.get(key), "etag" if key in self.objects else None

    def replace_latest(self, key, document, etag):
        self.objects[key] = document
        return True

    def notify(self, notification):
        self.sent.append("notification")
        return "id"

    def hand_off(self, payload):
        self.sent.append("remediation")

    def update_security_hub(self, update):
        if self.failures:
            self.failures -= 1
            raise RuntimeError("Security Hub did not update finding f: InternalException")
        self.updates.append(update)


def test_delivery_retries_only_the_failed_security_hub_update_and_sends_it_once(world):
    mode(world, "import")
    event = bucket_event()
    plan = changes.plan(
        changes.parse_event(event), event, changes.load_settings(os.environ), "req-1"
    )
    port = MemoryPort(failures=1)
    with pytest.raises(RuntimeError):
        delivery.deliver(plan, port, "req-1")
    assert port.objects[plan.key]["delivery"]["incomplete"] == ["securityhub"]
    assert port.sent == ["notification"] and port.updates == []
    outcome = delivery.deliver(plan, port, "req-redrive")  # a redrive, another request id
    assert outcome.status == "recovered" and outcome.sent == ("securityhub",)
    assert port.sent == ["notification"]
    assert [u.target.resource_id for u in port.updates] == ["data-bucket"]
    assert delivery.deliver(plan, port, "req-3").status == "duplicate"
    assert len(port.updates) == 1
