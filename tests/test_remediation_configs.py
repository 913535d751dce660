"""The ssm engine's resources in the account and organization member stacks: remediation
configurations, automation roles, approval wrappers and topic, and processing's part."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from remediation_helpers import ENCRYPTION, EXEMPTION, PUBLIC_READ, settings
from template_helpers import evaluate_condition, resolve, resources_of
from troposphere import encode_to_dict

from compliance_template.generator import ssm_documents
from compliance_template.generator.organization import build_member_template
from compliance_template.generator.remediation_configs import (
    CONCURRENT_EXECUTION_RATE_PERCENTAGE,
    ERROR_PERCENTAGE,
    MAXIMUM_AUTOMATIC_ATTEMPTS,
    RETRY_ATTEMPT_SECONDS,
)
from compliance_template.generator.template import build_template

REGIONAL = "ACCESS_KEYS_ROTATED"  # not offered in ap-east-2
APPROVERS = ["arn:aws:iam::123456789012:role/SecurityOps", "alice"]
WITH_APPROVAL = {
    "rules": [ENCRYPTION, PUBLIC_READ, "ENCRYPTED_VOLUMES"],
    "remediation": {PUBLIC_READ: "ssm"},
    "remediation_approval": {"approvers": APPROVERS, "min_approvals": 2, "timeout_hours": 48},
}


def built(raw: dict, member: bool = False) -> dict:
    build = build_member_template if member else build_template
    return encode_to_dict(build(settings(**raw)).to_dict())


def configurations(template: dict) -> dict[str, dict]:
    return resources_of(template, "AWS::Config::RemediationConfiguration")


@pytest.fixture(params=[False, True], ids=["account", "member"])
def member(request) -> bool:
    return request.param


def test_a_non_disruptive_rule_gets_a_configuration_of_the_aws_document(member):
    template = built({"rules": [ENCRYPTION]}, member)
    ((_name, resource),) = configurations(template).items()
    properties = resource["Properties"]
    assert resource["Condition"] == "RemediationOn"
    assert properties["ConfigRuleName"] == {"Ref": "S3BucketServerSideEncryptionEnabledRule"}
    assert properties["TargetType"] == "SSM_DOCUMENT"
    assert properties["TargetId"] == "AWS-EnableS3BucketEncryption"
    assert "TargetVersion" not in properties
    assert properties["ResourceType"] == "AWS::S3::Bucket"
    assert properties["Parameters"] == {
        "AutomationAssumeRole": {
            "StaticValue": {"Values": [{"Fn::GetAtt": ["S3AutomationRole", "Arn"]}]}
        },
        "BucketName": {"ResourceValue": {"Value": "RESOURCE_ID"}},
        "SSEAlgorithm": {"StaticValue": {"Values": [{"Ref": "S3RemediationEncryption"}]}},
    }
    assert "S3RemediationEncryption" in template["Parameters"]
    assert properties["Automatic"] == {"Fn::If": ["EnforceRemediation", True, False]}
    assert properties["MaximumAutomaticAttempts"] == MAXIMUM_AUTOMATIC_ATTEMPTS
    assert properties["RetryAttemptSeconds"] == RETRY_ATTEMPT_SECONDS
    assert properties["ExecutionControls"] == {
        "SsmControls": {
            "ConcurrentExecutionRatePercentage": CONCURRENT_EXECUTION_RATE_PERCENTAGE,
            "ErrorPercentage": ERROR_PERCENTAGE,
        }
    }
    # Within the API's ranges (botocore's config model): 1..25 attempts, 1..2,678,000 s.
    assert 1 <= MAXIMUM_AUTOMATIC_ATTEMPTS <= 25 and 1 <= RETRY_ATTEMPT_SECONDS <= 2_678_000


@pytest.mark.parametrize(
    ("mode", "deployed"), [("off", False), ("dry-run", True), ("enforce", True)]
)
def test_the_mode_decides_whether_and_how_it_is_deployed(mode, deployed):
    template = built({"rules": [ENCRYPTION]})
    (resource,) = configurations(template).values()
    parameters = {"RemediationMode": mode}
    assert evaluate_condition(template, resource["Condition"], "us-east-1", parameters) is deployed
    automatic = resolve(resource["Properties"]["Automatic"], template, "us-east-1", parameters)
    assert automatic is (mode == "enforce")


def test_the_automation_role_trusts_automation_of_this_account_and_region_only(member):
    template = built({"rules": [ENCRYPTION]}, member)
    role = template["Resources"]["S3AutomationRole"]["Properties"]
    (trust,) = role["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": ["ssm.amazonaws.com"]}
    assert trust["Condition"]["StringEquals"] == {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}
    assert trust["Condition"]["ArnLike"] == {
        "aws:SourceArn": {
            "Fn::Sub": "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:"
            "automation-execution/*"
        }
    }
    assert "Policies" not in role and "ManagedPolicyArns" not in role
    policy = template["Resources"]["S3AutomationRoleManagedPolicy"]["Properties"]
    (statement,) = policy["PolicyDocument"]["Statement"]
    assert statement["Action"] == ["s3:PutEncryptionConfiguration"]
    assert statement["Resource"] == [{"Fn::Sub": "arn:${AWS::Partition}:s3:::*"}]


def test_no_policy_of_the_ssm_engine_grants_a_wildcard_action():
    template = built(WITH_APPROVAL)
    names = [n for n in resources_of(template, "AWS::IAM::ManagedPolicy") if "Automation" in n]
    names.append("ProcessingSsmRemediationManagedPolicy")
    for name in names:
        document = template["Resources"][name]["Properties"]["PolicyDocument"]
        for statement in document["Statement"]:
            for action in statement["Action"]:
                _service, verb = action.split(":", 1)
                assert verb != "*" and not verb.startswith("*"), (name, action)
                if verb.endswith("*"):
                    assert action == "kms:GenerateDataKey*", (name, action)


def test_a_disruptive_rule_runs_behind_an_approval_runbook(member):
    template = built(WITH_APPROVAL, member)
    resources = template["Resources"]
    configuration = resources["S3BucketPublicReadProhibitedRemediation"]["Properties"]
    assert configuration["TargetId"] == {"Ref": "ApprovalAWSDisableS3BucketPublicReadWrite"}
    wrapper = resources["ApprovalAWSDisableS3BucketPublicReadWrite"]["Properties"]
    assert wrapper["DocumentType"] == "Automation" and wrapper["DocumentFormat"] == "JSON"
    assert wrapper["UpdateMethod"] == "NewVersion"
    content = wrapper["Content"]
    assert content["schemaVersion"] == "0.3"
    approve, run = content["mainSteps"]
    assert approve["action"] == "aws:approve" and approve["timeoutSeconds"] == 48 * 3600
    assert approve["inputs"]["MinRequiredApprovals"] == 2
    assert approve["inputs"]["NotificationArn"] == {"Ref": "AutomationApprovalTopic"}
    assert approve["inputs"]["Approvers"] == [
        {"Fn::Sub": "arn:${AWS::Partition}:iam::123456789012:role/SecurityOps"},
        "alice",
    ]
    assert run["action"] == "aws:executeAutomation"
    assert run["inputs"]["DocumentName"] == "AWS-DisableS3BucketPublicReadWrite"
    assert run["inputs"]["RuntimeParameters"] == {
        "AutomationAssumeRole": "{{ AutomationAssumeRole }}",
        "S3BucketName": "{{ S3BucketName }}",
    }
    assert set(content["parameters"]) == {"AutomationAssumeRole", "S3BucketName"}
    topic = resources["AutomationApprovalTopic"]["Properties"]
    assert topic["TopicName"] == {"Fn::Sub": "Automation-${AWS::StackName}-approvals"}
    assert topic["KmsMasterKeyId"] == {"Fn::GetAtt": ["ComplianceKey", "Arn"]}
    subscription = resources["AutomationApprovalSubscription"]["Properties"]
    assert subscription["Protocol"] == "lambda"
    assert subscription["Endpoint"] == {"Fn::GetAtt": ["ProcessingFunction", "Arn"]}
    assert subscription["RedrivePolicy"] == {
        "deadLetterTargetArn": {
            "Fn::GetAtt": ["AutomationApprovalSubscriptionDeadLetterQueue", "Arn"]
        }
    }
    permission = resources["ProcessingApprovalPermission"]["Properties"]
    assert permission["Principal"] == "sns.amazonaws.com"
    assert permission["SourceArn"] == {"Ref": "AutomationApprovalTopic"}


def test_the_wrapper_role_may_start_the_aws_document_pass_itself_and_notify():
    template = built(WITH_APPROVAL)
    policy = template["Resources"]["S3AutomationRoleApprovalManagedPolicy"]["Properties"]
    by_sid = {s["Sid"]: s for s in policy["PolicyDocument"]["Statement"]}
    assert {
        "Fn::Sub": "arn:${AWS::Partition}:ssm:${AWS::Region}::document/"
        "AWS-DisableS3BucketPublicReadWrite"
    } in by_sid["StartWrappedRunbook"]["Resource"]
    passing = by_sid["PassThisRoleToWrappedRunbook"]
    assert passing["Resource"] == [{"Fn::GetAtt": ["S3AutomationRole", "Arn"]}]
    assert passing["Condition"] == {"StringEquals": {"iam:PassedToService": "ssm.amazonaws.com"}}
    assert by_sid["NotifyApprovers"]["Resource"] == [{"Ref": "AutomationApprovalTopic"}]
    assert by_sid["UseKeyOfApprovalTopic"]["Resource"] == [{"Fn::GetAtt": ["ComplianceKey", "Arn"]}]


def test_without_a_disruptive_rule_there_is_no_approval_machinery():
    resources = built({"rules": [ENCRYPTION]})["Resources"]
    assert not any(name.startswith(("Approval", "AutomationApproval")) for name in resources)


def test_processing_knows_the_ssm_rules_and_is_granted_exceptions_and_executions(member):
    template = built({"rules": [ENCRYPTION, "ENCRYPTED_VOLUMES"]}, member)
    variables = template["Resources"]["ProcessingFunction"]["Properties"]["Environment"][
        "Variables"
    ]
    parameters = {"RemediationMode": "enforce"}
    ssm = json.loads(resolve(variables["SSM_REMEDIATION"], template, "us-east-1", parameters))
    assert ssm == {ENCRYPTION: "config"}
    assert variables["REMEDIATION_MODE"] == {"Ref": "RemediationMode"}
    remediate = resolve(variables["REMEDIATE_RULES"], template, "us-east-1", parameters)
    assert ENCRYPTION not in str(remediate)
    policy = template["Resources"]["ProcessingSsmRemediationManagedPolicy"]["Properties"]
    by_sid = {s["Sid"]: s for s in policy["PolicyDocument"]["Statement"]}
    assert by_sid["RemediateThroughConfig"]["Action"] == [
        "config:PutRemediationExceptions",
        "config:StartRemediationExecution",
    ]
    assert by_sid["RemediateThroughConfig"]["Resource"] == ["*"]


def test_without_ssm_rules_processing_gets_an_empty_object_and_no_grant():
    template = built({"rules": ["ENCRYPTED_VOLUMES"]})
    variables = template["Resources"]["ProcessingFunction"]["Properties"]["Environment"][
        "Variables"
    ]
    assert variables["SSM_REMEDIATION"] == "{}"
    assert "ProcessingSsmRemediationManagedPolicy" not in template["Resources"]
    assert not configurations(template)


def test_a_rule_with_exemptions_is_manual_in_every_mode_and_started_by_processing():
    template = built({"rules": [ENCRYPTION], "exemptions": [EXEMPTION]})
    (resource,) = configurations(template).values()
    assert resource["Properties"]["Automatic"] is False
    variables = template["Resources"]["ProcessingFunction"]["Properties"]["Environment"][
        "Variables"
    ]
    ssm = json.loads(resolve(variables["SSM_REMEDIATION"], template, "us-east-1", {}))
    assert ssm == {ENCRYPTION: "processing"}


def _regional_facts(monkeypatch) -> None:
    """Give a rule AWS does not offer everywhere an ssm remediation of the seed's shape."""
    real = ssm_documents.load()[1]
    fake = replace(real[ENCRYPTION], identifier=REGIONAL, resource_type="AWS::IAM::User")
    monkeypatch.setattr(ssm_documents, "rule_remediations", lambda: {**real, REGIONAL: fake})


