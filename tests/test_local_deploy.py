"""`make deploy-local`: the whole cycle as CI runs it, its clean-up when a step fails, the
emulator's CloudFormation fixes for what moto lacks, and the cycle's pure helpers."""

from __future__ import annotations

import io
import json
import logging
import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import boto3
import pytest
from moto.cloudformation import parsing
from moto.kms.models import Key
from template_helpers import ROOT, TEMPLATES

from compliance_template.local import emulator as emulator_module
from compliance_template.local.cycle import (
    STACK,
    STATEFUL_TYPES,
    Step,
    create_only_properties,
    environment,
    function_module,
    parameters_in_effect,
    parameters_reached,
    replacing_parameters,
    run_cycle,
    updated_parameters,
)
from compliance_template.local.emulator import ACCOUNT_ID, EMULATED_TYPES, Emulator
from compliance_template.paths import FUNCTIONS_DIR

REGION = "eu-west-1"
TEMPLATE = json.loads((TEMPLATES / "compliance-monitoring.json").read_text())


def port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def emulator_port(output: str) -> int:
    return int(re.search(r"moto on 127\.0\.0\.1:(\d+)", output).group(1))


# --- the whole cycle ------------------------------------------------------------------------------


def test_make_deploy_local_runs_the_whole_cycle_within_two_minutes():
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "compliance_template.local.cycle"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    elapsed = time.monotonic() - started
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-4000:]
    marks = dict(
        (name, mark)
        for mark, name in re.findall(r"^\[(ok|not verified|FAIL)\] ([a-z ,]+) \(", output, re.M)
    )
    verified = [
        "account",
        "deploy",
        "bucket",
        "key",
        "log groups",
        "topic, queue",
        "functions",
        "triggers",
        "alarms",
        "config",
        "template",
        "processing",
        "remediation",
        "reporting",
        "update",
        "destroy",
    ]
    assert {name: marks.get(name) for name in verified} == dict.fromkeys(verified, "ok")
    assert elapsed < 120
    # The same commands as `make deploy`, against the emulator.
    assert "$ aws cloudformation package" in output and "--use-json" in output
    assert "$ aws cloudformation deploy" in output and "$ aws cloudformation delete-stack" in output
    assert "Retained (DeletionPolicy Retain), not deleted:" in output
    assert output.rstrip().splitlines()[-1].startswith("emulator stopped")
    # The functions' own log lines (JSON) appear once each.
    function_lines = [line for line in output.splitlines() if line.startswith("{")]
    assert function_lines and len(set(function_lines)) == len(function_lines)
    assert not port_open(emulator_port(output))
    # No AWS CLI process outlives the cycle: none still names its work directory.
    work = re.search(r"(/\S*deploy-local-[^/\s]+)/", output).group(1)
    assert not Path(work).exists()
    processes = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True, check=True)
    assert work not in processes.stdout


def test_a_failing_step_still_deletes_the_stack_and_stops_the_emulator():
    out = io.StringIO()

    def steps(cycle):
        def fail() -> str:
            raise RuntimeError("injected failure")

        return [
            Step("account", cycle.account_setup),
            Step("deploy", cycle.create),
            Step("breaks", fail),
            Step("never", lambda: "ran"),
        ]

    assert run_cycle(out=out, steps=steps) is False
    text = out.getvalue()
    assert "[ok] deploy" in text
    assert "[FAIL] breaks: RuntimeError: injected failure" in text
    assert "never" not in text
    assert f"cleanup: delete-stack {STACK} requested" in text
    assert "emulator stopped" in text
    assert not port_open(emulator_port(text))
    from moto.cloudformation.models import cloudformation_backends

    live = [s.name for s in cloudformation_backends[ACCOUNT_ID][REGION].stacks.values()]
    assert STACK not in live


