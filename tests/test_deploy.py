"""The deploy tooling: exact AWS CLI commands, staging, the runner, the progress view, and one-line
errors for user mistakes. The deploy against the emulator is checked in tests/e2e/."""

from __future__ import annotations

import io
import json
import sys
import zipfile

import boto3
import pytest
from moto import mock_aws
from template_helpers import TEMPLATES

from compliance_template.deploy import account as deploy
from compliance_template.deploy.account import (
    DeployError,
    DeployRequest,
    EventWatcher,
    Runner,
    Target,
    create_bucket_commands,
    deploy_command,
    deploy_commands,
    destroy_commands,
    ensure_artifact_bucket,
    format_event,
    format_outputs,
    format_retained,
    main,
    package_command,
    retained_resources,
    stage_template,
)
from compliance_template.deploy.inputs import load_inputs

TEMPLATE = TEMPLATES / "compliance-monitoring.json"
REGION = "eu-west-1"
AWS = "aws"


# --- command builders ---------------------------------------------------------------------------


def test_package_command_is_exact(tmp_path):
    target = Target("compliance-monitoring", "eu-west-1", "prod")
    assert package_command(AWS, tmp_path / "t.json", "art", tmp_path / "p.json", target) == [
        AWS,
        "cloudformation",
        "package",
        "--template-file",
        str(tmp_path / "t.json"),
        "--s3-bucket",
        "art",
        "--s3-prefix",
        "compliance-monitoring",
        "--output-template-file",
        str(tmp_path / "p.json"),
        "--use-json",
        "--region",
        "eu-west-1",
        "--profile",
        "prod",
    ]


def test_deploy_command_is_exact_and_passes_every_parameter(tmp_path):
    target = Target("cm")
    command = deploy_command(AWS, tmp_path / "p.json", "art", {"B": "2", "A": "x y"}, target)
    assert command == [
        AWS,
        "cloudformation",
        "deploy",
        "--template-file",
        str(tmp_path / "p.json"),
        "--stack-name",
        "cm",
        "--s3-bucket",
        "art",
        "--s3-prefix",
        "cm",
        "--capabilities",
        "CAPABILITY_IAM",
        "--no-fail-on-empty-changeset",
        "--parameter-overrides",
        "A=x y",
        "B=2",
    ]


def test_parameter_file_and_template_defaults_give_one_override_per_parameter(tmp_path):
    parameters = tmp_path / "parameters.json"
    parameters.write_text(json.dumps({"Parameters": {"RemediationMode": "enforce"}}))
    inputs = load_inputs(TEMPLATE, parameters)
    package, deploy_cli = deploy_commands(
        AWS, tmp_path / "t.json", "art", tmp_path / "p.json", inputs.parameters, Target()
    )
    assert package[:3] == [AWS, "cloudformation", "package"]
    overrides = deploy_cli[deploy_cli.index("--parameter-overrides") + 1 :]
    declared = json.loads(TEMPLATE.read_text())["Parameters"]
    # Every parameter, so one missing from the file means the template's default, never the
    # previous deploy's value (the CLI's UsePreviousValue).
    assert [o.split("=", 1)[0] for o in overrides] == sorted(declared)
    assert "RemediationMode=enforce" in overrides
    assert "NotificationEmail=" in overrides
    assert "ReportSchedule=rate(1 day)" in overrides


def test_bucket_outside_us_east_1_gets_a_location_constraint():
    create, block = create_bucket_commands(AWS, "art", "eu-west-1", Target(region="eu-west-1"))
    assert create == [
        AWS,
        "s3api",
        "create-bucket",
        "--bucket",
        "art",
        "--region",
        "eu-west-1",
        "--create-bucket-configuration",
        "LocationConstraint=eu-west-1",
    ]
    assert block[:5] == [AWS, "s3api", "put-public-access-block", "--bucket", "art"]
    assert "RestrictPublicBuckets=true" in block[6]


