"""The AWS-owned Systems Manager Automation documents this project deploys as AWS Config
remediations (the `ssm` engine), and which catalog rule each one remediates.

The facts live in data/remediations.json: per document, the runbook reference page it was read
from and when, what it changes, whether it is disruptive, the IAM actions it needs, its
parameters; per rule, the document and how each of its parameters is filled (the resource id
Config passes, a static value, or a stack parameter). The assume-role parameter is always filled
by the generator with the role of the document's family.

Everything that reads those facts (the generator, the shipped cfn-lint rule, the README table)
goes through this module, which refuses a data file that contradicts itself.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from pathlib import Path
from types import MappingProxyType

DATA_FILE = Path(__file__).with_name("data") / "remediations.json"
# Config passes the evaluated resource's id under this name (ResourceValue.Value).
RESOURCE_ID = "RESOURCE_ID"
# The resource type Config gives the evaluations of account-level (resource-less) rules.
ACCOUNT = "AWS::::Account"


class RemediationDataError(ValueError):
    """The data file contradicts itself or the schema; the message names the entry."""


class FillKind(StrEnum):
    RESOURCE_ID = "resourceId"
    STATIC = "static"
    STACK_PARAMETER = "stackParameter"


@dataclass(frozen=True)
class ParameterFill:
    """How one document parameter is filled in the remediation configuration."""

    kind: FillKind
    # STATIC: the values; STACK_PARAMETER: the CloudFormation parameter's name.
    values: tuple[str, ...] = ()
    stack_parameter: str = ""


@dataclass(frozen=True)
class DocumentParameter:
    name: str
    type: str
    required: bool
    default: str | None = None
    allowed: tuple[str, ...] = ()


@dataclass(frozen=True)
class SsmDocument:
    name: str
    url: str
    read_on: str
    effect: str
    disruptive: bool
    disruption: str
    family: str
    assume_role_parameter: str
    parameters: Mapping[str, DocumentParameter]
    permissions: tuple[str, ...]

    @property
    def required_parameters(self) -> tuple[str, ...]:
        """Parameters a remediation must fill (the assume role is filled by the generator)."""
        return tuple(
            name
            for name, parameter in self.parameters.items()
            if parameter.required and name != self.assume_role_parameter
        )


@dataclass(frozen=True)
class RuleRemediation:
    identifier: str
    document: SsmDocument
    resource_type: str
    fills: Mapping[str, ParameterFill]
    notes: str = ""

    @property
    def disruptive(self) -> bool:
        return self.document.disruptive

    @property
    def stack_parameters(self) -> tuple[str, ...]:
        """The CloudFormation parameters this remediation's values come from."""
        return tuple(
            fill.stack_parameter
            for fill in self.fills.values()
            if fill.kind is FillKind.STACK_PARAMETER
        )


VALUE_TYPES = frozenset({"String", "StringList", "Boolean", "Integer", "MapList", "StringMap"})


def _document(name: str, entry: dict) -> SsmDocument:
    where = f"remediations.json documents.{name}"
    try:
        parameters = {
            key: DocumentParameter(
                key,
                value["type"],
                bool(value["required"]),
                value.get("default"),
                tuple(value.get("allowed", ())),
            )
            for key, value in entry["parameters"].items()
        }
        document = SsmDocument(
            name=name,
            url=entry["url"],
            read_on=entry["readOn"],
            effect=entry["effect"],
            disruptive=bool(entry["disruptive"]),
            disruption=entry.get("disruption", ""),
            family=entry["family"],
            assume_role_parameter=entry["assumeRoleParameter"],
            parameters=MappingProxyType(parameters),
            permissions=tuple(entry["permissions"]),
        )
    except (KeyError, TypeError, AttributeError) as error:
        raise RemediationDataError(f"{where}: missing or malformed {error}") from None
    for parameter in parameters.values():
        if parameter.type not in VALUE_TYPES:
            raise RemediationDataError(
                f"{where}.parameters.{parameter.name}: type {parameter.type!r}, "
                f"allowed {', '.join(sorted(VALUE_TYPES))}"
            )
    if document.assume_role_parameter not in parameters:
        raise RemediationDataError(
            f"{where}: assumeRoleParameter {document.assume_role_parameter!r} is not a parameter"
        )
    if not document.permissions or not document.family or not document.url.startswith("https://"):
        raise RemediationDataError(f"{where}: needs permissions, a family and an https url")
    if document.disruptive and not document.disruption:
        raise RemediationDataError(f"{where}: a disruptive document says why (disruption)")
    return document