def test_another_template_is_checked_against_its_own_parameter_defaults():
    """The all-rules example keeps reports 90 days and logs 365 (the default stack: 30 and 90);
    the checks read the values in effect, and the update changes each value it sets."""
    template = TEMPLATES / "compliance-monitoring-all-rules.json"
    defaults = json.loads(template.read_text())["Parameters"]
    assert (
        defaults["ReportRetentionDays"]["Default"],
        defaults["LogRetentionDays"]["Default"],
    ) == (
        "90",
        "365",
    )
    out = io.StringIO()

    def steps(cycle):
        return [
            Step("account", cycle.account_setup),
            Step("deploy", cycle.create),
            Step("bucket", cycle.check_bucket),
            Step("log groups", cycle.check_log_groups),
            Step("alarms", cycle.check_alarms),
            Step("update", cycle.update),
            Step("destroy", cycle.destroy),
        ]

    assert run_cycle(out=out, template=template, steps=steps) is True, out.getvalue()[-3000:]
    text = out.getvalue()
    assert "lifecycle expiry 90 days" in text and ", 365 days" in text
    assert "ReportRetentionDays 90->30" in text and "LogRetentionDays 365->30" in text


def test_parameters_in_effect_are_the_given_values_over_the_defaults():
    template = {"Parameters": {"A": {"Type": "Number", "Default": 30}, "B": {"Type": "String"}}}
    assert parameters_in_effect(template, {}) == {"A": "30"}
    assert parameters_in_effect(template, {"B": "x", "Unknown": "y"}) == {"A": "30", "B": "x"}
    assert parameters_in_effect(template, {}, previous={"A": "7", "B": "x"}) == {"A": "7", "B": "x"}
    assert updated_parameters({"ReportRetentionDays": "90"})["ReportRetentionDays"] == "30"
    assert updated_parameters({"ReportRetentionDays": "30"})["ReportRetentionDays"] == "90"


# --- the emulator's fixes -------------------------------------------------------------------------


def test_moto_alone_has_no_handler_for_the_types_the_emulator_adds():
    # When a moto upgrade adds one of these, this fails: drop our handler and its docs entry.
    for resource_type in EMULATED_TYPES:
        assert parsing.resource_class_from_type(resource_type) is None, resource_type


def test_the_fixes_are_undone_when_the_emulator_stops():
    lookup, create_key = parsing.resource_class_from_type, Key.create_from_cloudformation_json
    with Emulator(region=REGION) as running:
        assert parsing.resource_class_from_type("AWS::Config::ConfigRule") is not None
        assert port_open(running.port)
    assert parsing.resource_class_from_type is lookup
    assert Key.create_from_cloudformation_json == create_key
    assert not port_open(running.port)


@pytest.fixture
def aws():
    with Emulator(region=REGION) as running:
        session = boto3.Session(
            region_name=REGION, aws_access_key_id="testing", aws_secret_access_key="testing"
        )
        yield lambda service: session.client(service, endpoint_url=running.endpoint)


RECORDER_TEMPLATE = {
    "Parameters": {
        "Threshold": {"Type": "Number", "Default": "1"},
        "Note": {"Type": "String", "Default": "first"},
    },
    "Resources": {
        "Key": {
            "Type": "AWS::KMS::Key",
            "Properties": {
                "Description": {"Ref": "Note"},
                "EnableKeyRotation": True,
                "KeyPolicy": {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Sid": "Admin",
                            "Effect": "Allow",
                            "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT_ID}:root"},
                            "Action": "kms:*",
                            "Resource": "*",
                        }
                    ],
                },
                "Tags": [{"Key": "project", "Value": "test"}],
            },
        },
        "Bucket": {"Type": "AWS::S3::Bucket"},
        "Role": {
            "Type": "AWS::IAM::Role",
            "Properties": {
                "AssumeRolePolicyDocument": {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"Service": "config.amazonaws.com"},
                            "Action": "sts:AssumeRole",
                        }
                    ],
                }
            },
        },
        "Recorder": {
            "Type": "AWS::Config::ConfigurationRecorder",
            "Properties": {
                "RoleARN": {"Fn::GetAtt": ["Role", "Arn"]},
                "RecordingGroup": {"AllSupported": True, "IncludeGlobalResourceTypes": False},
            },
        },
        "Channel": {
            "Type": "AWS::Config::DeliveryChannel",
            "DependsOn": ["Recorder"],
            "Properties": {"S3BucketName": {"Ref": "Bucket"}, "S3KeyPrefix": "config"},
        },
        "Authorization": {
            "Type": "AWS::Config::AggregationAuthorization",
            "Properties": {"AuthorizedAccountId": "210987654321", "AuthorizedAwsRegion": REGION},
        },
        "Topic": {"Type": "AWS::SNS::Topic"},
        "Hook": {
            "Type": "AWS::SNS::Subscription",
            "Properties": {
                "TopicArn": {"Ref": "Topic"},
                "Protocol": "https",
                "Endpoint": "https://example.com/hook",
                "DeliveryPolicy": {"healthyRetryPolicy": {"numRetries": 10}},
            },
        },
        "Alarm": {
            "Type": "AWS::CloudWatch::Alarm",
            "Properties": {
                "Namespace": "Test",
                "MetricName": "Things",
                "ComparisonOperator": "GreaterThanThreshold",
                "EvaluationPeriods": 1,
                "Period": 60,
                "Statistic": "Sum",
                "Threshold": {"Ref": "Threshold"},
                "AlarmActions": [{"Ref": "Topic"}],
            },
        },
    },
    "Outputs": {"AlarmArn": {"Value": {"Fn::GetAtt": ["Alarm", "Arn"]}}},
}