def test_us_east_1_rejects_a_location_constraint():
    create, _ = create_bucket_commands(AWS, "art", "us-east-1", Target())
    assert create == [AWS, "s3api", "create-bucket", "--bucket", "art"]


def test_destroy_commands_delete_then_wait():
    assert destroy_commands(AWS, Target("cm", "eu-west-1")) == [
        [AWS, "cloudformation", "delete-stack", "--stack-name", "cm", "--region", "eu-west-1"],
        [
            AWS,
            "cloudformation",
            "wait",
            "stack-delete-complete",
            "--stack-name",
            "cm",
            "--region",
            "eu-west-1",
        ],
    ]


# --- staging --------------------------------------------------------------------------------------


def test_staged_template_points_at_byte_identical_zips(tmp_path):
    first = stage_template(TEMPLATE, tmp_path / "one")
    second = stage_template(TEMPLATE, tmp_path / "two")
    staged = json.loads(first.read_text())
    codes = {
        name: r["Properties"]["Code"]
        for name, r in staged["Resources"].items()
        if r["Type"] == "AWS::Lambda::Function"
    }
    assert codes == {
        "ProcessingFunction": "ProcessingFunction.zip",
        "ReportingFunction": "ReportingFunction.zip",
        "RemediationFunction": "RemediationFunction.zip",
    }
    for name in codes.values():
        assert (tmp_path / "one" / name).read_bytes() == (tmp_path / "two" / name).read_bytes()
        with zipfile.ZipFile(tmp_path / "one" / name) as archive:
            names = archive.namelist()
        assert "app.py" in names and "settings.py" in names  # symlinked helpers included
        assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]
    original = json.loads(TEMPLATE.read_text())
    assert staged["Resources"]["ReportsBucket"] == original["Resources"]["ReportsBucket"]
    assert second.read_text() == first.read_text()


def test_staging_a_function_without_code_is_one_clear_error(tmp_path):
    template = json.loads(TEMPLATE.read_text())
    template["Resources"]["ProcessingFunction"]["Properties"]["Code"] = "../functions/nothing"
    path = TEMPLATES / "does-not-matter.json"
    broken = tmp_path / "templates" / path.name
    broken.parent.mkdir()
    broken.write_text(json.dumps(template))
    with pytest.raises(DeployError, match=r"ProcessingFunction: .*nothing has no app.py"):
        stage_template(broken, tmp_path / "staged")


# --- what is shown -------------------------------------------------------------------------------


def test_event_line_is_readable():
    from datetime import datetime

    event = {
        "Timestamp": datetime(2026, 1, 2, 3, 4, 5),
        "ResourceStatus": "CREATE_FAILED",
        "LogicalResourceId": "ReportsBucket",
        "ResourceType": "AWS::S3::Bucket",
        "ResourceStatusReason": "Bucket name taken",
    }
    line = format_event(event)
    assert line.startswith("  03:04:05  CREATE_FAILED")
    assert "ReportsBucket" in line and line.endswith("AWS::S3::Bucket  Bucket name taken")


def test_outputs_are_a_sorted_table():
    text = format_outputs(
        [{"OutputKey": "B", "OutputValue": "2"}, {"OutputKey": "AA", "OutputValue": "1"}]
    )
    assert text.splitlines() == ["Stack outputs:", "  AA  1", "  B   2"]
    assert format_outputs([]) == "Stack outputs: none"


def test_only_retained_resources_are_reported():
    template = json.loads(TEMPLATE.read_text())
    summaries = [
        {
            "LogicalResourceId": "ReportsBucket",
            "ResourceType": "AWS::S3::Bucket",
            "PhysicalResourceId": "b",
        },
        {
            "LogicalResourceId": "ComplianceKey",
            "ResourceType": "AWS::KMS::Key",
            "PhysicalResourceId": "k",
        },
        {
            "LogicalResourceId": "DeadLetterQueue",
            "ResourceType": "AWS::SQS::Queue",
            "PhysicalResourceId": "q",
        },
    ]
    kept = retained_resources(template, summaries)
    assert [(r.logical_id, r.physical_id) for r in kept] == [
        ("ComplianceKey", "k"),
        ("ReportsBucket", "b"),
    ]
    assert format_retained([]) == "Retained resources: none"


