"""Bad settings end in one clear error naming the field, the value and what is allowed."""

from __future__ import annotations

import json

import pytest

from compliance_template.errors import SettingsError
from compliance_template.generator.catalog import CATALOG, DEFAULT_RULES
from compliance_template.generator.limits import build_within_limits
from compliance_template.generator.settings import Settings
from compliance_template.generator.template import build_template


def error_for(raw: object) -> SettingsError:
    with pytest.raises(SettingsError) as caught:
        Settings.from_mapping(raw)
    return caught.value


@pytest.mark.parametrize(
    ("raw", "field", "allowed"),
    [
        ({"rules": ["DB_BACKUP_RETENTION_CHECK"]}, "rules[0]", "managed rules"),
        ({"rules": "ENCRYPTED_VOLUMES"}, "rules", "a list of rule identifiers"),
        ({"rules": []}, "rules", "at least one catalog rule"),
        ({"rules": ["ENCRYPTED_VOLUMES", "ENCRYPTED_VOLUMES"]}, "rules", "each rule at most once"),
        ({"remediate": ["S3_BUCKET_VERSIONING_ENABLED"]}, "remediate[0]", "automatic remediation"),
        (
            {"rule_parameters": {"DB_INSTANCE_BACKUP_ENABLED": {"backupRetentionPeriod": "7"}}},
            "rule_parameters.DB_INSTANCE_BACKUP_ENABLED.backupRetentionPeriod",
            "a whole number",
        ),
        (
            {"rule_parameters": {"DB_INSTANCE_BACKUP_ENABLED": {"checkReadReplicas": "yes"}}},
            "rule_parameters.DB_INSTANCE_BACKUP_ENABLED.checkReadReplicas",
            "true or false",
        ),
        (
            {"rule_parameters": {"ENCRYPTED_VOLUMES": {"kmsKeyId": "abc"}}},
            "rule_parameters.ENCRYPTED_VOLUMES.kmsKeyId",
            "ENCRYPTED_VOLUMES takes kmsId",
        ),
        (
            {"rule_parameters": {"DESIRED_INSTANCE_TYPE": {"instanceType": "t3.micro"}}},
            "rule_parameters.DESIRED_INSTANCE_TYPE.instanceType",
            "set parameter_defaults.AllowedInstanceTypes",
        ),
        (
            {"rule_parameters": {"RDS_STORAGE_ENCRYPTED": {"kmsKeyId": "k"}}},
            "rule_parameters.RDS_STORAGE_ENCRYPTED",
            "parameters only for enabled rules",
        ),
        (
            {"parameter_defaults": {"ReportRetentionDays": 0}},
            "parameter_defaults.ReportRetentionDays",
            "a whole number from 1 to 3650",
        ),
        (
            {"parameter_defaults": {"ReportRetentionDays": "thirty"}},
            "parameter_defaults.ReportRetentionDays",
            "a whole number from 1 to 3650",
        ),
        (
            {"parameter_defaults": {"LogRetentionDays": 10}},
            "parameter_defaults.LogRetentionDays",
            "one of 1, 3, 5",
        ),
        (
            {"parameter_defaults": {"NotificationEmail": "not-an-email"}},
            "parameter_defaults.NotificationEmail",
            "an e-mail address",
        ),
        (
            {
                "parameter_defaults": {
                    "AggregatorAccountId": "12345",
                    "AggregatorRegion": "eu-west-1",
                }
            },
            "parameter_defaults.AggregatorAccountId",
            "a 12-digit AWS account id",
        ),
        (
            {"parameter_defaults": {"AggregatorAccountId": "123456789012"}},
            "parameter_defaults.AggregatorRegion",
            "set together",
        ),
        (
            {"parameter_defaults": {"SlackWorkspaceId": "t0123abcd"}},
            "parameter_defaults.SlackWorkspaceId",
            "upper-case letters and digits",
        ),
        (
            {"parameter_defaults": {"SlackChannelId": "#general"}},
            "parameter_defaults.SlackChannelId",
            "a Slack channel id",
        ),
        (
            {"parameter_defaults": {"SlackWorkspaceId": "T0123ABCD"}},
            "parameter_defaults.SlackChannelId",
            "SlackWorkspaceId, SlackChannelId set together",
        ),
        (
            {"parameter_defaults": {"TeamsTenantId": "not-a-uuid"}},
            "parameter_defaults.TeamsTenantId",
            "a UUID",
        ),
        (
            {"parameter_defaults": {"TeamsTeamId": "0a1b2c3d-4e5f-1a2b-3c4d-0a1b2c3d4e5"}},
            "parameter_defaults.TeamsTeamId",
            "a UUID",
        ),
        (
            {"parameter_defaults": {"TeamsChannelId": "19:abc@thread.tacv2"}},
            "parameter_defaults.TeamsChannelId",
            "a URL-encoded Teams channel id",
        ),
        (
            {
                "parameter_defaults": {
                    "TeamsTenantId": "0a1b2c3d-4e5f-1a2b-3c4d-0a1b2c3d4e5f",
                    "TeamsChannelId": "19%3aabc%40thread.tacv2",
                }
            },
            "parameter_defaults.TeamsTeamId",
            "TeamsTenantId, TeamsTeamId, TeamsChannelId set together",
        ),
        (
            {"parameter_defaults": {"ReportSchedule": "every day"}},
            "parameter_defaults.ReportSchedule",
            "an EventBridge schedule",
        ),
        (
            {"parameter_defaults": {"PeriodicRuleFrequency": "One_Hour"}},
            "parameter_defaults.PeriodicRuleFrequency",
            "parameters are",
        ),
        (
            {"parameter_defaults": {"CreateConfigRecorder": True}},
            "parameter_defaults.CreateConfigRecorder",
            "one of false, true",
        ),
        ({"tags": {"aws:owner": "x"}}, "tags.aws:owner", "not starting with aws:"),
        # AWS reserves the prefix in any letter case, in keys and in values.
        ({"tags": {"AWS:owner": "x"}}, "tags.AWS:owner", "not starting with aws: (in any case)"),
        ({"tags": {"owner": "Aws:team"}}, "tags.owner", "not starting with aws: (in any case)"),
        (
            {"parameter_defaults": {"ExemptionTagKey": "AWS:exempt"}},
            "parameter_defaults.ExemptionTagKey",
            "not starting with aws: (in any case)",
        ),
        ({"tags": {"owner": 5}}, "tags.owner", "a string of up to 256"),
        ({"ruless": []}, "ruless", "known fields are"),
        ([], "settings", "a JSON object"),
    ],
)
def test_bad_settings_name_field_value_and_allowed(raw, field, allowed):
    error = error_for(raw)
    assert error.field == field
    assert allowed in error.allowed
    assert field in str(error) and json.dumps(error.value) in str(error)