def test_handlers_outside_the_cycle_create_update_and_delete_through_moto(aws):
    """The recorder types (CreateConfigRecorder=true), the aggregation authorization, an HTTPS
    subscription's delivery policy, a key with tags, and in-place updates of an alarm and a key."""
    cloudformation, config = aws("cloudformation"), aws("config")
    body = json.dumps(RECORDER_TEMPLATE)
    cloudformation.create_stack(
        StackName="fixes", TemplateBody=body, Capabilities=["CAPABILITY_IAM"]
    )
    resources = {
        r["LogicalResourceId"]: r["PhysicalResourceId"]
        for r in cloudformation.list_stack_resources(StackName="fixes")["StackResourceSummaries"]
    }
    recorders = config.describe_configuration_recorders()["ConfigurationRecorders"]
    assert [r["name"] for r in recorders] == [resources["Recorder"]]
    assert recorders[0]["recordingGroup"]["allSupported"] is True
    channels = config.describe_delivery_channels()["DeliveryChannels"]
    assert channels[0]["s3BucketName"] == resources["Bucket"]
    assert channels[0]["s3KeyPrefix"] == "config"
    authorizations = config.describe_aggregation_authorizations()["AggregationAuthorizations"]
    assert [a["AuthorizedAccountId"] for a in authorizations] == ["210987654321"]
    attributes = aws("sns").get_subscription_attributes(SubscriptionArn=resources["Hook"])
    assert json.loads(attributes["Attributes"]["DeliveryPolicy"]) == {
        "healthyRetryPolicy": {"numRetries": 10}
    }
    outputs = cloudformation.describe_stacks(StackName="fixes")["Stacks"][0]["Outputs"]
    alarm_arn = outputs[0]["OutputValue"]
    assert alarm_arn.endswith(f":alarm:{resources['Alarm']}")

    kms = aws("kms")
    key = resources["Key"]
    assert kms.list_resource_tags(KeyId=key)["Tags"] == [{"TagKey": "project", "TagValue": "test"}]
    assert kms.get_key_rotation_status(KeyId=key)["KeyRotationEnabled"] is True

    cloudformation.update_stack(
        StackName="fixes",
        TemplateBody=body,
        Parameters=[
            {"ParameterKey": "Threshold", "ParameterValue": "7"},
            {"ParameterKey": "Note", "ParameterValue": "second"},
        ],
        Capabilities=["CAPABILITY_IAM"],
    )
    alarms = aws("cloudwatch").describe_alarms(AlarmNames=[resources["Alarm"]])["MetricAlarms"]
    assert [a["Threshold"] for a in alarms] == [7.0]  # same alarm, new threshold
    assert kms.describe_key(KeyId=key)["KeyMetadata"]["Description"] == "second"  # same key
    listed = cloudformation.list_stack_resources(StackName="fixes")["StackResourceSummaries"]
    assert {r["LogicalResourceId"]: r["PhysicalResourceId"] for r in listed}["Key"] == key

    cloudformation.delete_stack(StackName="fixes")
    assert config.describe_configuration_recorders()["ConfigurationRecorders"] == []
    assert config.describe_delivery_channels()["DeliveryChannels"] == []
    assert config.describe_aggregation_authorizations()["AggregationAuthorizations"] == []
    assert aws("cloudwatch").describe_alarms()["MetricAlarms"] == []
    assert aws("sns").list_subscriptions()["Subscriptions"] == []