def test_retained_report_says_how_to_delete_by_hand():
    kept = [deploy.Retained("ReportsBucket", "AWS::S3::Bucket", "my-bucket", True)]
    text = format_retained(kept)
    assert "ReportsBucket (AWS::S3::Bucket) my-bucket: still exists" in text
    assert "aws s3api delete-bucket --bucket my-bucket" in text


@mock_aws
def test_event_watcher_shows_only_new_events_oldest_first():
    cloudformation = boto3.client("cloudformation", region_name=REGION)
    body = {"Resources": {"Topic": {"Type": "AWS::SNS::Topic"}}}
    cloudformation.create_stack(StackName="w", TemplateBody=json.dumps(body))
    out = io.StringIO()
    watcher = EventWatcher(cloudformation, "w", out)
    watcher.poll()
    assert out.getvalue() == ""  # the create's events were there before the watcher
    body["Resources"]["Other"] = {"Type": "AWS::SNS::Topic"}
    cloudformation.update_stack(StackName="w", TemplateBody=json.dumps(body))
    watcher.poll()
    watcher.poll()  # nothing twice
    lines = out.getvalue().splitlines()
    assert [line.split()[1] for line in lines] == ["UPDATE_IN_PROGRESS", "UPDATE_COMPLETE"]


def test_event_watcher_waits_quietly_for_a_stack_not_created_yet():
    with mock_aws():
        out = io.StringIO()
        EventWatcher(boto3.client("cloudformation", region_name=REGION), "none", out).poll()
        assert out.getvalue() == ""


# --- the runner ---------------------------------------------------------------------------------


def test_runner_relays_output_and_reports_a_failure_in_one_line():
    out = io.StringIO()
    script = "print('changeset created'); import sys; sys.exit(3)"
    with pytest.raises(DeployError) as raised:
        Runner(out=out).run([sys.executable, "-c", script])
    assert "changeset created" in out.getvalue()
    assert "failed with exit code 3" in str(raised.value)
    assert "\n" not in str(raised.value)


def test_runner_polls_the_watcher_while_the_command_runs(monkeypatch):
    monkeypatch.setattr(deploy, "POLL_SECONDS", 0.05)
    calls = []
    Runner(out=io.StringIO()).run(
        [sys.executable, "-c", "import time; time.sleep(0.4)"], watch=lambda: calls.append(1)
    )
    # Several polls while it slept, and one after it ended (the last events).
    assert len(calls) >= 3


# --- the artifact bucket -------------------------------------------------------------------------


class RecordingRunner(Runner):
    def __init__(self) -> None:
        super().__init__(out=io.StringIO())
        self.commands: list[list[str]] = []

    def run(self, command, watch=None) -> None:
        self.commands.append(list(command))


@pytest.fixture
def aws_env(monkeypatch):
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
    }.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        yield boto3.Session(region_name=REGION)


def test_missing_default_bucket_is_created_with_the_exact_commands(aws_env):
    runner = RecordingRunner()
    bucket = ensure_artifact_bucket(None, aws_env, REGION, runner, AWS, Target(region=REGION))
    assert bucket == f"compliance-artifacts-123456789012-{REGION}"
    assert runner.commands == create_bucket_commands(AWS, bucket, REGION, Target(region=REGION))


def test_existing_bucket_is_used_as_is(aws_env):
    aws_env.client("s3").create_bucket(
        Bucket="my-artifacts", CreateBucketConfiguration={"LocationConstraint": REGION}
    )
    runner = RecordingRunner()
    assert ensure_artifact_bucket("my-artifacts", aws_env, REGION, runner, AWS, Target()) == (
        "my-artifacts"
    )
    assert runner.commands == []


