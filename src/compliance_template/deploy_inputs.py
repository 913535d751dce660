"""What a deploy is about to do: the template's rules and the parameter values it will use.

Shared by preflight and the deploy tooling. The parameter file has the format that
`aws cloudformation deploy --parameter-overrides file://FILE` reads:
`{"Parameters": {"Name": "value", ...}}`. Values are checked against the template's own
constraints, so a typo fails here, before any AWS call.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from .catalog import BY_IDENTIFIER, ManagedRule
from .errors import SettingsError


@dataclass(frozen=True)
class DeployInputs:
    template: dict
    parameters: dict[str, str]

    @property
    def rules(self) -> tuple[ManagedRule, ...]:
        """Catalog entries of the Config rules in the template, in template order."""
        found = []
        for resource in self.template.get("Resources", {}).values():
            if resource.get("Type") == "AWS::Config::ConfigRule":
                identifier = resource["Properties"]["Source"]["SourceIdentifier"]
                found.append(BY_IDENTIFIER[identifier])
        return tuple(found)

    def rule_name(self, rule: ManagedRule) -> str:
        return f"{self.parameters['RuleNamePrefix']}-{rule.slug}"

    def flag(self, name: str) -> bool:
        return self.parameters.get(name) == "true"


def load_inputs(template_path: Path, parameters_path: Path | None) -> DeployInputs:
    template = _read_json(template_path, "--template")
    if not isinstance(template, dict) or "Resources" not in template:
        raise SettingsError("--template", str(template_path), "a CloudFormation template (JSON)")
    declared = template.get("Parameters", {})
    values = {name: str(spec.get("Default", "")) for name, spec in declared.items()}
    if parameters_path is not None:
        raw = _read_json(parameters_path, "--parameters")
        overrides = raw.get("Parameters") if isinstance(raw, dict) else None
        if not isinstance(overrides, dict):
            raise SettingsError(
                "--parameters", str(parameters_path), 'a JSON object {"Parameters": {...}}'
            )
        for name, value in overrides.items():
            field = f"Parameters.{name}"
            if name not in declared:
                raise SettingsError(field, value, "parameters are " + ", ".join(sorted(declared)))
            values[name] = _check(declared[name], value, field)
    for identifier in _identifiers(template):
        if identifier not in BY_IDENTIFIER:
            raise SettingsError(
                "--template", identifier, "rules from this project's catalog (generate.py)"
            )
    return DeployInputs(template, values)


def _identifiers(template: dict) -> list[str]:
    return [
        r["Properties"]["Source"]["SourceIdentifier"]
        for r in template["Resources"].values()
        if r.get("Type") == "AWS::Config::ConfigRule"
    ]


def _read_json(path: Path, field: str) -> object:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise SettingsError(field, str(path), f"a readable file ({error.strerror})") from None
    except json.JSONDecodeError as error:
        raise SettingsError(field, str(path), f"valid JSON (line {error.lineno})") from None


def _check(spec: dict, value: object, field: str) -> str:
    """The same constraints CloudFormation applies to the parameter."""
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise SettingsError(field, value, "a string or a number")
    text = str(value)
    allowed = spec.get("ConstraintDescription")
    if "AllowedValues" in spec and text not in spec["AllowedValues"]:
        raise SettingsError(field, value, allowed or "one of " + ", ".join(spec["AllowedValues"]))
    if "AllowedPattern" in spec and not re.fullmatch(spec["AllowedPattern"], text):
        raise SettingsError(field, value, allowed or f"a value matching {spec['AllowedPattern']}")
    if "MaxLength" in spec and len(text) > int(spec["MaxLength"]):
        raise SettingsError(field, value, allowed or f"at most {spec['MaxLength']} characters")
    if spec.get("Type") == "Number":
        if not re.fullmatch(r"-?[0-9]+", text):
            raise SettingsError(field, value, "a whole number")
        low, high = spec.get("MinValue"), spec.get("MaxValue")
        if (low is not None and int(text) < low) or (high is not None and int(text) > high):
            raise SettingsError(field, value, f"a whole number from {low} to {high}")
    return text
