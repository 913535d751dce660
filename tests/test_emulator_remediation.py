"""The emulator's AWS Config remediation (moto has none): AWS::Config::RemediationConfiguration
deployed with its stack, and the remediation API through boto3 against the running emulator,
with AWS's checks: the rule must exist, a start needs a configuration, an exception only on a
NON_COMPLIANT resource, an expired exception is gone."""

from __future__ import annotations

import json
import time

import boto3
import pytest
from botocore.exceptions import ClientError
from moto.config.responses import ConfigResponse

from compliance_template.local.emulator import ACCOUNT_ID, Emulator
from compliance_template.local.remediation import DESCRIBE_MAX, OPERATIONS, store

REGION = "eu-west-1"
RULE = "compliance-s3-bucket-versioning-enabled"
DOCUMENT = "AWS-ConfigureS3BucketVersioning"
# A rule, a stack-owned Automation document and the rule's remediation through it.
TEMPLATE = {
    "Parameters": {"Automatic": {"Type": "String", "Default": "false"}},
    "Resources": {
        "Rule": {
            "Type": "AWS::Config::ConfigRule",
            "Properties": {
                "ConfigRuleName": RULE,
                "Source": {"Owner": "AWS", "SourceIdentifier": "S3_BUCKET_VERSIONING_ENABLED"},
            },
        },
        "Runbook": {
            "Type": "AWS::SSM::Document",
            "Properties": {
                "DocumentType": "Automation",
                "Content": {
                    "schemaVersion": "0.3",
                    "parameters": {"BucketName": {"type": "String"}},
                    "mainSteps": [
                        {
                            "name": "run",
                            "action": "aws:executeAutomation",
                            "inputs": {
                                "DocumentName": DOCUMENT,
                                "RuntimeParameters": {"BucketName": ["{{ BucketName }}"]},
                            },
                        }
                    ],
                },
            },
        },
        "Remediation": {
            "Type": "AWS::Config::RemediationConfiguration",
            "Properties": {
                "ConfigRuleName": {"Ref": "Rule"},
                "TargetType": "SSM_DOCUMENT",
                "TargetId": {"Ref": "Runbook"},
                "Automatic": {"Ref": "Automatic"},
                "MaximumAutomaticAttempts": 3,
                "RetryAttemptSeconds": 60,
                "Parameters": {"BucketName": {"ResourceValue": {"Value": "RESOURCE_ID"}}},
            },
        },
    },
}


@pytest.fixture
def running():
    with Emulator(region=REGION) as emulator:
        session = boto3.Session(
            region_name=REGION, aws_access_key_id="testing", aws_secret_access_key="testing"
        )
        emulator.client = lambda service: session.client(service, endpoint_url=emulator.endpoint)
        yield emulator


def bucket_key(name="data-bucket", capital=True):
    kind, resource = ("ResourceType", "ResourceId") if capital else ("resourceType", "resourceId")
    return {kind: "AWS::S3::Bucket", resource: name}


def test_moto_alone_answers_no_remediation_api():
    # When a moto upgrade adds them, this fails: drop ours and its docs/deploy.md entry.
    for name in OPERATIONS:
        assert not hasattr(ConfigResponse, name), name