def test_given_bucket_that_does_not_exist_is_not_created(aws_env):
    runner = RecordingRunner()
    with pytest.raises(DeployError, match="artifact bucket nope-bucket does not exist"):
        ensure_artifact_bucket("nope-bucket", aws_env, REGION, runner, AWS, Target())
    assert runner.commands == []


def test_bucket_in_another_region_is_refused(aws_env):
    aws_env.client("s3", region_name="us-east-1").create_bucket(Bucket="far-away")
    with pytest.raises(DeployError, match="is in us-east-1, the stack in eu-west-1"):
        ensure_artifact_bucket("far-away", aws_env, REGION, RecordingRunner(), AWS, Target())


# --- user mistakes: one line, no traceback ------------------------------------------------------


def run_main(capsys, *args):
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.err


@pytest.fixture
def no_aws(monkeypatch, tmp_path):
    """No credentials anywhere, and no instance metadata lookup (nothing leaves the machine)."""
    for name in list(__import__("os").environ):
        if name.startswith("AWS_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


def test_bad_parameter_file_is_one_line(no_aws, tmp_path, capsys):
    parameters = tmp_path / "p.json"
    parameters.write_text(json.dumps({"Parameters": {"ReportRetentionDays": "0"}}))
    code, err = run_main(capsys, "deploy", "--region", REGION, "--parameters", str(parameters))
    assert code == 2
    assert err.strip().splitlines() == [
        'deploy: error: Parameters.ReportRetentionDays: "0" is not allowed; '
        "a whole number from 1 to 3650"
    ]


def test_unreadable_parameter_file_is_one_line(no_aws, tmp_path, capsys):
    code, err = run_main(
        capsys, "deploy", "--region", REGION, "--parameters", str(tmp_path / "missing.json")
    )
    assert code == 2
    assert len(err.strip().splitlines()) == 1 and "a readable file" in err


def test_no_credentials_is_one_line(no_aws, capsys):
    code, err = run_main(capsys, "deploy", "--region", REGION)
    assert code == 2
    assert err.strip().splitlines() == [
        "deploy: error: no AWS credentials: set --profile or AWS_PROFILE, or run `aws configure`"
    ]


def test_no_region_is_one_line(no_aws, capsys):
    code, err = run_main(capsys, "destroy")
    assert (code, err.strip()) == (
        2,
        "deploy: error: no region: set --region or AWS_DEFAULT_REGION",
    )


def test_invalid_bucket_name_is_one_line(no_aws, capsys):
    code, err = run_main(capsys, "deploy", "--region", REGION, "--artifact-bucket", "My_Bucket")
    assert code == 2
    assert len(err.strip().splitlines()) == 1
    assert '--artifact-bucket: "My_Bucket" is not allowed; an S3 bucket name' in err


def test_empty_bucket_name_means_the_default(no_aws, capsys):
    # `make deploy ARTIFACT_BUCKET=` passes an empty value: not an error, the default bucket.
    code, err = run_main(capsys, "deploy", "--region", REGION, "--artifact-bucket", "")
    assert "no AWS credentials" in err and code == 2


def test_destroying_a_stack_that_does_not_exist_is_one_line(aws_env, capsys):
    code, err = run_main(capsys, "destroy", "--stack-name", "nothing-here", "--region", REGION)
    assert (code, err.strip()) == (
        2,
        f"deploy: error: stack nothing-here does not exist in {REGION}",
    )


def test_preflight_errors_stop_the_deploy(aws_env, tmp_path, capsys):
    # No recorder in this account: preflight exits 1, nothing is packaged or deployed.
    request = DeployRequest(Target("cm", REGION), TEMPLATE, None, None, tmp_path)
    with pytest.raises(DeployError, match=r"preflight failed \(exit code 1\)") as raised:
        deploy.deploy(request, RecordingRunner(), aws_env)
    assert raised.value.exit_code == 1
    assert not (tmp_path / "cm").exists()
