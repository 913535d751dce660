"""`parameter_defaults` sets the deploy-time defaults of the optional features' parameters too,
when the stack has them, with the same value checks CloudFormation applies at deploy time."""

from __future__ import annotations

import json

import pytest
from template_helpers import parameter_defaults

from compliance_template.errors import SettingsError
from compliance_template.generator.organization import build_member_template
from compliance_template.generator.settings import Settings
from compliance_template.generator.template import build_template

DIGEST = {"digest": ["ENCRYPTED_VOLUMES"]}
SLACK = {"SlackWorkspaceId": "T0123ABCD", "SlackChannelId": "C0123ABCD"}
TEAMS = {
    "TeamsTenantId": "0a1b2c3d-4e5f-1a2b-3c4d-0a1b2c3d4e5f",
    "TeamsTeamId": "1a1b2c3d-4e5f-1a2b-3c4d-0a1b2c3d4e5f",
    "TeamsChannelId": "19%3aabc123%40thread.tacv2",
}
# (settings besides parameter_defaults, the defaults to set)
GOOD = [
    pytest.param(DIGEST, {"DigestSchedule": "rate(30 minutes)"}, id="DigestSchedule"),
    pytest.param(DIGEST, {"DigestSchedule": "cron(0 8 * * ? *)"}, id="DigestSchedule-cron"),
    pytest.param({}, {"SecurityHubFindings": "config"}, id="SecurityHubFindings"),
    pytest.param({}, {"CreateOpsItems": "true"}, id="CreateOpsItems"),
    pytest.param({}, SLACK, id="Slack"),
    pytest.param({}, TEAMS, id="Teams"),
]


def _defaults(template) -> dict[str, str]:
    return parameter_defaults(json.loads(json.dumps(template.to_dict())))


@pytest.mark.parametrize(("extra", "defaults"), GOOD)
def test_an_optional_features_parameter_default_reaches_the_template(extra, defaults):
    settings = Settings.from_mapping({**extra, "parameter_defaults": defaults})
    assert _defaults(build_template(settings)).items() >= defaults.items()


def test_a_digest_schedule_default_reaches_the_member_template():
    settings = Settings.from_mapping(
        {**DIGEST, "parameter_defaults": {"DigestSchedule": "rate(2 hours)"}}
    )
    assert _defaults(build_member_template(settings))["DigestSchedule"] == "rate(2 hours)"


@pytest.mark.parametrize(
    ("extra", "name", "value", "allowed"),
    [
        (DIGEST, "DigestSchedule", "every hour", "an EventBridge schedule such as rate(1 hour)"),
        (DIGEST, "DigestSchedule", 60, "an EventBridge schedule"),
        ({}, "SecurityHubFindings", "on", "one of off, config, import"),
        ({}, "CreateOpsItems", True, 'written as a JSON string ("true")'),
        ({}, "CreateOpsItems", "yes", "one of false, true"),
        ({}, "SlackWorkspaceId", "t-lower", "a Slack workspace id"),
        ({}, "TeamsTenantId", "not-a-uuid", "a UUID"),
    ],
)
def test_a_bad_value_names_the_field_the_value_and_what_is_allowed(extra, name, value, allowed):
    with pytest.raises(SettingsError) as caught:
        Settings.from_mapping({**extra, "parameter_defaults": {name: value}})
    assert caught.value.field == f"parameter_defaults.{name}"
    assert allowed in str(caught.value)


def test_a_digest_schedule_without_digest_rules_says_what_it_needs():
    with pytest.raises(SettingsError) as caught:
        Settings.from_mapping({"parameter_defaults": {"DigestSchedule": "rate(1 hour)"}})
    assert caught.value.field == "parameter_defaults.DigestSchedule"
    assert "only with `digest` rules" in str(caught.value)


def test_chat_ids_are_set_together():
    with pytest.raises(SettingsError) as caught:
        Settings.from_mapping({"parameter_defaults": {"SlackWorkspaceId": "T0123ABCD"}})
    assert caught.value.field == "parameter_defaults.SlackChannelId"
