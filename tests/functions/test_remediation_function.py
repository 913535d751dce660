"""The remediation function against in-process moto: modes, exemptions, re-checks, audit trail."""

from __future__ import annotations

import contextlib

import pytest
import settings
from botocore.exceptions import ClientError
from conftest import ACCOUNT, REGION, emf_metrics, lambda_context, load_app, stdout_documents
from function_events import finding

remediation = load_app("remediation")
DBI_RESOURCE_ID = "db-M5ENSHXFPU6XHZ4G4ZEI5QIO2U"  # the one moto gives every instance


def run(message, request_id="req-1"):
    return remediation.handler(message, lambda_context(request_id, "remediation"))


@pytest.fixture
def calls(world):
    """Every AWS operation the function calls, in order."""
    seen: list[str] = []
    for service in ("s3", "sns", "rds", "ec2"):
        world.aws.client(service).meta.events.register(
            "before-call.*.*", lambda model, **_: seen.append(model.name)
        )
    return seen


def unencrypted_bucket(world, name="data-bucket", tags=None):
    world.s3.create_bucket(Bucket=name)
    # Buckets get SSE-S3 by default nowadays; the finding is about one that has none.
    with contextlib.suppress(ClientError):
        world.s3.delete_bucket_encryption(Bucket=name)
    if tags:
        world.s3.put_bucket_tagging(
            Bucket=name, Tagging={"TagSet": [{"Key": k, "Value": v} for k, v in tags.items()]}
        )
    return name


