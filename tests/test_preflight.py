"""Preflight against moto: a clear table, exit 1 only for what would fail the deploy."""

from __future__ import annotations

import json

import boto3
import pytest
from moto import mock_aws
from template_helpers import TEMPLATES

from compliance_template.deploy.inputs import load_inputs
from compliance_template.deploy.preflight import AccountFacts, Status, main, run_checks

TEMPLATE = TEMPLATES / "compliance-monitoring.json"
REGION = "eu-west-1"


@pytest.fixture
def aws(monkeypatch):
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
    }.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        yield boto3.client("config", region_name=REGION)


def enable_config(config, resource_types=None, start=True):
    group = {"allSupported": True} if resource_types is None else {"resourceTypes": resource_types}
    boto3.client("s3", region_name=REGION).create_bucket(
        Bucket="config-bucket", CreateBucketConfiguration={"LocationConstraint": REGION}
    )
    config.put_configuration_recorder(
        ConfigurationRecorder={
            "name": "default",
            "roleARN": "arn:aws:iam::123456789012:role/config",
            "recordingGroup": group,
        }
    )
    config.put_delivery_channel(
        DeliveryChannel={"name": "default", "s3BucketName": "config-bucket"}
    )
    if start:
        config.start_configuration_recorder(ConfigurationRecorderName="default")


def parameters_file(tmp_path, **parameters):
    path = tmp_path / "parameters.json"
    path.write_text(json.dumps({"Parameters": parameters}))
    return path


def preflight(tmp_path, capsys, **parameters):
    args = ["--template", str(TEMPLATE), "--region", REGION]
    if parameters:
        args += ["--parameters", str(parameters_file(tmp_path, **parameters))]
    code = main(args)
    return code, capsys.readouterr()


def test_ready_account_passes_with_a_table(aws, tmp_path, capsys):
    enable_config(aws)
    code, out = preflight(tmp_path, capsys)
    assert "Lambda reserved concurrency" in out.out
    assert "configuration recorder" in out.out and "records what we need" in out.out
    # moto does not implement lambda:GetAccountSettings: reported as a warning, not a failure.
    assert code == 0, out.out
    assert out.out.strip().endswith("0 error(s), 1 warning(s)")


def test_no_recorder_fails_and_says_how_to_fix(aws, tmp_path, capsys):
    code, out = preflight(tmp_path, capsys)
    assert code == 1
    assert "NoAvailableConfigurationRecorderException" in out.out
    assert "CreateConfigRecorder=true" in out.out


def test_creating_a_recorder_where_one_exists_fails(aws, tmp_path, capsys):
    enable_config(aws)
    code, out = preflight(tmp_path, capsys, CreateConfigRecorder="true")
    assert code == 1
    assert "recorder 'default' exists" in out.out and "channel 'default' exists" in out.out


def test_creating_a_recorder_in_an_empty_account_passes(aws, tmp_path, capsys):
    code, out = preflight(tmp_path, capsys, CreateConfigRecorder="true", ReservedConcurrency="0")
    assert code == 0, out.out
    assert "the stack creates one" in out.out


def test_unrecorded_types_and_stopped_recorder_are_warnings(aws, tmp_path, capsys):
    enable_config(aws, resource_types=["AWS::S3::Bucket"], start=False)
    code, out = preflight(tmp_path, capsys, ReservedConcurrency="0")
    assert code == 0
    assert "is not recording" in out.out
    assert "recorded types: ENCRYPTED_VOLUMES" in out.out
    assert "recorded types: S3_BUCKET_SERVER_SIDE_ENCRYPTION_ENABLED" not in out.out


def test_rule_name_clash_outside_the_stack_fails(aws, tmp_path, capsys):
    enable_config(aws)
    aws.put_config_rule(
        ConfigRule={
            "ConfigRuleName": "compliance-encrypted-volumes",
            "Source": {"Owner": "AWS", "SourceIdentifier": "ENCRYPTED_VOLUMES"},
        }
    )
    code, out = preflight(tmp_path, capsys)
    assert code == 1
    assert "compliance-encrypted-volumes already exist outside this stack" in out.out
    code, out = preflight(tmp_path, capsys, RuleNamePrefix="team-a")
    assert "team-a" in out.out and "outside this stack" not in out.out


def test_bad_parameter_file_is_one_clear_line(aws, tmp_path, capsys):
    code, out = preflight(tmp_path, capsys, RemediationMode="yolo")
    assert code == 2
    assert out.err.strip() == (
        'preflight: error: Parameters.RemediationMode: "yolo" is not allowed; '
        "one of off, dry-run, enforce"
    )


def test_missing_credentials_is_one_line(monkeypatch, tmp_path, capsys):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    code, out = preflight(tmp_path, capsys)
    assert code == 2
    assert out.err.strip().startswith("preflight: error: no AWS credentials")


