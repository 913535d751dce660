"""The organization templates: members write to the central account, inside the organization."""

from __future__ import annotations

import json
import re

import pytest
from template_helpers import TEMPLATES, pack_bodies, pack_of, resources_of, statements

from compliance_template.generator.catalog import BY_IDENTIFIER
from compliance_template.generator.conformance_pack import MAX_BODY_BYTES
from compliance_template.generator.limits import check_limits
from compliance_template.generator.organization import build_member_template
from compliance_template.generator.regions import condition_name
from compliance_template.generator.settings import Settings


def load(name: str) -> dict:
    return json.loads((TEMPLATES / name).read_text())


@pytest.fixture(scope="module")
def member() -> dict:
    return load("org-member.json")


@pytest.fixture(scope="module")
def central() -> dict:
    return load("org-central.json")


def test_member_runs_rules_and_processing_only(member):
    types = {r["Type"] for r in member["Resources"].values()}
    assert "AWS::Config::ConfigRule" in types
    assert not types & {
        "AWS::S3::Bucket",
        "AWS::SNS::Topic",
        "AWS::Config::ConfigurationRecorder",
        "AWS::Config::ConfigurationAggregator",
        "AWS::CloudWatch::Dashboard",
    }
    assert list(resources_of(member, "AWS::Lambda::Function")) == ["ProcessingFunction"]


def test_member_has_no_account_specific_values(member):
    assert not re.search(r"\b[0-9]{12}\b", json.dumps(member))
    for name in ("CentralBucketName", "CentralTopicArn", "CentralKeyArn", "ArtifactBucketPrefix"):
        assert "Default" not in member["Parameters"][name], name


def test_member_code_comes_from_the_regional_bucket(member):
    code = member["Resources"]["ProcessingFunction"]["Properties"]["Code"]
    assert code == {
        "S3Bucket": {"Fn::Sub": "${ArtifactBucketPrefix}-${AWS::Region}"},
        "S3Key": {"Ref": "ProcessingCodeKey"},
    }


def test_member_writes_to_the_central_bucket_and_topic(member):
    variables = member["Resources"]["ProcessingFunction"]["Properties"]["Environment"]["Variables"]
    assert variables["REPORTS_BUCKET"] == {"Ref": "CentralBucketName"}
    assert variables["TOPIC_ARN"] == {"Ref": "CentralTopicArn"}
    assert variables["REMEDIATION_FUNCTION"] == ""
    policy = member["Resources"]["ProcessingManagedPolicy"]["Properties"]["PolicyDocument"]
    assert statements(policy)["UseCentralKey"]["Resource"] == [{"Ref": "CentralKeyArn"}]
    assert "HandOffToRemediation" not in statements(policy)


def test_member_rules_follow_region_conditions(member):
    rules = resources_of(member, "AWS::Config::ConfigRule").values()
    assert any("Condition" in rule for rule in rules)
    for rule in rules:
        entry = BY_IDENTIFIER[rule["Properties"]["Source"]["SourceIdentifier"]]
        if entry.unavailable_regions:
            assert rule["Condition"] == condition_name(entry)
        else:
            assert "Condition" not in rule


def test_central_lets_only_the_organization_write_publish_and_use_the_key(central):
    org = {"Ref": "OrganizationId"}
    bucket = central["Resources"]["ReportsBucketPolicy"]["Properties"]["PolicyDocument"]
    record = statements(bucket)["OrganizationMembersRecordChanges"]
    assert record["Condition"] == {"StringEquals": {"aws:PrincipalOrgID": org}}
    assert record["Action"] == ["s3:GetObject", "s3:PutObject"]
    topic = central["Resources"]["NotificationTopicPolicy"]["Properties"]["PolicyDocument"]
    publish = statements(topic)["OrganizationMembersPublish"]
    assert publish["Condition"] == {"StringEquals": {"aws:PrincipalOrgID": org}}
    key = central["Resources"]["ComplianceKey"]["Properties"]["KeyPolicy"]
    use = statements(key)["OrganizationMembersUseKeyThroughStorageAndMessaging"]
    assert use["Condition"]["StringEquals"]["aws:PrincipalOrgID"] == org
    assert "kms:ViaService" in use["Condition"]["StringEquals"]


def test_central_reports_from_an_organization_aggregator(central):
    aggregator = central["Resources"]["OrganizationAggregator"]["Properties"]
    assert aggregator["OrganizationAggregationSource"]["AllAwsRegions"] is True
    role = central["Resources"]["OrganizationAggregatorRole"]["Properties"]
    policy = "arn:${AWS::Partition}:iam::aws:policy/service-role/AWSConfigRoleForOrganizations"
    assert role["ManagedPolicyArns"] == [{"Fn::Sub": policy}]
    variables = central["Resources"]["ReportingFunction"]["Properties"]["Environment"]["Variables"]
    assert variables["AGGREGATOR_NAME"] == {"Ref": "OrganizationAggregator"}
    # The central account knows the rules by their names: the members' prefix, the rulebook.
    assert variables["RULE_NAME_PREFIX"] == {"Ref": "RuleNamePrefix"}
    assert "RULES" not in variables


@pytest.mark.parametrize("name", ["conformance-pack.json", "org-conformance-pack.json"])
def test_conformance_packs_hold_every_enabled_rule(name):
    template = load(name)
    pack = pack_of(template)
    for body in pack_bodies(pack):
        assert len(body.encode()) <= MAX_BODY_BYTES
        resources = json.loads(body)["Resources"].values()
        rules = [r for r in resources if r["Type"] == "AWS::Config::ConfigRule"]
        assert sorted(r["Properties"]["Source"]["SourceIdentifier"] for r in rules) == sorted(
            Settings().rules
        )
        assert all("MaximumExecutionFrequency" not in r["Properties"] for r in rules)
    names = {p["ParameterName"] for p in pack["Properties"]["ConformancePackInputParameters"]}
    # The account pack also passes what its ssm remediations take (remediation_configs).
    remediation = {"S3AutomationRoleArn", "S3RemediationEncryption"} if "org" not in name else set()
    assert names == {"AllowedInstanceTypes", "BackupRetentionMinimum", *remediation}


def test_generator_refuses_a_template_over_a_limit(monkeypatch):
    from compliance_template.errors import SettingsError
    from compliance_template.generator import limits

    template = build_member_template(Settings())
    monkeypatch.setattr(limits, "MAX_RESOURCES", 10)
    with pytest.raises(SettingsError) as caught:
        check_limits(template, "org-member")
    assert "at most 10 per template; or use --kind conformance-pack" in str(caught.value)
    monkeypatch.setattr(limits, "MAX_RESOURCES", 500)
    monkeypatch.setattr(limits, "MAX_ENVIRONMENT_BYTES", 500)
    with pytest.raises(SettingsError, match="ProcessingFunction environment"):
        check_limits(template, "org-member")


def test_member_key_grants_only_what_the_member_uses(member):
    key = member["Resources"]["ComplianceKey"]["Properties"]["KeyPolicy"]
    assert sorted(statements(key)) == [
        "AccountAdministersKey",
        "CloudWatchLogsEncryptsLogGroups",
        "DenyGrantsNotForAwsResources",
        "EventBridgeWritesEncryptedDeadLetters",
        "FunctionsUseKeyThroughStorageAndMessaging",
    ]
