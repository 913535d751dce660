"""The local emulator's CloudFormation fixes for what moto lacks, its environment, and the
Config compliance API it answers from results it is given."""

from __future__ import annotations

import json
import os

import boto3
import pytest
from emulator_helpers import port_open
from moto.cloudformation import parsing
from moto.kms.models import Key

from compliance_template.local import emulator as emulator_module
from compliance_template.local.emulator import ACCOUNT_ID, EMULATED_TYPES, Emulator

REGION = "eu-west-1"


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


SSM_TEMPLATE = {
    "Parameters": {"Value": {"Type": "String", "Default": "first"}},
    "Resources": {
        "Document": {
            "Type": "AWS::SSM::Parameter",
            "Properties": {"Type": "String", "Value": {"Ref": "Value"}, "Tags": {"team": "a"}},
        }
    },
    "Outputs": {"Name": {"Value": {"Ref": "Document"}}},
}


def test_an_ssm_parameter_without_a_name_is_created_tagged_and_updated_in_place(aws):
    """moto passes no name to PutParameter when `Name` is left out (CloudFormation makes one), and
    the tag map where Key/Value pairs are expected; on update it replaces the parameter."""
    cloudformation, ssm = aws("cloudformation"), aws("ssm")
    cloudformation.create_stack(StackName="settings", TemplateBody=json.dumps(SSM_TEMPLATE))

    def name() -> str:
        outputs = cloudformation.describe_stacks(StackName="settings")["Stacks"][0]["Outputs"]
        return next(o["OutputValue"] for o in outputs if o["OutputKey"] == "Name")

    first = name()
    assert ssm.get_parameter(Name=first)["Parameter"]["Value"] == "first"
    tags = ssm.list_tags_for_resource(ResourceType="Parameter", ResourceId=first)["TagList"]
    assert tags == [{"Key": "team", "Value": "a"}]
    cloudformation.update_stack(
        StackName="settings",
        TemplateBody=json.dumps(SSM_TEMPLATE),
        Parameters=[{"ParameterKey": "Value", "ParameterValue": "second"}],
    )
    assert name() == first
    assert ssm.get_parameter(Name=first)["Parameter"]["Value"] == "second"
