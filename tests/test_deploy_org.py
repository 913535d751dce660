"""make deploy-org: the exact StackSet requests, and the whole flow against moto."""

from __future__ import annotations

import json

import boto3
import pytest
from moto import mock_aws
from template_helpers import TEMPLATES

from compliance_template.deploy.invocation import MAKE_ENV
from compliance_template.deploy.org import (
    OrgDeployment,
    code_key,
    deploy,
    instances_request,
    main,
    stack_set_request,
)

CENTRAL = {
    "CentralBucketName": "central-reports",
    "CentralTopicArn": "arn:aws:sns:eu-west-1:111122223333:compliance",
    "CentralKeyArn": "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
}
DEPLOYMENT = OrgDeployment(
    stack_set_name="compliance-members",
    organizational_units=("ou-ab12-cdef3456",),
    regions=("eu-west-1", "us-east-1"),
    artifact_bucket_prefix="org-artifacts",
    parameters=CENTRAL,
)


def test_stack_set_request_is_service_managed_with_automatic_deployment():
    request = stack_set_request(DEPLOYMENT, "{}", "compliance-template/processing-abc.zip")
    assert request["PermissionModel"] == "SERVICE_MANAGED"
    assert request["AutoDeployment"] == {"Enabled": True, "RetainStacksOnAccountRemoval": False}
    assert request["Capabilities"] == ["CAPABILITY_IAM"]
    assert request["CallAs"] == "SELF"
    assert {p["ParameterKey"]: p["ParameterValue"] for p in request["Parameters"]} == {
        **CENTRAL,
        "ArtifactBucketPrefix": "org-artifacts",
        "ProcessingCodeKey": "compliance-template/processing-abc.zip",
    }


def test_instances_request_targets_ous_and_regions_with_safe_rollout():
    assert instances_request(DEPLOYMENT) == {
        "StackSetName": "compliance-members",
        "DeploymentTargets": {"OrganizationalUnitIds": ["ou-ab12-cdef3456"]},
        "Regions": ["eu-west-1", "us-east-1"],
        "OperationPreferences": {
            "FailureTolerancePercentage": 10,
            "MaxConcurrentPercentage": 25,
            "RegionConcurrencyType": "PARALLEL",
        },
        "CallAs": "SELF",
    }


def test_code_key_is_content_addressed():
    assert code_key(b"a") == code_key(b"a") != code_key(b"b")


@pytest.fixture
def aws(monkeypatch):
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "eu-west-1",
    }.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        yield boto3.Session(region_name="eu-west-1")


def test_deploy_uploads_code_per_region_and_creates_the_stack_set(aws):
    lines: list[str] = []
    body = (TEMPLATES / "org-member.json").read_text()
    status = deploy(aws, DEPLOYMENT, body, b"zip", say=lines.append, poll_seconds=0)
    assert status == "SUCCEEDED"
    key = code_key(b"zip")
    for region in DEPLOYMENT.regions:
        s3 = aws.client("s3", region_name=region)
        assert s3.get_object(Bucket=f"org-artifacts-{region}", Key=key)["Body"].read() == b"zip"
        block = s3.get_public_access_block(Bucket=f"org-artifacts-{region}")
        assert all(block["PublicAccessBlockConfiguration"].values())
    stack_set = aws.client("cloudformation").describe_stack_set(StackSetName="compliance-members")
    assert stack_set["StackSet"]["PermissionModel"] == "SERVICE_MANAGED"
    assert any("created StackSet" in line for line in lines)
    # A second run updates instead of failing on the existing StackSet and buckets.
    assert deploy(aws, DEPLOYMENT, body, b"zip2", say=lines.append, poll_seconds=0) == "SUCCEEDED"
    assert any("updating StackSet" in line for line in lines)


