"""Settings `remediation` and `remediation_approval`, and the engine each rule gets."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from compliance_template.errors import SettingsError
from compliance_template.generator import ssm_documents
from compliance_template.generator.remediation_engines import (
    Engine,
    Starter,
    default_engine,
    plan,
    readme_table,
)
from compliance_template.generator.settings import Approval, Settings

ENCRYPTION = "S3_BUCKET_SERVER_SIDE_ENCRYPTION_ENABLED"
PUBLIC_READ = "S3_BUCKET_PUBLIC_READ_PROHIBITED"
APPROVAL = {"approvers": ["arn:aws-us-gov:iam::123456789012:role/Ops"], "timeout_hours": 48}


def settings(**raw) -> Settings:
    return Settings.from_mapping(raw, today=date(2026, 12, 2))


def error_for(**raw) -> SettingsError:
    with pytest.raises(SettingsError) as caught:
        settings(**raw)
    message = str(caught.value)
    assert "\n" not in message and json.dumps(caught.value.value) in message
    return caught.value


def test_default_engine_is_ssm_where_a_non_disruptive_document_exists_else_lambda():
    defaults = Settings()
    assert defaults.engines[ENCRYPTION] is Engine.SSM
    assert defaults.engines["ENCRYPTED_VOLUMES"] is Engine.LAMBDA
    # ssm rules are no longer handed to the remediation function.
    assert ENCRYPTION not in defaults.remediate
    assert set(defaults.remediate) == {r for r, e in defaults.engines.items() if e is Engine.LAMBDA}


def test_a_disruptive_document_is_never_the_default():
    assert ssm_documents.remediation_for(PUBLIC_READ).disruptive
    assert default_engine(PUBLIC_READ) is Engine.NONE
    assert settings(rules=[PUBLIC_READ]).engines[PUBLIC_READ] is Engine.NONE


def test_the_old_remediate_list_means_lambda_for_those_and_none_for_the_others():
    chosen = settings(rules=[ENCRYPTION, "ENCRYPTED_VOLUMES"], remediate=["ENCRYPTED_VOLUMES"])
    assert chosen.engines == {ENCRYPTION: Engine.NONE, "ENCRYPTED_VOLUMES": Engine.LAMBDA}
    assert chosen.remediate == ("ENCRYPTED_VOLUMES",)


def test_an_explicit_engine_wins():
    chosen = settings(rules=[ENCRYPTION], remediation={ENCRYPTION: "lambda"})
    assert chosen.engines[ENCRYPTION] is Engine.LAMBDA and chosen.remediate == (ENCRYPTION,)
    assert settings(rules=[ENCRYPTION], remediation={ENCRYPTION: "none"}).remediate == ()


def test_ssm_on_a_disruptive_document_with_approvers():
    chosen = settings(
        rules=[PUBLIC_READ], remediation={PUBLIC_READ: "ssm"}, remediation_approval=APPROVAL
    )
    assert chosen.remediation_approval == Approval(tuple(APPROVAL["approvers"]), 1, 48)
    (choice,) = plan(chosen)
    assert choice.approval and choice.starter is Starter.CONFIG and choice.family == "s3"


def test_exemptions_make_processing_start_the_remediation():
    exemption = {
        "id": "legacy-bucket",
        "rules": [ENCRYPTION],
        "resources": ["legacy"],
        "reason": "migrating",
        "owner": "security",
        "granted": "2026-12-01",
        "expires": "2026-12-30",
    }
    (choice,) = plan(settings(rules=[ENCRYPTION], exemptions=[exemption]))
    assert choice.starter is Starter.PROCESSING


@pytest.mark.parametrize(
    ("raw", "field", "allowed"),
    [
        ({"remediation": []}, "remediation", "an object"),
        ({"remediation": {"IAM_ROOT_ACCESS_KEY_CHECK": "ssm"}}, "remediation.IAM_ROOT_", "enabled"),
        ({"rules": [ENCRYPTION], "remediation": {ENCRYPTION: "magic"}}, "remediation.S3", "ssm"),
        (
            {"rules": ["ENCRYPTED_VOLUMES"], "remediation": {"ENCRYPTED_VOLUMES": "ssm"}},
            "remediation.ENCRYPTED_VOLUMES",
            "lambda, none",
        ),
        (
            {"rules": [PUBLIC_READ], "remediation": {PUBLIC_READ: "ssm"}},
            f"remediation.{PUBLIC_READ}",
            "remediation_approval",
        ),
        (
            {"rules": [ENCRYPTION], "remediate": [ENCRYPTION], "remediation": {ENCRYPTION: "ssm"}},
            f"remediation.{ENCRYPTION}",
            "remediate lists",
        ),
        ({"remediation_approval": []}, "remediation_approval", "an object"),
        ({"remediation_approval": {"approvers": []}}, "remediation_approval.approvers", "1 to 10"),
        (
            {"remediation_approval": {"approvers": [f"user{i}" for i in range(11)]}},
            "remediation_approval.approvers",
            "1 to 10",
        ),
        (
            {"remediation_approval": {"approvers": ["arn:aws:iam::1:role/x"]}},
            "remediation_approval.approvers[0]",
            "IAM user or role ARN",
        ),
        (
            {"remediation_approval": {"approvers": ["a b"]}},
            "remediation_approval.approvers[0]",
            "IAM user or role",
        ),
        (
            {"remediation_approval": {"approvers": ["a"], "min_approvals": 2}},
            "remediation_approval.min_approvals",
            "1..1",
        ),
        (
            {"remediation_approval": {"approvers": ["a"], "timeout_hours": 721}},
            "remediation_approval.timeout_hours",
            "1..720",
        ),
        (
            {"remediation_approval": {"approvers": ["a"], "timeout_hours": True}},
            "remediation_approval.timeout_hours",
            "whole number",
        ),
        (
            {"remediation_approval": {"approvers": ["a"], "who": 1}},
            "remediation_approval.who",
            "known fields",
        ),
    ],
)
def test_mistakes_are_one_line_naming_the_field(raw, field, allowed):
    error = error_for(**raw)
    assert error.field.startswith(field), error
    assert allowed in error.allowed, error


def test_approvers_may_be_names_or_arns_of_users_and_roles_in_any_partition():
    approvers = [
        "alice",
        "arn:aws:iam::123456789012:user/ops/alice",
        "arn:aws-cn:iam::123456789012:role/Sec",
    ]
    approval = settings(remediation_approval={"approvers": approvers, "min_approvals": 3})
    assert approval.remediation_approval == Approval(tuple(approvers), 3, 24)


def _fake_facts(monkeypatch, disruptive: bool) -> None:
    """A rule whose AWS document is of the shape under test, whatever the data file holds."""
    real = ssm_documents.rule_remediations()[ENCRYPTION]
    document = ssm_documents.SsmDocument(
        **{**real.document.__dict__, "disruptive": disruptive, "disruption": "stops it"}
    )
    fake = ssm_documents.RuleRemediation(
        "ENCRYPTED_VOLUMES", document, "AWS::EC2::Volume", real.fills
    )
    monkeypatch.setattr(
        ssm_documents,
        "rule_remediations",
        lambda: {**ssm_documents.load()[1], fake.identifier: fake},
    )


@pytest.mark.parametrize(("disruptive", "engine"), [(False, Engine.SSM), (True, Engine.LAMBDA)])
def test_a_rule_with_both_engines_prefers_ssm_unless_disruptive(monkeypatch, disruptive, engine):
    _fake_facts(monkeypatch, disruptive)
    assert default_engine("ENCRYPTED_VOLUMES") is engine


def test_readme_table_lists_every_rule_with_either_engine():
    table = readme_table()
    for identifier in ssm_documents.rule_remediations():
        document = ssm_documents.remediation_for(identifier).document
        assert f"| `{identifier}` | ssm | " in table and document.url in table
    assert "| `ENCRYPTED_VOLUMES` | lambda | yes |" in table


def test_the_readme_table_is_current():
    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    shown = readme.split("<!-- remediation-table:start -->\n", 1)[1].split("\n<!--", 1)[0]
    assert shown == readme_table(), "regenerate with remediation_engines.readme_table()"