def test_a_stack_deploys_its_remediation_and_the_api_works_on_it(running):
    cloudformation, config = running.client("cloudformation"), running.client("config")
    cloudformation.create_stack(StackName="fixes", TemplateBody=json.dumps(TEMPLATE))
    [configuration] = config.describe_remediation_configurations(ConfigRuleNames=[RULE])[
        "RemediationConfigurations"
    ]
    assert configuration["TargetType"] == "SSM_DOCUMENT" and configuration["Automatic"] is False
    assert configuration["MaximumAutomaticAttempts"] == 3
    assert configuration["Parameters"] == {
        "BucketName": {"ResourceValue": {"Value": "RESOURCE_ID"}}
    }
    assert configuration["Arn"].startswith(
        f"arn:aws:config:{REGION}:{ACCOUNT_ID}:remediation-configuration/{RULE}/"
    )
    documents = running.client("ssm").list_documents()["DocumentIdentifiers"]
    assert configuration["TargetId"] in [d["Name"] for d in documents]

    # AWS places an exception only on a resource Config evaluated NON_COMPLIANT.
    refused = config.put_remediation_exceptions(
        ConfigRuleName=RULE, ResourceKeys=[bucket_key()], Message="exempt"
    )["FailedBatches"]
    assert refused[0]["FailedItems"] == [bucket_key()]
    running.record_evaluation(RULE, "AWS::S3::Bucket", "data-bucket", "NON_COMPLIANT")
    running.record_evaluation(RULE, "AWS::S3::Bucket", "old-bucket", "NON_COMPLIANT")
    placed = config.put_remediation_exceptions(
        ConfigRuleName=RULE,
        ResourceKeys=[bucket_key(), bucket_key("old-bucket")],
        Message="exempt: EX-1",
        ExpirationTime=time.time() + 3600,
    )
    assert placed["FailedBatches"] == []
    listed = config.describe_remediation_exceptions(ConfigRuleName=RULE)["RemediationExceptions"]
    assert [e["ResourceId"] for e in listed] == ["data-bucket", "old-bucket"]
    assert listed[0]["Message"] == "exempt: EX-1"
    assert (
        config.delete_remediation_exceptions(
            ConfigRuleName=RULE, ResourceKeys=[bucket_key("old-bucket")]
        )["FailedBatches"]
        == []
    )

    config.start_remediation_execution(
        ConfigRuleName=RULE, ResourceKeys=[bucket_key(capital=False)]
    )
    states = [
        config.describe_remediation_execution_status(ConfigRuleName=RULE)[
            "RemediationExecutionStatuses"
        ][0]["State"]
        for _ in range(2)
    ]
    assert states == ["QUEUED", "SUCCEEDED"]

    cloudformation.update_stack(
        StackName="fixes",
        TemplateBody=json.dumps(TEMPLATE),
        Parameters=[{"ParameterKey": "Automatic", "ParameterValue": "true"}],
    )
    [updated] = config.describe_remediation_configurations(ConfigRuleNames=[RULE])[
        "RemediationConfigurations"
    ]
    assert updated["Automatic"] is True and updated["Arn"] == configuration["Arn"]

    cloudformation.delete_stack(StackName="fixes")
    assert (
        config.describe_remediation_configurations(ConfigRuleNames=[RULE])[
            "RemediationConfigurations"
        ]
        == []
    )


def test_what_aws_refuses(running):
    config = running.client("config")
    with pytest.raises(ClientError, match="NoSuchConfigRuleException"):
        config.put_remediation_configurations(
            RemediationConfigurations=[
                {"ConfigRuleName": RULE, "TargetType": "SSM_DOCUMENT", "TargetId": DOCUMENT}
            ]
        )
    config.put_config_rule(
        ConfigRule={
            "ConfigRuleName": RULE,
            "Source": {"Owner": "AWS", "SourceIdentifier": "S3_BUCKET_VERSIONING_ENABLED"},
        }
    )
    with pytest.raises(ClientError, match="NoSuchRemediationConfigurationException"):
        config.start_remediation_execution(
            ConfigRuleName=RULE, ResourceKeys=[bucket_key(capital=False)]
        )
    with pytest.raises(ClientError, match="NoSuchRemediationConfigurationException"):
        config.delete_remediation_configuration(ConfigRuleName=RULE)
    with pytest.raises(ClientError, match="ValidationException"):
        config.describe_remediation_configurations(ConfigRuleNames=[RULE] * (DESCRIBE_MAX + 1))


def test_an_expired_exception_is_not_listed(running):
    config = running.client("config")
    config.put_config_rule(
        ConfigRule={
            "ConfigRuleName": RULE,
            "Source": {"Owner": "AWS", "SourceIdentifier": "S3_BUCKET_VERSIONING_ENABLED"},
        }
    )
    running.record_evaluation(RULE, "AWS::S3::Bucket", "data-bucket", "NON_COMPLIANT")
    config.put_remediation_exceptions(
        ConfigRuleName=RULE, ResourceKeys=[bucket_key()], ExpirationTime=time.time() - 1
    )
    assert (
        config.describe_remediation_exceptions(ConfigRuleName=RULE)["RemediationExceptions"] == []
    )
    assert store(ACCOUNT_ID, REGION)["exceptions"] == {}
