"""E9012: an AWS::Config::RemediationConfiguration that AWS Config refuses or cannot run.

The analysis here serves two rules: E9012 reports its errors, W9014
(remediation_configuration_review.py) its warnings, the things only the document's owner can
judge. It checks the stack's own remediations and those inside a conformance pack's
TemplateBody. What it knows of AWS-owned documents comes from generator/ssm_documents.py only.

AWS facts (read 2026-12-02):
- TargetType takes only SSM_DOCUMENT; ResourceValue.Value only RESOURCE_ID; StaticValue.Values
  is a list of strings; each parameter value is "either a dynamic (resource) value or a static
  value": the Config API model (botocore config 2014-11-12: RemediationTargetType,
  ResourceValueType, StaticParameterValues, RemediationParameterValue), documented at
  https://docs.aws.amazon.com/config/latest/APIReference/API_RemediationConfiguration.html
- "for automatic remediation configuration, the only valid assumeRole field value is
  AutomationAssumeRole and you need to provide a value for AutomationAssumeRole":
  https://docs.aws.amazon.com/config/latest/APIReference/API_PutRemediationConfigurations.html
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from typing import Any, ClassVar, NamedTuple

from cfnlint.rules import CloudFormationLintRule, RuleMatch
from cfnlint.template import Template

from compliance_template.cfn_rules._helpers import (
    Path,
    branches,
    getatt_target,
    is_intrinsic,
    is_unknown_text,
    items,
    pack_bodies,
    parse_json_text,
    parse_text_document,
    present,
    ref_target,
    sub_reference,
)
from compliance_template.generator import ssm_documents

TARGET_TYPE = "SSM_DOCUMENT"
ASSUME_ROLE = "AutomationAssumeRole"
VALUE_KINDS = ("ResourceValue", "StaticValue")
# Names AWS gives its own documents: one we do not know is a typo or a runbook AWS retired.
AWS_OWNED_PREFIXES = ("AWS-", "AWSConfigRemediation-", "AWSSupport-")
# cfn-lint's bundled schema for AWS::Config::RemediationConfiguration (cfn-lint 1.58, read
# 2026-12-02) types both as plain integers without bounds; the bounds are those of the Config
# API model (shapes AutoRemediationAttempts and AutoRemediationAttemptSeconds, see the
# RemediationConfiguration API reference above).
RETRY_RANGES: Mapping[str, tuple[int, int]] = {
    "MaximumAutomaticAttempts": (1, 25),
    "RetryAttemptSeconds": (1, 2_678_000),
}
_INTEGER = re.compile(r"-?\d+")
_SSM_PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z0-9_.]+)\s*\}\}")


class Finding(NamedTuple):
    warning: bool
    path: Path
    message: str


class Document(NamedTuple):
    """A remediation's target as far as it is known. `parameters` maps each parameter to
    whether a remediation must fill it (the assume role is checked on its own) and is None when
    the document's parameters are computed; `assume_role` is whether it takes one.
    """

    name: str
    parameters: Mapping[str, bool] | None
    assume_role: bool


def _aws_document(document: ssm_documents.SsmDocument) -> Document:
    required = set(document.required_parameters)
    return Document(document.name, {name: name in required for name in document.parameters}, True)


def _local_document(name: str, resource: dict[str, Any]) -> Document:
    """A document of the same template: its Content's parameters, required where they have no
    default (SSM asks for a value only then)."""
    props = resource.get("Properties")
    content = props.get("Content") if isinstance(props, dict) else None
    if isinstance(content, str):
        content = parse_text_document(content)
    spec = content.get("parameters") if isinstance(content, dict) else None
    if not isinstance(spec, dict) or is_intrinsic(spec) or is_intrinsic(content):
        return Document(name, None, False)
    role = ASSUME_ROLE
    assume_role = content.get("assumeRole")
    if isinstance(assume_role, str) and (found := _SSM_PLACEHOLDER.fullmatch(assume_role)):
        role = found.group(1)
    parameters = {
        key: isinstance(entry, dict)
        and not is_intrinsic(entry)
        and "default" not in entry
        and key != role
        for key, entry in spec.items()
    }
    return Document(name, parameters, role in spec)


class _Checker:
    """The findings for one template: the stack's own, or a conformance pack's body, where `at`
    maps every finding to the TemplateBody and `label` names the pack.
    """

    def __init__(
        self,
        template: dict[str, Any],
        at: Callable[[Path], Path] = lambda path: path,
        label: str = "",
    ) -> None:
        resources = template.get("Resources")
        self.resources: dict[str, Any] = resources if isinstance(resources, dict) else {}
        self.at = at
        self.label = label

    def findings(self) -> Iterator[Finding]:
        for name, resource in self.resources.items():
            if not isinstance(resource, dict):
                continue
            if resource.get("Type") != "AWS::Config::RemediationConfiguration":
                continue
            props = resource.get("Properties")
            if isinstance(props, dict) and not is_intrinsic(props):
                yield from self._remediation(
                    name + self.label, props, ["Resources", name, "Properties"]
                )

    def _error(self, path: Path, message: str) -> Finding:
        return Finding(False, self.at(path), message)

    def _warning(self, path: Path, message: str) -> Finding:
        return Finding(True, self.at(path), message)

    def _remediation(self, where: str, props: dict[str, Any], base: Path) -> Iterator[Finding]:
        for value, path in branches(props.get("TargetType"), [*base, "TargetType"]):
            if isinstance(value, str) and value != TARGET_TYPE:
                yield self._error(
                    path,
                    f"{where}: TargetType {value!r} is not a target AWS Config runs; "
                    f"allowed: {TARGET_TYPE}",
                )
        automatic = _automatic(props.get("Automatic"))
        targets = list(branches(props.get("TargetId"), [*base, "TargetId"]))
        documents: list[Document] = []
        for value, path in targets:
            document, finding = self._target(where, value, path)
            if finding:
                yield finding
            if document:
                documents.append(document)
        parameters_path = [*base, "Parameters"] if "Parameters" in props else base
        for given, item_at in self._parameters(props, base):
            yield from self._values(where, given, item_at)
            for document in documents:
                yield from self._against(where, document, given, parameters_path, item_at)
                yield from self._role(where, document, given, automatic, parameters_path)
        if automatic:
            yield from self._retries(where, props, base)
        for key, (low, high) in RETRY_RANGES.items():
            for value, path in branches(props.get(key), [*base, key]):
                number = _integer(value)
                if number is not None and not low <= number <= high:
                    yield self._error(path, f"{where}: {key} is {value!r}; allowed {low}..{high}")

    def _target(self, where: str, value: Any, path: Path) -> tuple[Document | None, Finding | None]:
        known = ssm_documents.documents()
        if isinstance(value, str):
            if value in known:
                return _aws_document(known[value]), None
            local = self._local_by_name(value)
            if local:
                return local, None
            if value.startswith(AWS_OWNED_PREFIXES):
                return None, self._error(
                    path,
                    f"{where}: TargetId {value!r} is an unknown document: it looks AWS-owned but "
                    "is not one this project has checked (allowed: an AWS-owned document listed "
                    "in remediations.json, or an AWS::SSM::Document of this template)",
                )
            return None, self._warning(
                path,
                f"{where}: TargetId {value!r} is neither an AWS-owned document this project "
                "knows nor one of this template, so its parameters and role cannot be checked: "
                "verify them against the document",
            )
        getatt = getatt_target(value)
        logical_id = getatt[0] if getatt else ref_target(value) or sub_reference(value)
        resource = self.resources.get(logical_id) if isinstance(logical_id, str) else None
        if isinstance(resource, dict) and resource.get("Type") == "AWS::SSM::Document":
            return _local_document(logical_id, resource), None
        return None, None

    def _local_by_name(self, name: str) -> Document | None:
        for logical_id, resource in self.resources.items():
            if not isinstance(resource, dict) or resource.get("Type") != "AWS::SSM::Document":
                continue
            props = resource.get("Properties")
            if isinstance(props, dict) and props.get("Name") == name:
                return _local_document(logical_id, resource)
        return None

    def _parameters(
        self, props: dict[str, Any], base: Path
    ) -> Iterator[tuple[dict[str, Any], Callable[[str, Path], Path]]]:
        """Each alternative of Parameters as an object, with the path of a finding about one of
        its parameters (name, path below it). A JSON string's findings point at the string.
        """
        if "Parameters" not in props:
            yield {}, lambda name, rest: base
            return
        for value, path in branches(props["Parameters"], [*base, "Parameters"]):
            if isinstance(value, dict) and not is_intrinsic(value):
                yield value, lambda name, rest, path=path: [*path, name, *rest]
                continue
            parsed = parse_json_text(value)
            if parsed and isinstance(parsed[0], dict):
                yield parsed[0], lambda name, rest, path=path: path

    def _values(
        self, where: str, given: dict[str, Any], item_at: Callable[[str, Path], Path]
    ) -> Iterator[Finding]:
        for name, raw in given.items():

            def report(path: Path, problem: str, name: str = name) -> Finding:
                return self._error(item_at(name, path), f"{where}: Parameters.{name}{problem}")

            for value, value_path in branches(raw, []):
                if is_intrinsic(value) or is_unknown_text(value):
                    continue
                kinds = sorted(value) if isinstance(value, dict) else []
                if kinds == ["ResourceValue"]:
                    yield from _resource_value(value["ResourceValue"], value_path, report)
                elif kinds == ["StaticValue"]:
                    yield from _static_value(value["StaticValue"], value_path, report)
                else:
                    shown = (
                        f" has {', '.join(kinds) or 'no value'}"
                        if isinstance(value, dict)
                        else f" is {value!r}"
                    )
                    yield report(
                        value_path, f"{shown}; it takes exactly one of ResourceValue or StaticValue"
                    )

    def _against(
        self,
        where: str,
        document: Document,
        given: dict[str, Any],
        path: Path,
        item_at: Callable[[str, Path], Path],
    ) -> Iterator[Finding]:
        if document.parameters is None:
            return
        accepted = ", ".join(sorted(document.parameters)) or "none"
        for name in given:
            if name not in document.parameters:
                yield self._error(
                    item_at(name, []),
                    f"{where}: Parameters.{name} is not a parameter of {document.name} "
                    f"(allowed: {accepted})",
                )
        for name, required in sorted(document.parameters.items()):
            if required and name not in given:
                yield self._error(
                    path,
                    f"{where}: Parameters lacks {name}, a required parameter of "
                    f"{document.name} (it has no default); fill it with a ResourceValue or a "
                    "StaticValue",
                )

    def _role(
        self,
        where: str,
        document: Document,
        given: dict[str, Any],
        automatic: bool | None,
        path: Path,
    ) -> Iterator[Finding]:
        if not document.assume_role or ASSUME_ROLE in given or automatic is None:
            return
        if automatic:
            yield self._error(
                path,
                f"{where}: Automatic is true (or may be) but Parameters has no {ASSUME_ROLE} for "
                f"{document.name}; automatic remediation needs it (a StaticValue with the "
                "automation role's ARN)",
            )
        else:
            yield self._warning(
                path,
                f"{where}: manual remediation with {document.name} has no Parameters."
                f"{ASSUME_ROLE}, so it runs with the permissions of whoever starts it; pass the "
                "automation role",
            )

    def _retries(self, where: str, props: dict[str, Any], base: Path) -> Iterator[Finding]:
        for key, (low, high) in RETRY_RANGES.items():
            if not any(present(props, key, base)):
                yield self._error(
                    base,
                    f"{where}: Automatic is true (or may be) but {key} is not set; set it to "
                    f"{low}..{high}",
                )


Report = Callable[[Path, str], Finding]


def _resource_value(value: Any, path: Path, report: Report) -> Iterator[Finding]:
    for resource_value, value_path in branches(value, [*path, "ResourceValue"]):
        if is_intrinsic(resource_value):
            continue
        if isinstance(resource_value, dict):
            choices = branches(resource_value.get("Value"), [*value_path, "Value"])
        else:
            choices = iter([(resource_value, value_path)])
        for chosen, chosen_path in choices:
            if is_intrinsic(chosen) or is_unknown_text(chosen):
                continue
            if chosen != ssm_documents.RESOURCE_ID:
                yield report(
                    chosen_path,
                    f".ResourceValue.Value is {chosen!r}; the only value AWS Config passes is "
                    f"{ssm_documents.RESOURCE_ID}",
                )


def _static_value(value: Any, path: Path, report: Report) -> Iterator[Finding]:
    for static, static_path in branches(value, [*path, "StaticValue"]):
        if is_intrinsic(static):
            continue
        values = static.get("Values") if isinstance(static, dict) else static
        values_path = [*static_path, "Values"] if isinstance(static, dict) else static_path
        for listed, listed_path in branches(values, values_path):
            if is_intrinsic(listed):
                # A list-valued parameter or Fn::Split: a list at deploy time.
                continue
            if not isinstance(listed, list):
                yield report(
                    listed_path, f".StaticValue.Values is {listed!r}; it must be a list of strings"
                )
                continue
            for element, element_path in items(listed, listed_path):
                if not isinstance(element, str) and not is_intrinsic(element):
                    yield report(
                        element_path,
                        f".StaticValue.Values has {element!r}, not a string; each value must be "
                        "a string (quote it in YAML) or an intrinsic function that gives one",
                    )


def _automatic(value: Any) -> bool | None:
    """True when some alternative of Automatic is true, False when all are false or it is
    absent (manual is the default), None when a deploy-time value decides."""
    verdicts: list[bool | None] = []
    for alternative, _ in branches(value, []):
        if isinstance(alternative, bool):
            verdicts.append(alternative)
        elif isinstance(alternative, str) and alternative.lower() in ("true", "false"):
            verdicts.append(alternative.lower() == "true")
        else:
            verdicts.append(None)
    if True in verdicts:
        return True
    return None if None in verdicts else False


def _integer(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and _INTEGER.fullmatch(value):
        return int(value)
    return None


def remediation_findings(cfn: Template) -> Iterator[Finding]:
    """Every finding about the template's remediation configurations and its packs' ones."""
    yield from _Checker(cfn.template).findings()
    for pack, body, body_path in pack_bodies(cfn):
        yield from _Checker(
            body, lambda path, at=body_path: at, f" (in {pack}'s TemplateBody)"
        ).findings()


class RemediationConfiguration(CloudFormationLintRule):
    id = "E9012"
    shortdesc = "Remediation configuration AWS Config refuses or cannot run"
    description = (
        "An AWS::Config::RemediationConfiguration (also inside a conformance pack's "
        "TemplateBody): TargetType is not SSM_DOCUMENT; TargetId looks AWS-owned but is not a "
        "document this project knows; a parameter the document does not take, or a required "
        "one missing; a value that is not exactly one of ResourceValue (RESOURCE_ID) or "
        "StaticValue (a list of strings); automatic remediation without AutomationAssumeRole, "
        "MaximumAutomaticAttempts or RetryAttemptSeconds; retry settings out of range."
    )
    source_url = (
        "https://docs.aws.amazon.com/config/latest/APIReference/API_RemediationConfiguration.html"
    )
    tags: ClassVar[list[str]] = ["resources", "config", "remediation"]

    def match(self, cfn: Template) -> list[RuleMatch]:
        return [
            RuleMatch(finding.path, finding.message)
            for finding in remediation_findings(cfn)
            if not finding.warning
        ]