def test_defaults_are_the_seed_rules_with_remediation_where_available():
    settings = Settings.from_mapping({})
    assert settings.rules == DEFAULT_RULES
    assert len(DEFAULT_RULES) == 4
    # Every seed rule has a remediation: AWS's runbook where it is not disruptive, else ours.
    assert set(settings.remediate) | set(settings.engines) == set(DEFAULT_RULES)
    assert "none" not in settings.engines.values()
    assert settings == Settings()


def test_values_are_converted_to_what_config_expects():
    settings = Settings.from_mapping(
        {
            "rules": ["RESTRICTED_INCOMING_TRAFFIC", "IAM_PASSWORD_POLICY"],
            "rule_parameters": {
                "RESTRICTED_INCOMING_TRAFFIC": {"blockedPort1": 3389},
                "IAM_PASSWORD_POLICY": {"RequireSymbols": True},
            },
            "parameter_defaults": {"ReportRetentionDays": 45, "PeriodicRuleFrequency": "One_Hour"},
        }
    )
    assert settings.rule_parameters["RESTRICTED_INCOMING_TRAFFIC"] == {"blockedPort1": "3389"}
    assert settings.rule_parameters["IAM_PASSWORD_POLICY"] == {"RequireSymbols": "true"}
    assert settings.parameter_defaults["ReportRetentionDays"] == "45"
    assert settings.remediate == ()


def _sample(param) -> object:
    return {"int": 1, "double": 1, "boolean": True, "csv": ["x"]}.get(param.kind.value, "x")


def test_every_catalog_rule_can_be_enabled_with_its_required_inputs():
    for rule in CATALOG:
        required = {
            p.name: _sample(p)
            for p in rule.parameters
            if p.required and p.default is None and p.deploy_parameter is None
        }
        raw = {"rules": [rule.identifier]}
        if required:
            with pytest.raises(SettingsError) as caught:
                Settings.from_mapping(raw)
            assert caught.value.field.startswith(f"rule_parameters.{rule.identifier}.")
            raw["rule_parameters"] = {rule.identifier: required}
        settings = Settings.from_mapping(raw)
        assert [c.identifier for c in settings.enabled_rules] == [rule.identifier]


def test_the_whole_catalog_is_more_than_one_stack_holds():
    """401 listed rules, each with its own alarm, pass 500 resources: the generator says so."""
    everything = {
        "rules": [rule.identifier for rule in CATALOG],
        "rule_parameters": {
            rule.identifier: {
                p.name: _sample(p)
                for p in rule.parameters
                if p.required and p.default is None and p.deploy_parameter is None
            }
            for rule in CATALOG
            if any(
                p.required and p.default is None and p.deploy_parameter is None
                for p in rule.parameters
            )
        },
    }
    settings = Settings.from_mapping(everything)
    with pytest.raises(SettingsError) as caught:
        build_within_limits(lambda: build_template(settings), "stack")
    assert "at most 500 per template" in str(caught.value)
    assert "conformance-pack" in str(caught.value)
