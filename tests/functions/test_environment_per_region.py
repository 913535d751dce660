"""Every function's configuration, as the committed templates set it, is accepted by the
function's own settings loader in every region the templates are linted for, and every rule a
region deploys is one the functions recognise by its name (through the packaged rulebook), so
no event for a deployed rule is dropped and REMEDIATE_RULES names only deployed rules."""

from __future__ import annotations

import json
from functools import cache

import changes
import findings
import pytest
from conftest import load_app
from template_helpers import (
    LINT_REGIONS,
    TEMPLATES,
    evaluate_condition,
    parameter_defaults,
    resolve,
    resources_of,
)

from compliance_template.generator.organization import build_member_template
from compliance_template.generator.settings import Settings
from compliance_template.generator.template import build_template
from compliance_template.output import render

LOADERS = {
    "ProcessingFunction": changes.load_settings,
    "ReportingFunction": lambda env: load_app("reporting").load_settings(env),
    "RemediationFunction": findings.load_settings,
}


@cache
def _template(name: str) -> dict:
    return json.loads((TEMPLATES / name).read_text(encoding="utf-8"))


WITH_FUNCTIONS = sorted(
    path.name
    for path in TEMPLATES.glob("*.json")
    if resources_of(_template(path.name), "AWS::Lambda::Function")
)


def environment(template: dict, function: str, region: str) -> dict[str, str]:
    """The function's variables as CloudFormation resolves them in `region` with the defaults."""
    variables = template["Resources"][function]["Properties"]["Environment"]["Variables"]
    parameters = parameter_defaults(template)
    return {name: str(resolve(v, template, region, parameters)) for name, v in variables.items()}


def deployed(template: dict, region: str) -> dict[str, str]:
    """{rule name with the default prefix: identifier} of the rules deployed in `region`."""
    parameters = parameter_defaults(template)
    return {
        resolve(rule["Properties"]["ConfigRuleName"], template, region, parameters): rule[
            "Properties"
        ]["Source"]["SourceIdentifier"]
        for rule in resources_of(template, "AWS::Config::ConfigRule").values()
        if "Condition" not in rule
        or evaluate_condition(template, rule["Condition"], region, parameters)
    }


def deployed_rules(template: dict, region: str) -> set[str]:
    return set(deployed(template, region).values())


def test_every_kind_with_functions_is_covered():
    """Only the conformance packs have no functions (Config runs their rules alone)."""
    without = {path.name for path in TEMPLATES.glob("*.json")} - set(WITH_FUNCTIONS)
    assert without == {
        "conformance-pack.json",
        "org-conformance-pack.json",
        "framework-cis-aws-v1.4-level1-conformance-pack.json",
    }
    assert {"compliance-monitoring.json", "org-member.json", "org-central.json"} <= set(
        WITH_FUNCTIONS
    )


@pytest.mark.parametrize("region", LINT_REGIONS)
@pytest.mark.parametrize("name", WITH_FUNCTIONS)
def test_functions_accept_their_configuration_in_every_region(name, region):
    assert_functions_accept_their_configuration(_template(name), region)


# Rules that all have region conditions: somewhere none of them is deployed.
ONLY_CONDITIONED = Settings.from_mapping(
    {
        "rules": ["ENCRYPTED_VOLUMES", "S3_BUCKET_VERSIONING_ENABLED"],
        "remediate": ["ENCRYPTED_VOLUMES"],
    }
)


@cache
def _generated(kind: str) -> dict:
    build = {"stack": build_template, "org-member": build_member_template}[kind]
    return json.loads(render(build(ONLY_CONDITIONED), "json"))


@pytest.mark.parametrize("region", ["mx-central-1", "ap-east-2", "cn-north-1", "us-gov-west-1"])
@pytest.mark.parametrize("kind", ["stack", "org-member"])
def test_functions_run_in_a_region_that_offers_none_of_the_rules(kind, region):
    template = _generated(kind)
    assert deployed_rules(template, region) == set()
    assert_functions_accept_their_configuration(template, region)
    processing = environment(template, "ProcessingFunction", region)
    assert processing["REMEDIATE_RULES"] == "[]"


