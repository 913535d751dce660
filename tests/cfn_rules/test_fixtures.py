"""Each rule fires on its bad fixture, at the expected place, and nowhere on the good ones."""

from __future__ import annotations

import pytest
from cfn_rules_harness import FIXTURES, custom_rules, findings

R = "Resources"
P = "Properties"

EXPECTED = {
    "condition_names.yaml": [
        ("W9013", ("Conditions", "Bucket")),
        ("W9013", ("Conditions", "BucketName")),
        ("W9013", ("Conditions", "CreateRecorder")),
        ("W9013", ("Conditions", "Sizes")),
    ],
    "config_singletons.yaml": [
        ("E9001", (R, "Channel")),
        ("E9001", (R, "Recorder")),
    ],
    "config_rules.json": [
        ("E9002", (R, "OrgRule", P, "OrganizationManagedRuleMetadata", "RuleIdentifier")),
        ("E9002", (R, "RetentionRule", P, "Source", "SourceIdentifier")),
        ("E9003", (R, "BackupRule", P, "InputParameters", "backupRetentionMinimum")),
        ("E9003", (R, "BackupRule", P, "InputParameters", "backupRetentionPeriod")),
        ("E9003", (R, "BackupRule", P, "InputParameters", "checkReadReplicas")),
        ("E9003", (R, "InstanceTypeRule", P, "InputParameters")),
        ("E9003", (R, "InstanceTypeRule", P, "InputParameters", "instanceTypes")),
        ("E9003", (R, "PasswordRule", P, "InputParameters")),
        ("E9004", (R, "InstanceTypeRule", P, "MaximumExecutionFrequency")),
        (
            "E9004",
            (R, "OrgPasswordRule", P, "OrganizationManagedRuleMetadata", "ResourceTypesScope"),
        ),
        ("E9004", (R, "PasswordRule", P, "Scope")),
        ("W9002", (R, "UnknownRule", P, "Source", "SourceIdentifier")),
    ],
    "kms_logs.yaml": [
        ("E9005", (R, "DefaultKeyLogGroup", P, "KmsKeyId")),
        # One for Ref returning the key id, one for the policy refusing CloudWatch Logs.
        ("E9005", (R, "IdLogGroup", P, "KmsKeyId")),
        ("E9005", (R, "IdLogGroup", P, "KmsKeyId")),
        ("E9006", (R, "Key", P, "KeyPolicy")),
    ],
    "kms_admin.json": [
        ("E9006", (R, "StringPolicyKey", P, "KeyPolicy")),
        ("E9006", (R, "UsersOnlyKey", P, "KeyPolicy")),
    ],
    "iam_partition.yaml": [
        ("E9007", (R, "ConfigRole", P, "ManagedPolicyArns", 0)),
        ("E9007", (R, "ConfigRole", P, "ManagedPolicyArns", 1)),
        ("W9007", ("Outputs", "AuditRole", "Value")),
        ("W9007", (R, "BucketPolicy", P, "PolicyDocument", "Statement", 0, "Resource", "Fn::Sub")),
        ("W9007", (R, "BucketPolicy", P, "PolicyDocument", "Statement", 1, "Principal", "AWS")),
    ],
    "dashboards.json": [
        ("E9008", (R, "JoinedOptionsFirst", P, "DashboardBody")),
        ("E9008", (R, "NotJson", P, "DashboardBody")),
        ("E9008", (R, "NumberInLine", P, "DashboardBody")),
        ("E9008", (R, "StatBeforeOptions", P, "DashboardBody")),
    ],
    "lambda_code.yaml": [
        ("E9009", (R, "MissingFolder", P, "Code", "Fn::If", 1)),
        ("E9009", (R, "MissingFolder", P, "Code", "Fn::If", 2)),
        ("E9009", (R, "NestedNotFlat", P, "Code")),
        ("E9009", (R, "TypeScriptOnly", P, "Code")),
        ("E9009", (R, "WrongModule", P, "Code")),
    ],
    "s3_encryption_deny.yaml": [
        (
            "W9012",
            (
                R,
                "BucketPolicy",
                P,
                "PolicyDocument",
                "Statement",
                0,
                "Condition",
                "StringNotEqualsIfExists",
            ),
        ),
    ],
    "remediation_configurations.yaml": [
        ("E9012", (R, "WrongTargetType", P, "TargetType")),
        ("E9012", (R, "UnknownAwsDocument", P, "TargetId")),
        ("W9014", (R, "CustomerDocument", P, "TargetId")),
        ("E9012", (R, "UnknownParameter", P, "Parameters", "KMSMasterKey")),
        ("E9012", (R, "MissingRequiredParameter", P, "Parameters")),
        ("E9012", (R, "BothValueKinds", P, "Parameters", "BucketName")),
        (
            "E9012",
            (R, "WrongResourceValue", P, "Parameters", "BucketName", "ResourceValue", "Value"),
        ),
        (
            "E9012",
            (R, "StaticValuesNotAList", P, "Parameters", "SSEAlgorithm", "StaticValue", "Values"),
        ),
        (
            "E9012",
            (
                R,
                "StaticValueNotAString",
                P,
                "Parameters",
                "SSEAlgorithm",
                "StaticValue",
                "Values",
                0,
            ),
        ),
        # Inside a JSON string a finding can only point at the string itself.
        ("E9012", (R, "JsonParametersWrongResourceValue", P, "Parameters")),
        ("E9012", (R, "AutomaticWithoutRole", P, "Parameters")),
        ("W9014", (R, "ManualWithoutRole", P, "Parameters")),
        ("E9012", (R, "AutomaticWithoutAttempts", P)),
        ("E9012", (R, "MaybeAutomaticWithoutRetrySeconds", P)),
        ("E9012", (R, "AttemptsOutOfRange", P, "MaximumAutomaticAttempts")),
        ("E9012", (R, "RetrySecondsOutOfRange", P, "RetryAttemptSeconds")),
        ("E9012", (R, "LocalDocumentMissingParameter", P, "Parameters")),
    ],
    "remediation_pack.yaml": [
        ("E9012", (R, "OrganizationPack", P, "TemplateBody")),
        ("E9012", (R, "Pack", P, "TemplateBody")),
    ],
    "sns.yaml": [
        ("E9010", (R, "QueueSubscription", P, "DeliveryPolicy")),
        # The events and the cloudwatch principal are both missing from the key policy.
        ("E9011", (R, "EncryptedTopic", P, "KmsMasterKeyId")),
        ("E9011", (R, "EncryptedTopic", P, "KmsMasterKeyId")),
        ("E9011", (R, "ManagedKeyTopic", P, "KmsMasterKeyId")),
        # A source condition on the EventBridge grant: it never matches.
        ("E9011", (R, "ConditionedTopic", P, "KmsMasterKeyId")),
    ],
}


def test_every_bad_fixture_has_expectations():
    assert {p.name for p in (FIXTURES / "bad").glob("*.*")} == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_bad_fixture_findings(name):
    assert findings(FIXTURES / "bad" / name) == sorted(EXPECTED[name])


@pytest.mark.parametrize("path", sorted((FIXTURES / "good").glob("*.*")), ids=lambda p: p.name)
def test_good_fixture_has_no_findings(path):
    assert findings(path) == []


def test_every_rule_is_exercised_by_a_bad_fixture():
    fired = {rule_id for expected in EXPECTED.values() for rule_id, _ in expected}
    # W9009 depends on today's date against cfn-lint's data: test_runtime_lifecycle covers it.
    assert set(custom_rules()) - {"E0002"} == fired | {"W9009"}
