"""The one table of stateful types and create-only properties, shared by both replacement checks."""

from __future__ import annotations

from compliance_template.deploy import update_safety
from compliance_template.stateful import (
    STATEFUL_TYPES,
    create_only_properties,
    replacing_parameters,
)


def test_create_only_properties_come_from_the_resource_schemas():
    assert "BucketName" in create_only_properties("AWS::S3::Bucket")
    assert "LogGroupName" in create_only_properties("AWS::Logs::LogGroup")
    assert "QueueName" in create_only_properties("AWS::SQS::Queue")
    assert "TopicName" in create_only_properties("AWS::SNS::Topic")


def test_immutable_key_properties_count_although_the_schema_omits_them():
    assert {"KeySpec", "KeyUsage", "Origin", "MultiRegion"} <= set(
        create_only_properties("AWS::KMS::Key")
    )


def test_names_are_top_level_properties_not_json_pointers():
    for resource_type in STATEFUL_TYPES:
        assert all("/" not in name for name in create_only_properties(resource_type))


def test_update_safety_reads_the_shared_table():
    # The local cycle's update check (tests/e2e) imports the same names from stateful.
    assert update_safety.STATEFUL_TYPES is STATEFUL_TYPES
    assert update_safety.create_only_properties is create_only_properties


def test_the_local_cycle_finds_a_parameter_reaching_an_immutable_key_property():
    key = {"Type": "AWS::KMS::Key", "Properties": {"KeySpec": {"Ref": "Spec"}}}
    template = {"Resources": {"Key": key}}
    assert replacing_parameters(template, "Key", {"Spec"}) == {"KeySpec": {"Spec"}}
