"""The catalog is internally consistent: everything derived from it can rely on these."""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path

from cfnlint.helpers import REGIONS

from compliance_template.generator.catalog import (
    BY_IDENTIFIER,
    CATALOG,
    CURATED,
    DATA_FILE,
    DEFAULT_RULES,
    FACTS_REGIONS,
    FACTS_REGIONS_SOURCE,
    KNOWN_INVALID_IDENTIFIERS,
    REGIONS_SINCE_2023,
    VERIFIABLE,
    ParamKind,
    Trigger,
    has_facts_for,
)

REGION = re.compile(r"^[a-z]{2}(-gov)?-[a-z]+-[0-9]$")
# AWS::::Account is how Config names the account itself (account-level rules).
RESOURCE_TYPE = re.compile(r"^AWS::([A-Za-z0-9]+::[A-Za-z0-9]+|::Account)$")


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
        assert all(RESOURCE_TYPE.match(t) for t in rule.resource_types)
        if not rule.facts.triggers_verified and not rule.triggers:
            continue  # known only from the packs: deployed as they are, without scope or frequency
        if rule.deploy_trigger is Trigger.CHANGE:
            # Curated rules are deployed with a scope; the others' scope comes from their packs.
            assert rule.resource_types or rule.identifier not in {c.identifier for c in CURATED}, (
                rule.identifier
            )
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
    for rule in CATALOG:
        names = [p.name for p in rule.parameters]
        assert len(names) == len(set(names)), rule.identifier
    deploy_names = []
    # The curated rules deploy with no settings at all; any other rule's required input must
    # come from the settings (tests/test_settings.py) or its framework's pack.
    for rule in CURATED:
        for param in rule.parameters:
            if param.required:
                # A required input with no deploy-time parameter would need a settings value.
                assert param.deploy_parameter is not None, (rule.identifier, param.name)
            if param.deploy_parameter is not None:
                deploy_names.append(param.deploy_parameter.name)
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


# What the newest managed-rule pages (read 2026-12-01) list as unavailable, for the rules whose
# region list could be verified: `catalog.Provenance` names the page of each.
NEWEST_UNAVAILABLE = {
    "DB_INSTANCE_BACKUP_ENABLED": {"cn-north-1", "cn-northwest-1", "us-gov-east-1",
                                   "us-gov-west-1", "mx-central-1", "ap-east-2"},
    "ENCRYPTED_VOLUMES": {"cn-north-1", "cn-northwest-1", "us-gov-east-1", "us-gov-west-1",
                          "mx-central-1", "ap-east-2"},
    "S3_BUCKET_VERSIONING_ENABLED": {"cn-north-1", "cn-northwest-1", "us-gov-east-1",
                                     "us-gov-west-1", "mx-central-1", "ap-east-2",
                                     "ap-southeast-7"},
    "RDS_STORAGE_ENCRYPTED": {"cn-north-1", "cn-northwest-1", "us-gov-east-1", "us-gov-west-1",
                              "mx-central-1", "ap-east-2", "ap-southeast-7"},
}  # fmt: skip
# Regions the 2023 pages left out that the newest pages offer the verified rules in.
NOW_OFFERED = ("ap-south-2", "ap-southeast-4", "eu-south-2", "eu-central-2", "ap-southeast-3",
               "af-south-1", "ap-northeast-3", "eu-south-1")  # fmt: skip


def test_every_rule_records_where_and_when_its_facts_were_read():
    for rule in CATALOG:
        facts = rule.facts
        assert re.fullmatch(
            r"https://docs\.(aws\.amazon\.com|amazonaws\.cn)/([a-z]{2}_[a-z]{2}/)?config/latest/"
            r"developerguide/[a-z0-9-]+\.html",
            facts.url,
        ), rule.identifier
        assert facts.url.endswith(f"/{rule.docs_page}.html"), rule.identifier
        assert facts.verified <= VERIFIABLE, rule.identifier
        if facts.read_on is None:
            # Not re-read: the facts say where they come from, and claim nothing verified.
            assert facts.origin in ("developer-guide-2023", "sample-packs"), rule.identifier
            assert not facts.verified and not facts.regions_verified, rule.identifier
        else:
            assert date.fromisoformat(facts.read_on) >= date(2026, 12, 1), rule.identifier
            assert facts.regions_verified == ("regions" in facts.verified), rule.identifier
    for rule in CURATED:
        assert rule.facts.read_on is not None, rule.identifier
    assert FACTS_REGIONS_SOURCE.regions_verified


def test_region_lists_are_those_of_the_newest_pages():
    for rule in CURATED:
        if not rule.facts.regions_verified:
            continue
        assert set(rule.unavailable_regions) == NEWEST_UNAVAILABLE.get(rule.identifier, set()), (
            rule.identifier
        )
        assert all(rule.available_in(region) for region in NOW_OFFERED), rule.identifier


def test_region_facts_speak_of_regions_cfn_lint_knows():
    assert set(REGIONS) >= FACTS_REGIONS
    for rule in CATALOG:
        # A newer page may name a region newer than the facts (New Zealand): cfn-lint knows it.
        assert set(rule.unavailable_regions) <= set(REGIONS), rule.identifier
        assert set(rule.only_regions or ()) <= set(REGIONS), rule.identifier
    assert has_facts_for("eu-west-1") and has_facts_for("mx-central-1")
    # Newer than the facts (New Zealand), or not a public region at all.
    assert not has_facts_for("ap-southeast-6") and not has_facts_for("us-isob-east-1")


def test_restricted_incoming_traffic_is_change_and_periodic_with_a_port_list():
    rule = BY_IDENTIFIER["RESTRICTED_INCOMING_TRAFFIC"]
    assert rule.triggers == frozenset({Trigger.CHANGE, Trigger.PERIODIC})
    assert rule.deploy_trigger is Trigger.CHANGE
    assert rule.parameter("blockedPorts").kind is ParamKind.CSV
    assert rule.facts.url.endswith("/restricted-common-ports.html")


def test_catalog_page_lists_every_curated_rules_facts():
    page = (Path(__file__).resolve().parents[1] / "docs" / "catalog.md").read_text()
    rows = {line.split("|")[1].strip(" `"): line for line in page.splitlines() if "| `" in line}
    for rule in CURATED:
        row = rows[rule.identifier]
        assert rule.facts.url in row and rule.facts.read_on in row, rule.identifier
        assert (", ".join(rule.unavailable_regions) or "none") in row, rule.identifier
        assert ("yes" if rule.facts.regions_verified else "**no**") in row, rule.identifier


def test_curated_rules_agree_with_the_data_file():
    """The 13 curated rules carry their own facts; the data file's entries must say the same."""
    entries = json.loads(DATA_FILE.read_text(encoding="utf-8"))["rules"]
    for rule in CURATED:
        entry = entries[rule.identifier]
        assert tuple(entry["resourceTypes"]) == rule.resource_types, rule.identifier
        assert {Trigger(t) for t in entry["triggers"]} == rule.triggers, rule.identifier
        assert [p["name"] for p in entry["parameters"]] == [p.name for p in rule.parameters]
        assert set(entry.get("unavailableRegions", ())) == set(rule.unavailable_regions)


def test_unverified_regions_leave_out_the_regions_since_2023():
    for rule in CATALOG:
        if rule.facts.regions_verified or rule.only_regions is not None:
            continue
        for region in REGIONS_SINCE_2023:
            assert not rule.available_in(region), (rule.identifier, region)