def _fill(where: str, raw: object) -> ParameterFill:
    if not isinstance(raw, dict) or len(raw) != 1:
        raise RemediationDataError(
            f"{where}: one of {{resourceId: true}}, {{static: [...]}}, {{stackParameter: name}}"
        )
    ((key, value),) = raw.items()
    if key == FillKind.RESOURCE_ID and value is True:
        return ParameterFill(FillKind.RESOURCE_ID)
    if key == FillKind.STATIC and (
        isinstance(value, list) and value and all(isinstance(v, str) for v in value)
    ):
        return ParameterFill(FillKind.STATIC, values=tuple(value))
    if key == FillKind.STACK_PARAMETER and isinstance(value, str) and value:
        return ParameterFill(FillKind.STACK_PARAMETER, stack_parameter=value)
    raise RemediationDataError(f"{where}: {key}={value!r} is not a valid fill")


def _rule(identifier: str, entry: dict, by_name: Mapping[str, SsmDocument]) -> RuleRemediation:
    where = f"remediations.json rules.{identifier}"
    document = by_name.get(entry.get("document", ""))
    if document is None:
        raise RemediationDataError(f"{where}: document {entry.get('document')!r} is not listed")
    fills = {
        name: _fill(f"{where}.parameters.{name}", raw)
        for name, raw in sorted(entry.get("parameters", {}).items())
    }
    unknown = sorted(set(fills) - set(document.parameters))
    if unknown:
        raise RemediationDataError(f"{where}: {document.name} has no parameter {unknown[0]}")
    if document.assume_role_parameter in fills:
        raise RemediationDataError(f"{where}: the assume role is filled by the generator")
    missing = [name for name in document.required_parameters if name not in fills]
    if missing:
        raise RemediationDataError(f"{where}: required parameter {missing[0]} is not filled")
    resource_type = entry.get("resourceType", "")
    if not resource_type.startswith("AWS::"):
        raise RemediationDataError(f"{where}: resourceType {resource_type!r}")
    # An account-level document acts on the account it runs in and may take no resource at all.
    resource_fills = sum(fill.kind is FillKind.RESOURCE_ID for fill in fills.values())
    if resource_fills > 1 or (resource_fills == 0 and resource_type != ACCOUNT):
        raise RemediationDataError(f"{where}: exactly one parameter takes the resource id")
    return RuleRemediation(
        identifier, document, resource_type, MappingProxyType(fills), entry.get("notes", "")
    )


def load(path: Path = DATA_FILE) -> tuple[dict[str, SsmDocument], dict[str, RuleRemediation]]:
    """The documents and the rules' remediations, checked (RemediationDataError otherwise)."""
    raw = json.loads(path.read_text(encoding="utf-8"))
    by_name = {name: _document(name, entry) for name, entry in sorted(raw["documents"].items())}
    rules = {
        identifier: _rule(identifier, entry, by_name)
        for identifier, entry in sorted(raw["rules"].items())
    }
    unused = sorted(set(by_name) - {rule.document.name for rule in rules.values()})
    if unused:
        raise RemediationDataError(f"remediations.json documents.{unused[0]}: no rule uses it")
    return by_name, rules


@cache
def documents() -> Mapping[str, SsmDocument]:
    return MappingProxyType(load()[0])


@cache
def rule_remediations() -> Mapping[str, RuleRemediation]:
    return MappingProxyType(load()[1])


def remediation_for(identifier: str) -> RuleRemediation | None:
    """The rule's AWS-owned remediation, or None where AWS owns no suitable document."""
    return rule_remediations().get(identifier)