def test_emulator_environment_keeps_no_real_aws_setting():
    running = Emulator(region=REGION, port=4566)
    env = running.environment(
        {"PATH": "/bin", "AWS_PROFILE": "prod", "AWS_SESSION_TOKEN": "t", "AWS_ACCESS_KEY_ID": "A"}
    )
    assert env["PATH"] == "/bin"
    assert "AWS_PROFILE" not in env and "AWS_SESSION_TOKEN" not in env
    assert env["AWS_ACCESS_KEY_ID"] == "testing"
    assert env["AWS_ENDPOINT_URL"] == "http://localhost:4566"
    assert env["AWS_CONFIG_FILE"] == env["AWS_SHARED_CREDENTIALS_FILE"] == os.devnull


def test_emulated_compliance_details_paginate_like_config():
    import boto3

    with emulator_module.Emulator(region="eu-west-1") as emulator:
        session = boto3.Session(
            aws_access_key_id="testing", aws_secret_access_key="testing", region_name="eu-west-1"
        )
        config = session.client("config", endpoint_url=emulator.endpoint)
        config.put_config_rule(
            ConfigRule={
                "ConfigRuleName": "rule",
                "Source": {"Owner": "AWS", "SourceIdentifier": "ENCRYPTED_VOLUMES"},
            }
        )
        for index in range(150):
            compliance = "NON_COMPLIANT" if index % 2 else "COMPLIANT"
            emulator.record_evaluation("rule", "AWS::EC2::Volume", f"vol-{index}", compliance)
        pages = list(
            config.get_paginator("get_compliance_details_by_config_rule").paginate(
                ConfigRuleName="rule", ComplianceTypes=["NON_COMPLIANT"]
            )
        )
        assert [len(page["EvaluationResults"]) for page in pages] == [75]
        pages = list(
            config.get_paginator("get_compliance_details_by_config_rule").paginate(
                ConfigRuleName="rule", PaginationConfig={"PageSize": 100}
            )
        )
        assert [len(page["EvaluationResults"]) for page in pages] == [100, 50]
        try:
            config.get_compliance_details_by_config_rule(ConfigRuleName="missing")
        except config.exceptions.NoSuchConfigRuleException:
            pass
        else:
            raise AssertionError("an unknown rule must raise NoSuchConfigRuleException")


POLICY_TEMPLATE = {
    "Parameters": {"Bucket": {"Type": "String", "Default": "first-bucket"}},
    "Resources": {
        "Role": RECORDER_TEMPLATE["Resources"]["Role"],
        "Policy": {
            "Type": "AWS::IAM::ManagedPolicy",
            "Properties": {
                "Description": "test",
                "Roles": [{"Ref": "Role"}],
                "PolicyDocument": {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Action": "s3:GetObject",
                            # A Ref: moto finds a changed parameter only there, not in Fn::Sub.
                            "Resource": {"Fn::Join": ["", ["arn:aws:s3:::", {"Ref": "Bucket"}]]},
                        }
                    ],
                },
            },
        },
    },
}


def test_a_managed_policy_is_attached_updated_and_deleted_with_its_stack(aws):
    """moto attaches an AWS::IAM::ManagedPolicy on create but has no update or delete: the stack
    would keep the old document, and deleting it fails (the role still has the policy)."""
    cloudformation, iam = aws("cloudformation"), aws("iam")
    body = json.dumps(POLICY_TEMPLATE)
    cloudformation.create_stack(
        StackName="policy", TemplateBody=body, Capabilities=["CAPABILITY_IAM"]
    )
    resources = {
        r["LogicalResourceId"]: r["PhysicalResourceId"]
        for r in cloudformation.list_stack_resources(StackName="policy")["StackResourceSummaries"]
    }
    arn, role = resources["Policy"], resources["Role"]
    attached = iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"]
    assert [p["PolicyArn"] for p in attached] == [arn]

    cloudformation.update_stack(
        StackName="policy",
        TemplateBody=body,
        Parameters=[{"ParameterKey": "Bucket", "ParameterValue": "second-bucket"}],
        Capabilities=["CAPABILITY_IAM"],
    )
    version = iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"]
    document = iam.get_policy_version(PolicyArn=arn, VersionId=version)["PolicyVersion"]
    assert "second-bucket" in json.dumps(document["Document"])

    cloudformation.delete_stack(StackName="policy")
    stacks = cloudformation.list_stacks()["StackSummaries"]
    assert [s["StackStatus"] for s in stacks if s["StackName"] == "policy"] == ["DELETE_COMPLETE"]
    assert arn not in [p["Arn"] for p in iam.list_policies(Scope="Local")["Policies"]]
    assert role not in [r["RoleName"] for r in iam.list_roles()["Roles"]]


