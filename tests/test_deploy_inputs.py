"""What the deploy tools read from the user (the PARAMETERS file, flags, make variables): one
line naming the field, the value as the user wrote it and what is allowed, exit code 2."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
from pathlib import Path

import pytest
from template_helpers import ROOT, TEMPLATES

from compliance_template.deploy import account as deploy
from compliance_template.deploy import org as deploy_org
from compliance_template.deploy import preflight
from compliance_template.deploy.inputs import load_inputs
from compliance_template.deploy.invocation import KNOWN_REGIONS, MAKE_ENV
from compliance_template.errors import SettingsError

STACK = TEMPLATES / "compliance-monitoring.json"
CENTRAL = TEMPLATES / "org-central.json"
MEMBER = TEMPLATES / "org-member.json"
MEMBER_VALUES = {
    "CentralBucketName": "central-reports",
    "CentralTopicArn": "arn:aws:sns:eu-west-1:111122223333:compliance",
    "CentralKeyArn": "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
}

ORG_ARGS = ["--ous", "ou-ab12-cdef3456", "--artifact-bucket-prefix", "org-artifacts"]


@pytest.fixture
def no_aws(monkeypatch, tmp_path):
    """No credentials, no configured region, no metadata lookup; not run by make."""
    for name in list(os.environ):
        if name.startswith("AWS_"):
            monkeypatch.delenv(name)
    monkeypatch.delenv(MAKE_ENV, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


def file_with(tmp_path, content: bytes | dict) -> str:
    path = tmp_path / "parameters.json"
    path.write_bytes(content if isinstance(content, bytes) else json.dumps(content).encode())
    return str(path)


def one_line(capsys) -> str:
    err = capsys.readouterr().err
    assert "Traceback" not in err
    (line,) = err.strip().splitlines()
    return line


TOOLS = {
    "preflight": lambda path: preflight.main(["--region", "eu-west-1", "--parameters", path]),
    "deploy": lambda path: deploy.main(["deploy", "--region", "eu-west-1", "--parameters", path]),
    "deploy-org": lambda path: deploy_org.main(
        [*ORG_ARGS, "--regions", "eu-west-1", "--region", "eu-west-1", "--parameters", path]
    ),
}


@pytest.mark.parametrize("tool", sorted(TOOLS))
@pytest.mark.parametrize(
    ("content", "allowed"),
    [
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", "a UTF-8 text file (byte 0 is not UTF-8)"),
        ('{"Parameters": {}}'.encode("utf-16"), "a UTF-8 text file (this one is UTF-16"),
        (b"[" * 100_000 + b"]" * 100_000, "JSON nested at most 20 levels deep"),
    ],
    ids=["binary", "utf-16", "deep"],
)
def test_unreadable_parameter_files_are_one_line(no_aws, tmp_path, capsys, tool, content, allowed):
    path = file_with(tmp_path, content)
    assert TOOLS[tool](path) == 2
    line = one_line(capsys)
    assert f'--parameters: "{path}" is not allowed; {allowed}' in line


def test_a_parameter_without_default_is_required(tmp_path):
    with pytest.raises(SettingsError) as caught:
        load_inputs(CENTRAL, None)
    assert str(caught.value) == (
        'Parameters.OrganizationId: "" is not allowed; a value in the --parameters file '
        "(the template has no default)"
    )
    file_with(tmp_path, {"Parameters": {"OrganizationId": "o-a1b2c3d4e5"}})
    inputs = load_inputs(CENTRAL, tmp_path / "parameters.json")
    assert inputs.parameters["OrganizationId"] == "o-a1b2c3d4e5"


def test_deploy_refuses_a_central_stack_without_organization_id(no_aws, capsys):
    assert deploy.main(["deploy", "--region", "eu-west-1", "--template", str(CENTRAL)]) == 2
    assert "Parameters.OrganizationId" in one_line(capsys)


def test_the_templates_rules_are_checked_before_any_aws_call(no_aws, tmp_path, capsys):
    path = file_with(tmp_path, {"Parameters": {"AggregatorAccountId": "123456789012"}})
    assert preflight.main(["--region", "eu-west-1", "--parameters", path]) == 2
    assert one_line(capsys) == (
        "preflight: error: Parameters.AggregatorAccountId, Parameters.AggregatorRegion: "
        '{"AggregatorAccountId": "123456789012", "AggregatorRegion": ""} is not allowed; '
        "AggregatorAccountId and AggregatorRegion must be set together, or both left empty"
    )
    both = {"AggregatorAccountId": "123456789012", "AggregatorRegion": "eu-west-1"}
    file_with(tmp_path, {"Parameters": both})
    assert load_inputs(STACK, tmp_path / "parameters.json").parameters["AggregatorRegion"] == (
        "eu-west-1"
    )


def test_rules_are_read_from_the_template_not_hard_coded(tmp_path):
    template = json.loads(STACK.read_text())
    template["Rules"] = {
        "NoEnforceWithoutEmail": {
            "RuleCondition": {"Fn::Equals": [{"Ref": "RemediationMode"}, "enforce"]},
            "Assertions": [
                {
                    "Assert": {"Fn::Not": [{"Fn::Equals": [{"Ref": "NotificationEmail"}, ""]}]},
                    "AssertDescription": "enforce needs a NotificationEmail",
                }
            ],
        }
    }
    custom = tmp_path / "custom.json"
    custom.write_text(json.dumps(template))
    file_with(tmp_path, {"Parameters": {"RemediationMode": "enforce"}})
    with pytest.raises(SettingsError) as caught:
        load_inputs(custom, tmp_path / "parameters.json")
    assert caught.value.field == "Parameters.NotificationEmail"
    assert caught.value.allowed == "enforce needs a NotificationEmail"
    file_with(tmp_path, {"Parameters": {"RemediationMode": "dry-run"}})
    assert load_inputs(custom, tmp_path / "parameters.json").parameters["NotificationEmail"] == ""


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (
            True,
            "Parameters.CreateConfigRecorder: true is not allowed; one of false, true, "
            'written as a JSON string ("true")',
        ),
        (30.0, None),
    ],
)
def test_values_are_shown_as_the_users_json(tmp_path, value, message):
    name = "CreateConfigRecorder" if message else "ReportRetentionDays"
    file_with(tmp_path, {"Parameters": {name: value}})
    with pytest.raises(SettingsError) as caught:
        load_inputs(STACK, tmp_path / "parameters.json")
    expected = message or (
        "Parameters.ReportRetentionDays: 30.0 is not allowed; a whole number from 1 to 3650"
    )
    assert str(caught.value) == expected


def test_deploy_org_passes_the_checked_values(tmp_path):
    values = {**MEMBER_VALUES, "ReservedConcurrency": 3}
    path = file_with(tmp_path, {"Parameters": values})
    args = deploy_org_args(path)
    deployment = deploy_org._deployment(args, "compliance-template/processing-0.zip")
    assert deployment.parameters["ReservedConcurrency"] == "3"
    assert "ProcessingCodeKey" not in deployment.parameters


def deploy_org_args(path: str) -> argparse.Namespace:
    return argparse.Namespace(
        ous="ou-ab12-cdef3456",
        regions="eu-west-1",
        artifact_bucket_prefix="org-artifacts",
        parameters=Path(path),
        region=None,
        stack_set_name="members",
        call_as="SELF",
        template=MEMBER,
    )


# --- regions and make variables -----------------------------------------------------------------


def test_unknown_regions_are_named(no_aws, tmp_path, capsys):
    path = file_with(tmp_path, {"Parameters": MEMBER_VALUES})
    code = deploy_org.main(
        [*ORG_ARGS, "--regions", "eu-west-1,eu-wets-1,us-east-7", "--parameters", path]
    )
    assert code == 2
    line = one_line(capsys)
    assert line.startswith(
        'deploy-org: error: --regions: "eu-wets-1,us-east-7" is not allowed; known region '
        "codes (unknown: eu-wets-1, us-east-7)"
    )
    assert "eu-west-1" in line
    assert deploy.main(["destroy", "--region", "eu-wets-1"]) == 2
    assert '--region: "eu-wets-1" is not allowed' in one_line(capsys)
    assert preflight.main(["--region", "mars-north-1"]) == 2
    assert '--region: "mars-north-1" is not allowed' in one_line(capsys)


def test_known_regions_are_cfn_lints():
    from cfnlint.helpers import REGIONS

    assert tuple(REGIONS) == KNOWN_REGIONS
    assert "eu-west-1" in KNOWN_REGIONS and "eu-wets-1" not in KNOWN_REGIONS


def test_deploy_org_without_a_region_says_how_to_set_one(no_aws, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv(MAKE_ENV, "1")
    path = file_with(tmp_path, {"Parameters": MEMBER_VALUES})
    code = deploy_org.main([*ORG_ARGS, "--regions", "eu-west-1", "--parameters", path])
    assert code == 2
    assert one_line(capsys) == (
        "deploy-org: error: no region for the StackSet: set REGION= or AWS_DEFAULT_REGION"
    )


def test_under_make_messages_name_make_variables(no_aws, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv(MAKE_ENV, "1")
    path = file_with(tmp_path, {"Parameters": MEMBER_VALUES})
    assert deploy_org.main(["--regions", "eu-west-1", "--parameters", path]) == 2
    assert one_line(capsys) == 'deploy-org: error: OUS=: "" is not allowed; a value (required)'
    assert deploy_org.main(["--ous", "engineering", "--regions", "eu-west-1"]) == 2
    assert one_line(capsys).startswith("deploy-org: error: ARTIFACT_PREFIX=")
    assert deploy.main(["destroy"]) == 2
    assert one_line(capsys) == "deploy: error: no region: set REGION= or AWS_DEFAULT_REGION"
    assert deploy.main(["deploy", "--region", "eu-west-1"]) == 2
    assert one_line(capsys) == (
        "deploy: error: no AWS credentials: set PROFILE=, or run `aws configure`"
    )
    assert deploy.main(["deploy", "--region", "eu-west-1", "--parameters", "missing.json"]) == 2
    assert one_line(capsys).startswith('deploy: error: PARAMETERS=: "missing.json" is not allowed')


def test_a_profile_that_does_not_exist_is_named(no_aws, tmp_path, capsys, monkeypatch):
    path = file_with(tmp_path, {"Parameters": MEMBER_VALUES})
    org = [*ORG_ARGS, "--regions", "eu-west-1", "--parameters", path, "--profile", "nosuch"]
    allowed = "is not allowed; a profile of the AWS CLI (aws configure list-profiles)"
    assert deploy_org.main(org) == 2
    assert one_line(capsys) == f'deploy-org: error: --profile: "nosuch" {allowed}'
    assert preflight.main(["--region", "eu-west-1", "--profile", "nosuch"]) == 2
    assert one_line(capsys) == f'preflight: error: --profile: "nosuch" {allowed}'
    monkeypatch.setenv(MAKE_ENV, "1")
    assert deploy.main(["destroy", "--region", "eu-west-1", "--profile", "nosuch"]) == 2
    assert one_line(capsys) == f'deploy: error: PROFILE=: "nosuch" {allowed}'


def test_without_make_messages_name_flags(no_aws, capsys):
    assert deploy.main(["deploy", "--region", "eu-west-1"]) == 2
    assert one_line(capsys) == (
        "deploy: error: no AWS credentials: set --profile or AWS_PROFILE, or run `aws configure`"
    )


def make_dry_run(*args: str) -> str:
    result = subprocess.run(
        ["make", "-n", "-C", str(ROOT), *args], capture_output=True, text=True, check=True
    )
    return " ".join(result.stdout.split())


def test_make_tells_the_tools_they_run_under_make_and_deploy_org_gets_the_profile():
    for target in ("preflight", "deploy", "destroy", "deploy-org"):
        assert f"{MAKE_ENV}=1" in make_dry_run(target, "REGION=eu-west-1"), target
    org = make_dry_run(
        "deploy-org", "OUS=ou-a", "REGIONS=eu-west-1", "PROFILE=audit", "REGION=eu-west-1"
    )
    assert "--profile audit" in org and "--region eu-west-1" in org
    # Unset variables pass no flag, so the tool (not argparse) names the make variable.
    assert "--ous" not in make_dry_run("deploy-org")


def test_an_unknown_aggregator_region_is_named_before_any_aws_call(tmp_path):
    """AggregatorRegion's pattern admits any region-shaped code; the authorization would then
    fail in CloudFormation. Like REGION=, it must be a region cfn-lint knows."""
    values = {"AggregatorAccountId": "123456789012", "AggregatorRegion": "eu-wst-1"}
    path = Path(file_with(tmp_path, {"Parameters": values}))
    with pytest.raises(SettingsError) as error:
        load_inputs(STACK, path)
    assert str(error.value).startswith(
        'Parameters.AggregatorRegion: "eu-wst-1" is not allowed; known region codes (unknown: '
        "eu-wst-1)"
    )
    values["AggregatorRegion"] = "eu-west-1"
    path.write_text(json.dumps({"Parameters": values}))
    assert load_inputs(STACK, path).parameters["AggregatorRegion"] == "eu-west-1"


def test_an_unknown_aggregator_region_as_the_templates_default_is_named(tmp_path):
    from compliance_template.generator.settings import Settings
    from compliance_template.generator.template import build_template
    from compliance_template.output import render

    defaults = {"AggregatorAccountId": "123456789012", "AggregatorRegion": "eu-wst-1"}
    settings = Settings.from_mapping({"parameter_defaults": defaults})
    template = tmp_path / "stack.json"
    template.write_text(render(build_template(settings), "json"))
    with pytest.raises(SettingsError, match=r'^Parameters.AggregatorRegion: "eu-wst-1" is not'):
        load_inputs(template, None)


def test_the_region_variable_the_hint_names_is_the_one_boto3_reads(no_aws, monkeypatch):
    """Following "no region: set ... or <variable>" must give the tools a region."""
    import boto3

    from compliance_template.deploy.invocation import set_region_hint

    variable = set_region_hint().split(" or ")[-1]
    monkeypatch.setenv(variable, "eu-west-1")
    assert boto3.Session().region_name == "eu-west-1"


@pytest.mark.parametrize(
    ("given", "refused"),
    [
        ({"SlackChannelId": "C0123ABCD"}, "SlackWorkspaceId and SlackChannelId"),
        (
            {"TeamsTenantId": "0a1b2c3d-4e5f-1a2b-3c4d-0a1b2c3d4e5f"},
            "TeamsTenantId, TeamsTeamId and TeamsChannelId",
        ),
    ],
)
def test_some_chat_ids_without_the_others_are_refused_before_any_aws_call(
    no_aws, tmp_path, capsys, given, refused
):
    path = file_with(tmp_path, {"Parameters": given})
    assert preflight.main(["--region", "eu-west-1", "--parameters", path]) == 2
    line = one_line(capsys)
    assert line.startswith("preflight: error: Parameters.")
    assert line.endswith(
        f"{refused} must be set together, or "
        + ("both" if "and Slack" in refused else "all")
        + " left empty"
    )


def test_chat_ids_the_patterns_refuse_are_named(tmp_path):
    path = Path(
        file_with(
            tmp_path, {"Parameters": {"SlackWorkspaceId": "T0123ABCD", "SlackChannelId": "C-1"}}
        )
    )
    with pytest.raises(
        SettingsError, match=r'^Parameters.SlackChannelId: "C-1" is not allowed; a Slack'
    ):
        load_inputs(STACK, path)