def facts(**kwargs) -> AccountFacts:
    recorder = {"name": "default", "recordingGroup": {"allSupported": True}}
    base = {
        "region": REGION,
        "recorders": [recorder],
        "recorder_status": [{"recording": True}],
        "channels": [{"name": "default"}],
    }
    return AccountFacts(**{**base, **kwargs})


def test_region_without_a_rule_warns_that_the_template_leaves_it_out():
    """The rule's region condition drops it there: the deploy works, the rule reports nothing."""
    inputs = load_inputs(TEMPLATE, None)
    findings = run_checks(inputs, facts(region="mx-central-1"))
    (region,) = [f for f in findings if f.check == "rules available in region"]
    assert region.status is Status.WARN
    assert "DB_INSTANCE_BACKUP_ENABLED, ENCRYPTED_VOLUMES not offered in mx-central-1" in (
        region.detail
    )
    assert Status.ERROR not in {f.status for f in findings}


def test_region_newer_than_the_catalog_facts_warns():
    inputs = load_inputs(TEMPLATE, None)
    (finding,) = [
        f
        for f in run_checks(inputs, facts(region="ap-southeast-6"))
        if f.check == "rules available in region"
    ]
    assert finding.status is Status.WARN
    assert "no region facts for ap-southeast-6" in finding.detail
    assert "all 4 rules are deployed" in finding.detail


def test_unknown_region_warns_that_cfn_lint_does_not_know_it():
    inputs = load_inputs(TEMPLATE, None)
    (finding,) = [
        f
        for f in run_checks(inputs, facts(region="xx-nowhere-9"))
        if f.check == "rules available in region"
    ]
    assert finding.status is Status.WARN
    assert "not a region cfn-lint" in finding.detail


def test_rules_with_unverified_region_lists_are_named():
    inputs = load_inputs(TEMPLATES / "compliance-monitoring-all-rules.json", None)
    (finding,) = [
        f for f in run_checks(inputs, facts(region="eu-west-1")) if f.check == "region facts"
    ]
    assert finding.status is Status.WARN
    assert "EC2_EBS_ENCRYPTION_BY_DEFAULT, IAM_PASSWORD_POLICY" in finding.detail
    default = run_checks(load_inputs(TEMPLATE, None), facts(region="eu-west-1"))
    assert [f.status for f in default if f.check == "region facts"] == [Status.OK]


def test_quota_and_concurrency_limits():
    inputs = load_inputs(TEMPLATE, None)
    crowded = facts(existing_rules=[f"other-{i}" for i in range(998)], unreserved_concurrency=107)
    by_check = {f.check: f for f in run_checks(inputs, crowded)}
    assert by_check["Config rule quota"].status is Status.ERROR
    assert "1002 of 1000" in by_check["Config rule quota"].detail
    assert by_check["Lambda reserved concurrency"].status is Status.ERROR
    roomy = facts(existing_rules=["compliance-encrypted-volumes"], unreserved_concurrency=1000)
    roomy.stack_rules = {"compliance-encrypted-volumes"}
    statuses = {f.check: f.status for f in run_checks(inputs, roomy)}
    assert set(statuses.values()) == {Status.OK}


def test_missing_permission_is_a_warning_naming_it():
    inputs = load_inputs(TEMPLATE, None)
    unreadable = facts(unreadable={"configuration recorder": "missing permission config:X"})
    (finding,) = [f for f in run_checks(inputs, unreadable) if f.check == "configuration recorder"]
    assert finding.status is Status.WARN and "config:X" in finding.detail


def test_central_stack_without_rules_needs_no_recorder(tmp_path):
    parameters = tmp_path / "central.json"
    parameters.write_text(json.dumps({"Parameters": {"OrganizationId": "o-a1b2c3d4e5"}}))
    central = load_inputs(TEMPLATES / "org-central.json", parameters)
    assert central.rules == ()
    findings = run_checks(central, facts(recorders=[], channels=[], unreserved_concurrency=1000))
    assert [f.check for f in findings] == ["Lambda reserved concurrency"]
    assert findings[0].status is Status.OK


def test_a_framework_stack_names_each_of_its_rules_as_the_template_does(aws, tmp_path, capsys):
    """44 rules, 18 of them manual controls of one identifier: preflight counts and checks each
    name the stack creates, not one name per identifier."""
    enable_config(aws)
    template = TEMPLATES / "framework-cis-aws-v1.4-level1.json"
    inputs = load_inputs(template, None)
    assert len(set(inputs.rule_names)) == len(inputs.rule_names) == 44
    assert all(name.startswith("compliance-") for name in inputs.rule_names)
    aws.put_config_rule(
        ConfigRule={
            "ConfigRuleName": inputs.rule_names[-1],
            "Source": {"Owner": "AWS", "SourceIdentifier": "ENCRYPTED_VOLUMES"},
        }
    )
    code = main(["--template", str(template), "--region", REGION])
    assert code == 1
    assert f"{inputs.rule_names[-1]} already exist outside this stack" in capsys.readouterr().out
