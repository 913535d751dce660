"""E9003: InputParameters that do not match the managed rule's documented parameters."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any, ClassVar

from cfnlint.rules import CloudFormationLintRule, RuleMatch
from cfnlint.template import Template

from compliance_template.cfn_rules._helpers import (
    ManagedRuleUse,
    Path,
    branches,
    is_intrinsic,
    is_unknown_text,
    managed_rule_uses,
    parse_json_text,
)
from compliance_template.generator.catalog import BY_IDENTIFIER, ManagedRule, ParamKind

_INTEGER = re.compile(r"-?\d+")


def _type_error(kind: ParamKind, value: str) -> str | None:
    if kind is ParamKind.INT and not _INTEGER.fullmatch(value):
        return f"must be an integer, got {value!r}"
    if kind is ParamKind.BOOLEAN and value.lower() not in ("true", "false"):
        return f"must be true or false, got {value!r}"
    return None


class ConfigRuleInputParameters(CloudFormationLintRule):
    id = "E9003"
    shortdesc = "Managed rule InputParameters do not match the rule's parameters"
    description = (
        "For the managed rules in the catalog: a required input parameter is missing, a "
        "parameter the rule does not take is given, or a value is not a string of the "
        "parameter's type (an integer, or true/false). Values computed by intrinsic functions "
        "are not judged."
    )
    source_url = (
        "https://docs.aws.amazon.com/config/latest/developerguide/managed-rules-by-aws-config.html"
    )
    tags: ClassVar[list[str]] = ["resources", "config"]

    def match(self, cfn: Template) -> list[RuleMatch]:
        matches: list[RuleMatch] = []
        for use in managed_rule_uses(cfn):
            rule = BY_IDENTIFIER.get(use.identifier)
            if rule is not None:
                matches.extend(self._check_use(use, rule))
        return matches

    def _check_use(self, use: ManagedRuleUse, rule: ManagedRule) -> Iterator[RuleMatch]:
        if "InputParameters" not in use.settings:
            yield from self._check_parameters(rule, {}, use.settings_path, None)
            return
        parameters_path = [*use.settings_path, "InputParameters"]
        for value, path in branches(use.settings["InputParameters"], parameters_path):
            if isinstance(value, dict) and not is_intrinsic(value):
                yield from self._check_parameters(rule, value, path, path)
                continue
            parsed = parse_json_text(value)
            if parsed is None:
                if isinstance(value, str):
                    yield RuleMatch(path, f"InputParameters of {rule.identifier} is not JSON")
                continue
            document, exact = parsed
            if isinstance(document, dict):
                # Inside a JSON string a finding can only point at the string itself.
                yield from self._check_parameters(rule, document, path, None)
            elif exact:
                yield RuleMatch(path, f"InputParameters of {rule.identifier} must be an object")

    def _check_parameters(
        self,
        rule: ManagedRule,
        given: dict[str, Any],
        path: Path,
        item_base: Path | None,
    ) -> Iterator[RuleMatch]:
        """`item_base` is where a parameter's own path starts, None when the parameters are
        inside a JSON string and every finding points at `path`.
        """
        for name, value in given.items():
            item_path = [*item_base, name] if item_base is not None else path
            parameter = rule.parameter(name)
            if parameter is None:
                accepted = ", ".join(p.name for p in rule.parameters) or "none"
                yield RuleMatch(
                    item_path,
                    f"{rule.identifier} does not take the input parameter {name!r} "
                    f"(parameters: {accepted}; see {rule.source_url})",
                )
                continue
            for alternative, alternative_path in branches(value, item_path):
                if item_base is None:
                    alternative_path = path
                if is_intrinsic(alternative) or is_unknown_text(alternative):
                    continue
                if not isinstance(alternative, str):
                    problem: str | None = (
                        f"must be a string, got {alternative!r} (quote it in YAML)"
                    )
                else:
                    problem = _type_error(parameter.kind, alternative)
                if problem:
                    yield RuleMatch(
                        alternative_path, f"{rule.identifier} input parameter {name} {problem}"
                    )
        for parameter in rule.parameters:
            if parameter.required and parameter.name not in given:
                yield RuleMatch(
                    path,
                    f"{rule.identifier} requires the input parameter {parameter.name} "
                    f"(see {rule.source_url})",
                )
