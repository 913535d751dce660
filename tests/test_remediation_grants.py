"""The remediation role's policies are built from what the rule modules declare."""

from __future__ import annotations

import pytest
from template_helpers import ROOT
from troposphere import encode_to_dict

from compliance_template.generator import policies
from compliance_template.generator.remediation_rules import (
    DeclarationError,
    RuleGrants,
    declared_grants,
    read_grants,
)

BASICS = ("logs", "queue", "topic", "bucket", "remediation")


def as_dict(document) -> dict:
    return encode_to_dict(document)


def statements(document) -> dict[str, dict]:
    return {s["Sid"]: s for s in as_dict(document)["Statement"]}


def test_each_rule_module_declares_its_grants():
    grants = {g.identifier: g for g in declared_grants()}
    assert sorted(grants) == sorted(
        p.stem.upper() for p in (ROOT / "functions/remediation/rules").glob("[!_]*.py")
    )
    volumes = grants["ENCRYPTED_VOLUMES"]
    assert volumes.reads == {"any": ("ec2:DescribeVolumes", "ec2:GetEbsEncryptionByDefault")}
    assert volumes.writes == {
        "EnableEbsEncryptionByDefault": ("any", ("ec2:EnableEbsEncryptionByDefault",))
    }


def test_a_declared_action_reaches_the_policy_of_its_scope():
    extra = RuleGrants(
        "S3_BUCKET_VERSIONING_ENABLED",
        {"s3-bucket": ("s3:GetBucketVersioning",)},
        {"EnableBucketVersioning": ("s3-bucket", ("s3:PutBucketVersioning",))},
    )
    rules = (*declared_grants(), extra)
    read = statements(policies.remediation_read_policy(*BASICS, rules))
    assert read["ReadBucketState"]["Action"] == [
        "s3:GetBucketTagging",
        "s3:GetBucketVersioning",
        "s3:GetEncryptionConfiguration",
    ]
    write = as_dict(policies.remediation_write_policy(rules))["Statement"]
    # By scope in the scopes' order, then by identifier within a scope.
    assert [s["Sid"] for s in write] == [
        "EnableBucketEncryption",
        "EnableBucketVersioning",
        "SetBackupRetention",
        "EnableEbsEncryptionByDefault",
        "FlagInstances",
    ]
    assert write[1]["Action"] == ["s3:PutBucketVersioning"]
    assert write[1]["Resource"] == write[0]["Resource"]


def test_without_rule_modules_remediation_reads_and_writes_nothing():
    assert list(statements(policies.remediation_read_policy(*BASICS, ()))) == [
        "WriteOwnLogs",
        "ReadWriteOwnPrefix",
        "ListOwnPrefix",
        "Notify",
        "DeadLetters",
    ]
    assert as_dict(policies.remediation_write_policy(()))["Statement"] == []


def test_the_finding_tag_condition_comes_with_its_scope():
    write = statements(policies.remediation_write_policy(declared_grants()))
    assert write["FlagInstances"]["Condition"] == {
        "ForAllValues:StringEquals": {"aws:TagKeys": ["compliance:finding"]}
    }
    assert all("Condition" not in s for sid, s in write.items() if sid != "FlagInstances")


def _read_policy(bad: RuleGrants):
    return policies.remediation_read_policy(*BASICS, (bad,))


def _write_policy(bad: RuleGrants):
    return policies.remediation_write_policy((bad,))


@pytest.mark.parametrize(
    ("build", "reads", "writes", "message"),
    [
        (_read_policy, {"s3-objects": ("s3:GetObject",)}, {}, "unknown scope 's3-objects'"),
        (_write_policy, {}, {"Fix": ("everywhere", ("s3:PutObject",))}, "unknown scope"),
        (_read_policy, {"ec2-instance-finding-tag": ("ec2:DescribeTags",)}, {}, "no reads on"),
    ],
)
def test_an_undefined_scope_is_refused_with_the_rule_named(build, reads, writes, message):
    with pytest.raises(ValueError, match=f"remediation rule SOME_RULE: {message}"):
        build(RuleGrants("SOME_RULE", reads, writes))


def test_write_statement_sids_must_be_unique():
    twice = RuleGrants("OTHER_RULE", {}, {"FlagInstances": ("any", ("ec2:CreateTags",))})
    with pytest.raises(ValueError, match="Sids repeat"):
        policies.remediation_write_policy((*declared_grants(), twice))


def _module(tmp_path, name: str, text: str):
    path = tmp_path / f"{name}.py"
    path.write_text(text, encoding="utf-8")
    return path


def test_declarations_are_read_without_importing_the_module(tmp_path):
    path = _module(
        tmp_path,
        "some_rule",
        "import module_that_does_not_exist\n"
        'IDENTIFIER = "SOME_RULE"\n'
        'READS = {"any": ("ec2:DescribeVolumes",)}\n'
        'WRITES = {"Fix": ("any", ("ec2:EnableEbsEncryptionByDefault",))}\n',
    )
    assert read_grants(path) == RuleGrants(
        "SOME_RULE",
        {"any": ("ec2:DescribeVolumes",)},
        {"Fix": ("any", ("ec2:EnableEbsEncryptionByDefault",))},
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('IDENTIFIER = "SOME_RULE"\nREADS = {}\n', "no WRITES"),
        ('IDENTIFIER = "OTHER"\nREADS = {}\nWRITES = {}\n', "does not match the file name"),
        ('IDENTIFIER = "SOME_RULE"\nREADS = dict()\nWRITES = {}\n', "READS must be a literal"),
        ('IDENTIFIER = "SOME_RULE"\nREADS = ()\nWRITES = {}\n', "must be dicts"),
    ],
)
def test_a_declaration_the_generator_cannot_read_is_a_clear_error(tmp_path, text, message):
    with pytest.raises(DeclarationError, match=message):
        read_grants(_module(tmp_path, "some_rule", text))