def assert_functions_accept_their_configuration(template: dict, region: str) -> None:
    names = deployed(template, region)
    rules = set(names.values())
    for function in resources_of(template, "AWS::Lambda::Function"):
        config = LOADERS[function](environment(template, function, region))
        common = getattr(config, "common", config)
        for name, identifier in names.items():
            assert common.identifier_of(name) == identifier, (function, region, name)
        assert common.identifier_of("someone-else-" + next(iter(names), "x")) is None
        if function == "ProcessingFunction":
            assert config.remediate_rules <= rules, region


# Every optional feature of issue 12 switched on at deploy time.
FEATURES_ON = {
    "SecurityHubFindings": "import",
    "CreateOpsItems": "true",
    "SlackWorkspaceId": "T0123ABCD",
    "SlackChannelId": "C0123ABCD",
}
CHAT_UNAVAILABLE = ("cn-north-1", "cn-northwest-1", "us-gov-east-1", "us-gov-west-1")


@pytest.mark.parametrize("region", LINT_REGIONS)
def test_with_every_feature_on_the_functions_accept_what_each_region_gives_them(region):
    """Chat exists where AWS Chatbot does: elsewhere the functions are told there is no channel
    (a card nobody reads would only change what HTTPS subscribers receive)."""
    template = _template("compliance-monitoring-exemptions.json")
    parameters = {**parameter_defaults(template), **FEATURES_ON}
    for function in resources_of(template, "AWS::Lambda::Function"):
        variables = template["Resources"][function]["Properties"]["Environment"]["Variables"]
        env = {name: str(resolve(v, template, region, parameters)) for name, v in variables.items()}
        config = LOADERS[function](env)
        common = getattr(config, "common", config)
        assert common.chat_notifications is (region not in CHAT_UNAVAILABLE), (function, region)
        if function == "ProcessingFunction":
            assert config.security_hub_mode == "import" and config.ops_items
            assert config.stack_name


def _empty_resource_statements(template: dict, region: str) -> list[tuple[str, str]]:
    parameters = parameter_defaults(template)
    return [
        (name, statement.get("Sid", ""))
        for name, resource in resources_of(template, "AWS::IAM::ManagedPolicy").items()
        for statement in resource["Properties"]["PolicyDocument"]["Statement"]
        if resolve(statement.get("Resource"), template, region, parameters) == []
    ]


EXEMPT_CONDITIONED = Settings.from_mapping(
    {
        "rules": ["ENCRYPTED_VOLUMES", "S3_BUCKET_VERSIONING_ENABLED"],
        "exemptions": [
            {
                "id": "scratch",
                "rules": ["ENCRYPTED_VOLUMES"],
                "resources": ["vol-*"],
                "reason": "scratch volumes",
                "owner": "build-infra",
                "granted": "2026-11-01",
                "expires": "2027-03-01",
            }
        ],
    }
)


@pytest.mark.parametrize("region", ["mx-central-1", "ap-east-2", "cn-north-1", "us-gov-west-1"])
@pytest.mark.parametrize("build", [build_template, build_member_template], ids=["stack", "member"])
@pytest.mark.parametrize(
    "settings", [ONLY_CONDITIONED, EXEMPT_CONDITIONED], ids=["rules", "exempt"]
)
def test_no_policy_statement_is_left_without_resources_where_no_rule_is_deployed(
    build, settings, region
):
    """IAM refuses a statement whose Resource list is empty, and the stack would fail in that
    region: the per-rule grants (reporting's, the exemption review's) keep a resource that names
    no rule where none of their rules is deployed."""
    template = json.loads(render(build(settings), "json"))
    assert deployed_rules(template, region) == set()
    assert _empty_resource_statements(template, region) == []
    assert _empty_resource_statements(template, "us-east-1") == []
