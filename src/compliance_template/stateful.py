"""Which resources hold data, and which of their properties cannot change in place.

Update safety (a template against its release) and the local deploy cycle (an update with changed
parameters) ask the same question: would this change replace, or fail to update, a resource whose
data would be lost? Both read the answer here.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import Any

from cfnlint.schema import PROVIDER_SCHEMA_MANAGER

from .intrinsics import referenced_names

# The resource types of our templates whose replacement loses data or breaks what refers to them
# (the key's ciphertexts, the bucket's reports, the log groups' logs, queued dead letters, the
# topic's subscriptions).
STATEFUL_TYPES = frozenset(
    {
        "AWS::S3::Bucket",
        "AWS::KMS::Key",
        "AWS::Logs::LogGroup",
        "AWS::SQS::Queue",
        "AWS::SNS::Topic",
    }
)
# Properties whose change replaces the resource or fails the update although the resource schema
# does not list them as create-only (docs/aws-facts.md): the CloudFormation reference for
# AWS::KMS::Key (a key is never replaced: the update fails) and for AWS::S3::Bucket, whose
# top-level ObjectLockEnabled says "Update requires: Replacement" (the nested
# ObjectLockConfiguration, which the templates use, updates in place; section "Object Lock").
IMMUTABLE_PROPERTIES = {
    "AWS::KMS::Key": ("KeySpec", "KeyUsage", "Origin", "MultiRegion"),
    "AWS::S3::Bucket": ("ObjectLockEnabled",),
}
# createOnlyProperties do not differ between regions for these types; one region's schemas serve.
_SCHEMA_REGION = "us-east-1"


@cache
def create_only_properties(resource_type: str) -> tuple[str, ...]:
    """Top-level properties whose change replaces the resource or fails the update: the resource
    schema's `createOnlyProperties` (as shipped with cfn-lint) plus IMMUTABLE_PROPERTIES."""
    schema = PROVIDER_SCHEMA_MANAGER.get_resource_schema(_SCHEMA_REGION, resource_type).schema
    pointers = schema.get("createOnlyProperties", [])
    names = {pointer.removeprefix("/properties/").split("/")[0] for pointer in pointers}
    return tuple(sorted(names | set(IMMUTABLE_PROPERTIES.get(resource_type, ()))))


def replacing_parameters(
    template: Mapping[str, Any], logical_id: str, changed: set[str]
) -> dict[str, set[str]]:
    """Create-only properties of a resource (whose change replaces it or fails the update) that a
    changed parameter reaches; empty when the change updates the resource in place."""
    resource = template["Resources"][logical_id]
    properties = resource.get("Properties", {})
    reached = {}
    for name in create_only_properties(resource["Type"]):
        hits = referenced_names(properties.get(name)) & changed
        if name in properties and hits:
            reached[name] = hits
    return reached