@pytest.mark.parametrize(("region", "deployed"), [("us-east-1", True), ("ap-east-2", False)])
def test_a_regional_rule_s_configuration_follows_its_region(monkeypatch, region, deployed):
    _regional_facts(monkeypatch)
    template = built({"rules": [REGIONAL]})
    (resource,) = configurations(template).values()
    name = resource["Condition"]
    for mode in ("dry-run", "enforce"):
        parameters = {"RemediationMode": mode}
        assert evaluate_condition(template, name, region, parameters) is deployed
    assert evaluate_condition(template, name, "us-east-1", {"RemediationMode": "off"}) is False
    variables = template["Resources"]["ProcessingFunction"]["Properties"]["Environment"][
        "Variables"
    ]
    ssm = json.loads(resolve(variables["SSM_REMEDIATION"], template, region, {}))
    assert ssm == ({REGIONAL: "config"} if deployed else {})


def test_the_same_settings_give_the_same_template():
    first = json.dumps(built(WITH_APPROVAL), sort_keys=True)
    assert first == json.dumps(built(WITH_APPROVAL), sort_keys=True)


def _filled_from(monkeypatch, parameter: str) -> None:
    """The encryption rule's SSEAlgorithm from another stack parameter, whatever the data says."""
    real = ssm_documents.load()[1]
    fills = dict(real[ENCRYPTION].fills)
    fills["SSEAlgorithm"] = ssm_documents.ParameterFill(
        ssm_documents.FillKind.STACK_PARAMETER, stack_parameter=parameter
    )
    fake = replace(real[ENCRYPTION], fills=fills)
    monkeypatch.setattr(ssm_documents, "rule_remediations", lambda: {**real, ENCRYPTION: fake})