def bucket_algorithms(world, name):
    try:
        rules = world.s3.get_bucket_encryption(Bucket=name)["ServerSideEncryptionConfiguration"]
    except ClientError:
        return []
    return [r["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] for r in rules["Rules"]]


def db_instance(world, name="orders", retention=0, **extra):
    world.aws.client("rds").create_db_instance(
        DBInstanceIdentifier=name,
        DBInstanceClass="db.t3.micro",
        Engine=extra.pop("Engine", "postgres"),
        MasterUsername="admin",
        MasterUserPassword="secret-password-1",
        AllocatedStorage=20,
        BackupRetentionPeriod=retention,
        **extra,
    )
    return name


def retention_of(world, name):
    rds = world.aws.client("rds")
    return rds.describe_db_instances(DBInstanceIdentifier=name)["DBInstances"][0][
        "BackupRetentionPeriod"
    ]


def instance(world, instance_type="m5.24xlarge", tags=None):
    ec2 = world.aws.client("ec2")
    spec = {"ImageId": "ami-12c6146b", "MinCount": 1, "MaxCount": 1, "InstanceType": instance_type}
    if tags:
        spec["TagSpecifications"] = [
            {"ResourceType": "instance", "Tags": [{"Key": k, "Value": v} for k, v in tags.items()]}
        ]
    return ec2.run_instances(**spec)["Instances"][0]["InstanceId"]


def described(world, instance_id):
    ec2 = world.aws.client("ec2")
    return ec2.describe_instances(InstanceIds=[instance_id])["Reservations"][0]["Instances"][0]


def audit_records(world):
    return [world.read_json(key) for key in world.keys("remediation/")]


def test_dry_run_is_the_default_and_changes_nothing(world, calls, capsys):
    name = unencrypted_bucket(world)
    result = run(finding("AWS::S3::Bucket", name))

    assert result["outcome"] == "dry-run"
    assert bucket_algorithms(world, name) == []
    assert "PutBucketEncryption" not in calls
    [record] = audit_records(world)
    assert record["outcome"] == "dry-run" and record["mode"] == "dry-run"
    assert "would turn on default encryption (SSE-KMS" in record["reason"]
    assert record["action"]["api"] == "s3:PutBucketEncryption"
    [note] = world.notifications()
    assert (
        note["subject"]
        == f"Remediation dry-run: compliance-s3-bucket-server-side-encryption-enabled - {name}"
    )
    assert note["attributes"]["outcome"] == "dry-run"
    [metric] = emf_metrics(capsys.readouterr().out)
    assert (metric["RuleName"], metric["Outcome"], metric["RemediationDecision"]) == (
        "compliance-s3-bucket-server-side-encryption-enabled",
        "dry-run",
        1,
    )
    assert metric["_aws"]["CloudWatchMetrics"][0]["Dimensions"] == [["Outcome", "RuleName"]]


def test_dry_run_changes_no_database_instance_or_volume(world, monkeypatch, calls):
    monkeypatch.setenv("EBS_DEFAULT_ENCRYPTION", "true")
    db = db_instance(world)
    instance_id = instance(world)
    volume = world.aws.client("ec2").create_volume(AvailabilityZone=f"{REGION}a", Size=8)
    run(finding("AWS::RDS::DBInstance", db), "req-1")
    run(finding("AWS::EC2::Instance", instance_id), "req-2")
    run(finding("AWS::EC2::Volume", volume["VolumeId"]), "req-3")

    assert [r["outcome"] for r in audit_records(world)] == ["dry-run"] * 3
    assert retention_of(world, db) == 0
    assert "Tags" not in described(world, instance_id)
    ec2 = world.aws.client("ec2")
    assert ec2.get_ebs_encryption_by_default()["EbsEncryptionByDefault"] is False
    assert not {"ModifyDBInstance", "CreateTags", "EnableEbsEncryptionByDefault"} & set(calls)


@pytest.mark.parametrize(("algorithm", "bucket_key"), [("aws:kms", True), ("AES256", False)])
def test_enforce_turns_on_bucket_encryption(world, monkeypatch, algorithm, bucket_key):
    monkeypatch.setenv("REMEDIATION_MODE", "enforce")
    monkeypatch.setenv("S3_SSE_ALGORITHM", algorithm)
    name = unencrypted_bucket(world)
    result = run(finding("AWS::S3::Bucket", name))

    assert result["outcome"] == "acted"
    rules = world.s3.get_bucket_encryption(Bucket=name)["ServerSideEncryptionConfiguration"]
    [rule] = rules["Rules"]
    assert rule["ApplyServerSideEncryptionByDefault"] == {"SSEAlgorithm": algorithm}
    assert bool(rule.get("BucketKeyEnabled")) is bucket_key
    [record] = audit_records(world)
    assert record["outcome"] == "acted" and "done: turn on default encryption" in record["reason"]
    assert world.notifications()[0]["attributes"]["outcome"] == "acted"


@pytest.mark.parametrize("resource_id", ["orders", DBI_RESOURCE_ID])
def test_enforce_sets_the_backup_retention_period(world, monkeypatch, resource_id):
    monkeypatch.setenv("REMEDIATION_MODE", "enforce")
    monkeypatch.setenv("BACKUP_RETENTION_DAYS", "14")
    db_instance(world, "orders", retention=3)
    result = run(finding("AWS::RDS::DBInstance", resource_id))

    assert result["outcome"] == "acted"
    assert retention_of(world, "orders") == 14
    [record] = audit_records(world)
    assert record["action"]["parameters"] == {
        "DBInstanceIdentifier": "orders",
        "BackupRetentionPeriod": 14,
        "ApplyImmediately": False,
    }
    assert record["observed"]["backupRetentionPeriod"] == 3


def test_aurora_members_are_never_modified_and_the_reason_is_recorded(world, monkeypatch, calls):
    monkeypatch.setenv("REMEDIATION_MODE", "enforce")
    rds = world.aws.client("rds")
    rds.create_db_cluster(
        DBClusterIdentifier="orders-cluster",
        Engine="aurora-postgresql",
        MasterUsername="admin",
        MasterUserPassword="secret-password-1",
        BackupRetentionPeriod=1,
    )
    rds.create_db_instance(
        DBInstanceIdentifier="orders-1",
        DBInstanceClass="db.r6g.large",
        Engine="aurora-postgresql",
        DBClusterIdentifier="orders-cluster",
    )
    result = run(finding("AWS::RDS::DBInstance", "orders-1"))

    assert result["outcome"] == "skipped"
    assert "Aurora member of cluster orders-cluster" in result["reason"]
    assert "ModifyDBInstance" not in calls
    assert audit_records(world)[0]["reason"] == result["reason"]


def test_exempt_resources_are_untouched_and_the_decision_recorded(world, monkeypatch, calls):
    monkeypatch.setenv("REMEDIATION_MODE", "enforce")
    name = unencrypted_bucket(world, tags={"compliance:exempt": "CHG-1234 legacy export"})
    db = db_instance(world, Tags=[{"Key": "compliance:exempt", "Value": ""}])
    calls.clear()
    result = run(finding("AWS::S3::Bucket", name), "req-1")
    result_db = run(finding("AWS::RDS::DBInstance", db), "req-2")

    assert result["outcome"] == result_db["outcome"] == "skipped"
    assert result["reason"] == "exempt: tagged compliance:exempt='CHG-1234 legacy export'"
    assert bucket_algorithms(world, name) == [] and retention_of(world, db) == 0
    assert not {"PutBucketEncryption", "ModifyDBInstance"} & set(calls)
    assert [r["outcome"] for r in audit_records(world)] == ["skipped", "skipped"]
    assert len(world.notifications()) == 2


def test_the_exemption_tag_key_is_configurable(world, monkeypatch):
    monkeypatch.setenv("REMEDIATION_MODE", "enforce")
    monkeypatch.setenv("EXEMPTION_TAG_KEY", "security:waiver")
    name = unencrypted_bucket(world, tags={"compliance:exempt": "true"})
    assert run(finding("AWS::S3::Bucket", name))["outcome"] == "acted"
    other = unencrypted_bucket(world, "other-bucket", tags={"security:waiver": "yes"})
    assert run(finding("AWS::S3::Bucket", other), "req-2")["outcome"] == "skipped"


def test_already_fixed_resources_are_untouched(world, monkeypatch, calls):
    monkeypatch.setenv("REMEDIATION_MODE", "enforce")
    name = unencrypted_bucket(world)
    world.s3.put_bucket_encryption(
        Bucket=name,
        ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
        },
    )
    db = db_instance(world, retention=30)
    calls.clear()
    assert run(finding("AWS::S3::Bucket", name), "req-1")["reason"] == (
        "already compliant: default encryption is on (AES256)"
    )
    assert run(finding("AWS::RDS::DBInstance", db), "req-2")["outcome"] == "skipped"
    assert retention_of(world, db) == 30
    assert not {"PutBucketEncryption", "ModifyDBInstance"} & set(calls)


def test_enforce_is_idempotent(world, monkeypatch, calls):
    monkeypatch.setenv("REMEDIATION_MODE", "enforce")
    name = unencrypted_bucket(world)
    first = run(finding("AWS::S3::Bucket", name), "req-1")
    second = run(finding("AWS::S3::Bucket", name), "req-2")  # a later duplicate hand-off
    assert (first["outcome"], second["outcome"]) == ("acted", "skipped")
    assert calls.count("PutBucketEncryption") == 1


def test_ec2_instances_of_undesired_types_are_tagged_never_stopped(world, monkeypatch, calls):
    monkeypatch.setenv("REMEDIATION_MODE", "enforce")
    instance_id = instance(world)
    result = run(finding("AWS::EC2::Instance", instance_id), "req-1")

    assert result["outcome"] == "acted"
    state = described(world, instance_id)
    assert state["State"]["Name"] == "running"
    assert state["InstanceType"] == "m5.24xlarge"
    assert {"Key": "compliance:finding", "Value": "DESIRED_INSTANCE_TYPE"} in state["Tags"]
    assert run(finding("AWS::EC2::Instance", instance_id), "req-2")["reason"].startswith(
        "already flagged"
    )
    assert calls.count("CreateTags") == 1
    forbidden = {
        "StopInstances",
        "TerminateInstances",
        "ModifyInstanceAttribute",
        "RebootInstances",
    }
    assert not forbidden & set(calls)
    assert len(world.notifications()) == 2


def test_instances_of_an_allowed_type_are_skipped_when_the_types_are_known(world, monkeypatch):
    monkeypatch.setenv("REMEDIATION_MODE", "enforce")
    monkeypatch.setenv("ALLOWED_INSTANCE_TYPES", "t3.micro,m5.24xlarge")
    instance_id = instance(world)
    result = run(finding("AWS::EC2::Instance", instance_id))
    assert result["reason"] == "already compliant: m5.24xlarge is an allowed type"
    assert "Tags" not in described(world, instance_id)


def test_unencrypted_volumes_are_reported_for_the_manual_runbook(world, monkeypatch):
    monkeypatch.setenv("REMEDIATION_MODE", "enforce")
    ec2 = world.aws.client("ec2")
    volume = ec2.create_volume(AvailabilityZone=f"{REGION}a", Size=8)["VolumeId"]
    result = run(finding("AWS::EC2::Volume", volume), "req-1")
    assert result["outcome"] == "manual"
    assert "cannot encrypt an existing volume in place" in result["reason"]
    assert ec2.get_ebs_encryption_by_default()["EbsEncryptionByDefault"] is False
    note = world.notifications()[0]["message"]
    assert "Runbook:     docs/runbooks/ENCRYPTED_VOLUMES.md" in note

    monkeypatch.setenv("EBS_DEFAULT_ENCRYPTION", "true")
    result = run(finding("AWS::EC2::Volume", volume), "req-2")
    assert result["outcome"] == "acted"
    assert "protects only new volumes" in result["reason"]
    assert ec2.get_ebs_encryption_by_default()["EbsEncryptionByDefault"] is True
    # The region setting is on now; the volume itself still needs the runbook.
    assert run(finding("AWS::EC2::Volume", volume), "req-3")["outcome"] == "manual"
    encrypted = ec2.create_volume(AvailabilityZone=f"{REGION}a", Size=8, Encrypted=True)
    assert run(finding("AWS::EC2::Volume", encrypted["VolumeId"]), "req-4")["outcome"] == "skipped"


def test_resources_that_no_longer_exist_are_skipped(world, monkeypatch):
    monkeypatch.setenv("REMEDIATION_MODE", "enforce")
    cases = [
        ("AWS::S3::Bucket", "gone-bucket"),
        ("AWS::RDS::DBInstance", "gone-db"),
        ("AWS::EC2::Volume", "vol-0123456789abcdef0"),
        ("AWS::EC2::Instance", "i-0123456789abcdef0"),
    ]
    for number, (resource_type, resource_id) in enumerate(cases):
        result = run(finding(resource_type, resource_id), f"req-{number}")
        assert (result["outcome"], result["reason"].split(" no longer")[1]) == (
            "skipped",
            " exists",
        ), resource_type


def test_off_mode_calls_nothing_and_records_nothing(world, monkeypatch, calls, capsys):
    monkeypatch.setenv("REMEDIATION_MODE", "off")
    name = unencrypted_bucket(world)
    calls.clear()
    assert run(finding("AWS::S3::Bucket", name)) == {"status": "off"}
    assert calls == [] and world.keys("remediation/") == []
    [metric] = emf_metrics(capsys.readouterr().out)
    assert metric["Outcome"] == "off"


def test_a_notification_failure_is_retried_and_notifies_the_original_decision(world, monkeypatch):
    monkeypatch.setenv("REMEDIATION_MODE", "enforce")
    name = unencrypted_bucket(world)
    world.fail("sns", "Publish")
    with pytest.raises(ClientError):
        run(finding("AWS::S3::Bucket", name), "req-1")
    assert bucket_algorithms(world, name) == ["aws:kms"]

    result = run(finding("AWS::S3::Bucket", name), "req-1")  # Lambda's retry
    assert result["outcome"] == "acted"
    [record] = audit_records(world)
    assert record["outcome"] == "acted"
    [note] = world.notifications()
    assert note["attributes"]["outcome"] == "acted"


def test_an_attempt_that_dies_after_acting_leaves_a_claim_the_retry_completes(world, monkeypatch):
    monkeypatch.setenv("REMEDIATION_MODE", "enforce")
    name = unencrypted_bucket(world)
    s3 = world.aws.client("s3")
    puts = {"n": 0}

    def die_on_final_write(**_):
        puts["n"] += 1
        if puts["n"] == 2:  # the claim went through, the change was made, then S3 failed
            raise ConnectionError("the attempt died")
        return None

    s3.meta.events.register("before-call.s3.PutObject", die_on_final_write)
    with pytest.raises(ConnectionError):
        run(finding("AWS::S3::Bucket", name), "req-1")
    [claim] = audit_records(world)
    assert claim["outcome"] == "in-progress"
    assert claim["action"]["api"] == "s3:PutBucketEncryption"

    result = run(finding("AWS::S3::Bucket", name), "req-1")  # Lambda's retry
    assert result["outcome"] == "skipped"
    [record] = audit_records(world)
    assert record["reason"] == "already compliant: default encryption is on (aws:kms)"
    assert record["interruptedAttempt"]["action"]["api"] == "s3:PutBucketEncryption"
    assert len(world.notifications()) == 1


def test_read_and_write_errors_are_recorded_as_failures_not_raised(world, monkeypatch):
    monkeypatch.setenv("REMEDIATION_MODE", "enforce")
    name = unencrypted_bucket(world)
    world.fail("s3", "GetBucketTagging", code="AccessDenied")
    result = run(finding("AWS::S3::Bucket", name), "req-1")
    assert result["outcome"] == "failed"
    assert result["reason"].startswith("could not read the current state: AccessDenied")
    world.fail("s3", "PutBucketEncryption", code="AccessDenied")
    result = run(finding("AWS::S3::Bucket", name), "req-2")
    assert result["outcome"] == "failed" and "failed: AccessDenied" in result["reason"]
    assert [n["attributes"]["outcome"] for n in world.notifications()] == ["failed", "failed"]
    assert bucket_algorithms(world, name) == []


def test_findings_from_another_region_or_account_are_skipped(world, monkeypatch, calls):
    monkeypatch.setenv("REMEDIATION_MODE", "enforce")
    result = run(finding("AWS::S3::Bucket", "b", region="eu-west-1"), "req-1")
    assert result["reason"] == "the resource is in eu-west-1; this function acts in us-east-1"
    message = finding("AWS::S3::Bucket", "b")
    message["account"] = "210987654321"
    result = run(message, "req-2")
    assert (
        result["reason"]
        == f"the resource is in account 210987654321; this function acts in {ACCOUNT}"
    )
    assert "GetBucketTagging" not in calls


def test_rules_without_automatic_remediation_are_skipped(world):
    message = finding("AWS::S3::Bucket", "b")
    message.update(
        ruleName="compliance-s3-bucket-versioning-enabled",
        ruleIdentifier="S3_BUCKET_VERSIONING_ENABLED",
    )
    result = run(message)
    assert result["reason"] == "no automatic remediation exists for S3_BUCKET_VERSIONING_ENABLED"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"kind": "compliance-change"}, "kind"),
        ({"schemaVersion": 2}, "schemaVersion"),
        ({"complianceType": "COMPLIANT"}, "complianceType"),
        ({"resourceId": ""}, "resourceId"),
        ({"orderingTimestamp": "2024-05-01"}, "orderingTimestamp"),
        ({"account": 123456789012}, "account"),
    ],
)
def test_malformed_messages_are_rejected_with_a_metric(world, capsys, change, field):
    message = {**finding("AWS::S3::Bucket", "b"), **change}
    result = run(message)
    assert result["status"] == "rejected" and result["error"].startswith(f"{field}: expected")
    documents = stdout_documents(capsys.readouterr().out)
    assert [d["MalformedEvent"] for d in documents if "_aws" in d] == [1]
    assert world.keys("remediation/") == []


def test_messages_for_rules_not_in_the_stack_are_ignored(world):
    message = finding("AWS::S3::Bucket", "b")
    message["ruleIdentifier"] = "DB_INSTANCE_BACKUP_ENABLED"  # does not match RULES
    assert run(message)["status"] == "ignored"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("REMEDIATION_MODE", "yolo"),
        ("BACKUP_RETENTION_DAYS", "0"),
        ("BACKUP_RETENTION_DAYS", "36"),
        ("BACKUP_RETENTION_DAYS", "seven"),
        ("S3_SSE_ALGORITHM", "aws:kms:dsse"),
        ("EBS_DEFAULT_ENCRYPTION", "yes"),
        ("EXEMPTION_TAG_KEY", "aws:exempt"),
        ("ALLOWED_INSTANCE_TYPES", "t3.micro, m5.large"),
        ("SECURITY_HUB_MODE", "enabled"),
    ],
)
def test_invalid_configuration_names_the_variable(world, monkeypatch, name, value):
    monkeypatch.setenv(name, value)
    with pytest.raises(settings.ConfigurationError) as caught:
        run(finding("AWS::S3::Bucket", "b"))
    assert str(caught.value).startswith(f"environment variable {name} is {value!r}; allowed: ")
