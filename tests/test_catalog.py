"""The catalog is internally consistent: everything derived from it can rely on these."""

from __future__ import annotations

import re

from compliance_template.catalog import (
    BY_IDENTIFIER,
    CATALOG,
    DEFAULT_RULES,
    KNOWN_INVALID_IDENTIFIERS,
    Trigger,
)

REGION = re.compile(r"^[a-z]{2}(-gov)?-[a-z]+-[0-9]$")
RESOURCE_TYPE = re.compile(r"^AWS::[A-Za-z0-9]+::[A-Za-z0-9]+$")


def test_identifiers_are_unique_and_well_formed():
    assert len(BY_IDENTIFIER) == len(CATALOG)
    for rule in CATALOG:
        assert re.fullmatch(r"[A-Z0-9_]+", rule.identifier)
        assert rule.logical_id.isalnum()
        assert rule.source_url.startswith("https://docs.aws.amazon.com/config/")


def test_known_invalid_identifiers_are_not_in_the_catalog_and_point_to_one_that_is():
    for wrong, right in KNOWN_INVALID_IDENTIFIERS.items():
        assert wrong not in BY_IDENTIFIER
        assert right in BY_IDENTIFIER


def test_seed_rules_are_the_defaults():
    assert set(DEFAULT_RULES) == {
        "DESIRED_INSTANCE_TYPE",
        "S3_BUCKET_SERVER_SIDE_ENCRYPTION_ENABLED",
        "DB_INSTANCE_BACKUP_ENABLED",
        "ENCRYPTED_VOLUMES",
    }
    assert len(CATALOG) > len(DEFAULT_RULES)


def test_change_triggered_rules_have_a_scope_and_periodic_only_rules_do_not():
    for rule in CATALOG:
        assert rule.triggers
        assert all(RESOURCE_TYPE.match(t) for t in rule.resource_types)
        if rule.deploy_trigger is Trigger.CHANGE:
            assert rule.resource_types, rule.identifier
        else:
            assert Trigger.CHANGE not in rule.triggers


def test_region_notes_are_region_codes():
    for rule in CATALOG:
        assert all(REGION.match(r) for r in rule.unavailable_regions), rule.identifier
        assert len(set(rule.unavailable_regions)) == len(rule.unavailable_regions)
        for region in rule.unavailable_regions:
            assert not rule.available_in(region)
        assert rule.available_in("us-east-1")


def test_parameters_are_unique_and_required_ones_are_deploy_parameters():
    deploy_names = []
    for rule in CATALOG:
        names = [p.name for p in rule.parameters]
        assert len(names) == len(set(names)), rule.identifier
        for param in rule.parameters:
            if param.required:
                # A required input with no deploy-time parameter would need a settings value.
                assert param.deploy_parameter is not None, (rule.identifier, param.name)
            if param.deploy_parameter is not None:
                deploy_names.append(param.deploy_parameter.logical_name)
    assert len(deploy_names) == len(set(deploy_names))


def test_seed_rule_facts():
    """The four seed rules as the AWS Config developer guide documents them."""
    expected = {
        "DESIRED_INSTANCE_TYPE": ("AWS::EC2::Instance", {"instanceType"}),
        "S3_BUCKET_SERVER_SIDE_ENCRYPTION_ENABLED": ("AWS::S3::Bucket", set()),
        "DB_INSTANCE_BACKUP_ENABLED": (
            "AWS::RDS::DBInstance",
            {"backupRetentionPeriod", "backupRetentionMinimum", "preferredBackupWindow",
             "checkReadReplicas"},
        ),
        "ENCRYPTED_VOLUMES": ("AWS::EC2::Volume", {"kmsId"}),
    }  # fmt: skip
    for identifier, (resource_type, parameters) in expected.items():
        rule = BY_IDENTIFIER[identifier]
        assert rule.resource_types == (resource_type,)
        assert rule.triggers == frozenset({Trigger.CHANGE})
        assert {p.name for p in rule.parameters} == parameters
    assert BY_IDENTIFIER["DESIRED_INSTANCE_TYPE"].parameter("instanceType").required