def test_a_parameter_only_remediations_take_is_added_required(monkeypatch, member):
    _filled_from(monkeypatch, "SnsRemediationKmsKeyArn")
    template = built({"rules": [ENCRYPTION]}, member)
    assert "Default" not in template["Parameters"]["SnsRemediationKmsKeyArn"]
    (resource,) = configurations(template).values()
    assert resource["Properties"]["Parameters"]["SSEAlgorithm"] == {
        "StaticValue": {"Values": [{"Ref": "SnsRemediationKmsKeyArn"}]}
    }


def test_a_rule_s_deploy_parameter_serves_a_remediation_too(monkeypatch):
    from compliance_template.generator.conformance_pack import build_conformance_pack

    _filled_from(monkeypatch, "BackupRetentionMinimum")
    for raw in ({"rules": [ENCRYPTION]}, {"rules": [ENCRYPTION, "DB_INSTANCE_BACKUP_ENABLED"]}):
        template = built(raw)
        assert template["Parameters"]["BackupRetentionMinimum"]["Default"] == "7"
        pack = encode_to_dict(build_conformance_pack(settings(**raw)).to_dict())
        inputs = [
            i["ParameterName"]
            for i in pack["Resources"]["ConformancePack"]["Properties"][
                "ConformancePackInputParameters"
            ]
        ]
        assert inputs.count("BackupRetentionMinimum") == 1


@pytest.mark.parametrize(
    "region", ["ap-east-2", "ap-southeast-6", "ap-southeast-7", "mx-central-1"]
)
def test_where_cloudformation_has_no_remediation_configuration_nothing_is_deployed(member, region):
    """cfn-lint's region schemas lack AWS::Config::RemediationConfiguration there: no
    configuration, and processing is told of no ssm rule (so it starts nothing and places no
    exception), in every mode; in us-east-1 the same template deploys it."""
    template = built({"rules": [ENCRYPTION]}, member)
    (resource,) = configurations(template).values()
    variables = template["Resources"]["ProcessingFunction"]["Properties"]["Environment"]
    for mode in ("dry-run", "enforce"):
        parameters = {"RemediationMode": mode}
        assert evaluate_condition(template, resource["Condition"], region, parameters) is False
        assert (
            resolve(variables["Variables"]["SSM_REMEDIATION"], template, region, parameters) == "{}"
        )
        assert evaluate_condition(template, resource["Condition"], "us-east-1", parameters)
        here = resolve(variables["Variables"]["SSM_REMEDIATION"], template, "us-east-1", parameters)
        assert json.loads(here) == {ENCRYPTION: "config"}