def test_cli_rejects_bad_input_with_one_line(tmp_path, capsys):
    parameters = tmp_path / "central.json"
    parameters.write_text(json.dumps({"Parameters": CENTRAL}))
    base = ["--regions", "eu-west-1", "--artifact-bucket-prefix", "org-artifacts"]
    assert main(["--ous", "engineering", "--parameters", str(parameters), *base]) == 2
    assert '--ous: "engineering" is not allowed' in capsys.readouterr().err
    parameters.write_text(json.dumps({"Parameters": {"CentralBucketName": "central-reports"}}))
    assert main(["--ous", "ou-ab12-cdef3456", "--parameters", str(parameters), *base]) == 2
    err = capsys.readouterr().err
    assert "CentralKeyArn" in err and "CentralTopicArn" in err and "Traceback" not in err


@pytest.mark.parametrize(("under_make", "named"), [(True, "CALL_AS="), (False, "--call-as")])
def test_a_bad_call_as_names_what_the_user_typed(tmp_path, capsys, monkeypatch, under_make, named):
    if under_make:
        monkeypatch.setenv(MAKE_ENV, "1")
    else:
        monkeypatch.delenv(MAKE_ENV, raising=False)
    parameters = tmp_path / "central.json"
    parameters.write_text(json.dumps({"Parameters": CENTRAL}))
    argv = ["--ous", "ou-ab12-cdef3456", "--regions", "eu-west-1", "--artifact-bucket-prefix"]
    argv += ["org-artifacts", "--parameters", str(parameters), "--call-as", "delegated"]
    assert main(argv) == 2
    assert capsys.readouterr().err == (
        f'deploy-org: error: {named}: "delegated" is not allowed; SELF or DELEGATED_ADMIN\n'
    )


def test_large_templates_go_through_s3(aws, monkeypatch):
    from compliance_template.deploy import org as deploy_org

    monkeypatch.setattr(deploy_org, "MAX_INLINE_TEMPLATE_BYTES", 100)
    lines: list[str] = []
    body = (TEMPLATES / "org-member.json").read_text()
    assert deploy(aws, DEPLOYMENT, body, b"zip", say=lines.append, poll_seconds=0) == "SUCCEEDED"
    assert any(
        "template larger than 100 bytes: https://org-artifacts-eu-west-1.s3" in line
        for line in lines
    )


def test_cli_warns_about_stack_set_regions_the_region_facts_do_not_cover(
    aws, tmp_path, capsys, monkeypatch
):
    """Preflight runs in one region; the StackSet's other regions get its region warnings."""
    from compliance_template.deploy import org as deploy_org

    monkeypatch.setattr(deploy_org, "deploy", lambda *args, **kwargs: "SUCCEEDED")
    parameters = tmp_path / "central.json"
    parameters.write_text(json.dumps({"Parameters": CENTRAL}))
    regions = "eu-west-1,mx-central-1,ap-southeast-6"
    argv = ["--ous", "ou-ab12-cdef3456", "--regions", regions, "--parameters", str(parameters)]
    assert main([*argv, "--artifact-bucket-prefix", "org-artifacts"]) == 0
    warnings = capsys.readouterr().err.splitlines()
    assert len(warnings) == 2, warnings
    mexico, new_region = warnings
    assert mexico.startswith("deploy-org: warning: mx-central-1: DB_INSTANCE_BACKUP_ENABLED, ")
    assert "not offered in mx-central-1" in mexico
    assert new_region.startswith("deploy-org: warning: ap-southeast-6: no region facts for ")


def test_region_warnings_name_rules_whose_region_list_is_unverified():
    from compliance_template.deploy.org import region_warnings
    from compliance_template.generator.catalog import BY_IDENTIFIER

    rules = (BY_IDENTIFIER["IAM_PASSWORD_POLICY"], BY_IDENTIFIER["CLOUD_TRAIL_ENABLED"])
    deployment = OrgDeployment("s", ("ou-ab12-cdef3456",), ("eu-west-1",), "p", {}, rules=rules)
    (warning,) = region_warnings(deployment)
    assert warning.startswith("IAM_PASSWORD_POLICY: region list not verified")