# --- pure helpers --------------------------------------------------------------------------------


def test_parameters_reached_follows_refs_and_subs():
    fragment = {
        "A": {"Ref": "One"},
        "B": {"Fn::Sub": "${Two}-${Res.Arn}-${!Literal}-${AWS::Region}"},
        "C": {"Fn::Sub": ["${Local}-x", {"Local": {"Ref": "Three"}}]},
    }
    assert parameters_reached(fragment) == {"One", "Two", "Res", "AWS::Region", "Three"}


def test_a_parameter_in_a_create_only_property_is_a_replacement():
    template = {
        "Resources": {
            "Logs": {
                "Type": "AWS::Logs::LogGroup",
                "Properties": {
                    "LogGroupName": {"Fn::Sub": "/x/${Prefix}"},
                    "RetentionInDays": {"Ref": "Days"},
                },
            }
        }
    }
    create_only = create_only_properties("AWS::Logs::LogGroup", REGION)
    assert "/properties/LogGroupName" in create_only
    assert replacing_parameters(template, "Logs", create_only, {"Prefix"}) == {
        "LogGroupName": {"Prefix"}
    }
    assert replacing_parameters(template, "Logs", create_only, {"Days"}) == {}


def test_no_parameter_can_replace_a_stateful_resource_of_the_template():
    every_parameter = set(TEMPLATE["Parameters"])
    stateful = {k: r for k, r in TEMPLATE["Resources"].items() if r["Type"] in STATEFUL_TYPES}
    # Key, bucket, topic, three log groups, the dead-letter queue and the two redrive queues.
    assert len(stateful) == 9
    for logical_id, resource in stateful.items():
        create_only = create_only_properties(resource["Type"], REGION)
        assert replacing_parameters(TEMPLATE, logical_id, create_only, every_parameter) == {}


def test_function_modules_are_isolated():
    saved_path = list(sys.path)
    with function_module(FUNCTIONS_DIR / "processing") as processing:
        assert Path(processing.__file__).parent == FUNCTIONS_DIR / "processing"
        settings_of_processing = sys.modules["settings"]
    with function_module(FUNCTIONS_DIR / "reporting") as reporting:
        assert Path(reporting.__file__).parent == FUNCTIONS_DIR / "reporting"
        assert sys.modules["settings"] is not settings_of_processing
    assert "app" not in sys.modules and "settings" not in sys.modules
    assert sys.path == saved_path


def test_each_function_log_line_is_printed_once(capsys, monkeypatch):
    """The functions share the logger `compliance`; a function imported after another must not
    find the first one's handler still attached (each would print the line again)."""
    # As in a fresh `make deploy-local`: no handler left by the function tests run before.
    monkeypatch.setattr(logging.getLogger("compliance"), "handlers", [])
    for folder in ("processing", "remediation", "reporting"):
        with function_module(FUNCTIONS_DIR / folder):
            observability = sys.modules["observability"]
            observability.configure("INFO")
            observability.get_logger(folder).info(f"hello from {folder}")
    lines = capsys.readouterr().out.splitlines()
    assert [json.loads(line)["message"] for line in lines] == [
        "hello from processing",
        "hello from remediation",
        "hello from reporting",
    ]


def test_environment_is_restored_with_the_default_session():
    before, session = dict(os.environ), boto3.DEFAULT_SESSION
    with environment({"ONLY": "this"}):
        assert dict(os.environ) == {"ONLY": "this"}
        assert boto3.DEFAULT_SESSION is None
    assert dict(os.environ) == before
    assert boto3.DEFAULT_SESSION is session
