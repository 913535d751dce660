"""Whether an update would replace a stateful resource in AWS: moto decides nothing about
replacement, CloudFormation's resource schemas do (a changed create-only property replaces)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

# Resources that hold data or identity: replacing one loses it.
STATEFUL_TYPES = (
    "AWS::S3::Bucket",
    "AWS::KMS::Key",
    "AWS::Logs::LogGroup",
    "AWS::SQS::Queue",
    "AWS::SNS::Topic",
)


def parameters_reached(node: Any) -> set[str]:
    """Names used by Ref or ${Name} anywhere in a template fragment (pseudo parameters too)."""
    found: set[str] = set()
    if isinstance(node, dict):
        if isinstance(node.get("Ref"), str):
            found.add(node["Ref"])
        sub = node.get("Fn::Sub")
        if sub is not None:
            text = sub if isinstance(sub, str) else sub[0]
            found |= {
                name.split(".")[0]
                for name in _sub_names(text)
                if not (isinstance(sub, list) and name in sub[1])
            }
            if isinstance(sub, list):
                found |= parameters_reached(sub[1])
        for key, value in node.items():
            if key not in ("Ref", "Fn::Sub"):
                found |= parameters_reached(value)
    elif isinstance(node, list):
        for item in node:
            found |= parameters_reached(item)
    return found


def _sub_names(text: str) -> list[str]:
    names, rest = [], text
    while "${" in rest:
        rest = rest.split("${", 1)[1]
        name, _, rest = rest.partition("}")
        if not name.startswith("!"):
            names.append(name)
    return names


def replacing_parameters(
    template: Mapping[str, Any], logical_id: str, create_only: Sequence[str], changed: set[str]
) -> dict[str, set[str]]:
    """Create-only properties of a resource (whose change makes CloudFormation replace it) that
    a changed parameter reaches; empty when the change updates the resource in place."""
    properties = template["Resources"][logical_id].get("Properties", {})
    reached = {}
    for pointer in create_only:
        name = pointer.removeprefix("/properties/").split("/")[0]
        hits = parameters_reached(properties.get(name)) & changed
        if name in properties and hits:
            reached[name] = hits
    return reached


def create_only_properties(resource_type: str, region: str) -> list[str]:
    """From CloudFormation's own resource schemas, as shipped with cfn-lint."""
    from cfnlint.schema import PROVIDER_SCHEMA_MANAGER

    schema = PROVIDER_SCHEMA_MANAGER.get_resource_schema(region, resource_type).schema
    return list(schema.get("createOnlyProperties", []))
