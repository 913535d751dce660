"""What a deploy is about to do: the template's rules and the parameter values it will use.

Shared by preflight and the deploy tooling. The parameter file has the format that
`aws cloudformation deploy --parameter-overrides file://FILE` reads:
`{"Parameters": {"Name": "value", ...}}`. Values are checked against the template's own
constraints, so a typo fails here, before any AWS call.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from ..errors import SettingsError
from ..generator.catalog import BY_IDENTIFIER, ManagedRule
from ..generator.parameters import REGION_PATTERN, check_value
from ..intrinsics import Evaluator, NotEvaluable
from ..json_files import TEMPLATE_MAX_DEPTH, read_json_file
from ..parameter_spec import ParameterSpec
from .invocation import check_regions, option


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

    @property
    def rule_names(self) -> tuple[str, ...]:
        """The Config rule names the template creates (<prefix>-<suffix>, as its ConfigRuleName
        says: a framework's manual controls and repeated rules have suffixes of their own)."""
        prefix = self.parameters["RuleNamePrefix"]
        names = []
        for resource in self.template.get("Resources", {}).values():
            if resource.get("Type") == "AWS::Config::ConfigRule":
                name = resource["Properties"]["ConfigRuleName"]
                text = name.get("Fn::Sub", "") if isinstance(name, dict) else str(name)
                names.append(text.replace("${RuleNamePrefix}", prefix))
        return tuple(names)

    def flag(self, name: str) -> bool:
        return self.parameters.get(name) == "true"


def load_inputs(
    template_path: Path,
    parameters_path: Path | None,
    provided: Mapping[str, tuple[str, str]] | None = None,
) -> DeployInputs:
    """The template and the values of all its parameters, checked as CloudFormation would.

    `provided` holds values the tool sets itself, by parameter name: (value, how the user gives
    it, e.g. `--artifact-bucket-prefix`); they are checked like the file's. A parameter without
    a Default is required, and the template's Rules section (e.g. AggregatorAccountId and
    AggregatorRegion set together) is evaluated, so nothing is hard-coded per template.
    """
    template = read_json_file(template_path, option("--template"), TEMPLATE_MAX_DEPTH)
    if not isinstance(template, dict) or not isinstance(template.get("Resources"), dict):
        raise SettingsError(
            option("--template"), str(template_path), "a CloudFormation template (JSON)"
        )
    declared = template.get("Parameters", {})
    specs = {name: ParameterSpec.from_template(name, spec) for name, spec in declared.items()}
    given = {name: (value, f"Parameters.{name}") for name, value in _overrides(parameters_path)}
    given.update(provided or {})
    values = {name: spec.default for name, spec in specs.items() if spec.default is not None}
    for name, (value, field) in given.items():
        if name not in specs:
            raise SettingsError(field, value, "parameters are " + ", ".join(sorted(specs)))
        values[name] = check_value(specs[name], value, field)
    # A region parameter's pattern admits any region-shaped code (eu-wst-1), given or default;
    # an authorization for a region that does not exist can never be used, so like REGION= it
    # must be a region code cfn-lint knows.
    for name, value in values.items():
        if specs[name].allowed_pattern == REGION_PATTERN and value:
            check_regions([value], given.get(name, ("", f"Parameters.{name}"))[1])
    missing = [name for name in specs if name not in values]
    if missing:
        raise SettingsError(
            ", ".join(f"Parameters.{name}" for name in missing),
            "",
            f"a value in the {option('--parameters')} file (the template has no default)",
        )
    check_rules(template.get("Rules", {}), values)
    for identifier in _identifiers(template):
        if identifier not in BY_IDENTIFIER:
            raise SettingsError(
                option("--template"), identifier, "rules from this project's catalog (generate.py)"
            )
    return DeployInputs(template, values)


def check_rules(rules: object, values: Mapping[str, str]) -> None:
    """Evaluate the template's Rules like CloudFormation: a false assertion is an error naming
    the parameters it tests. An assertion using a function we do not evaluate is left to
    CloudFormation."""
    if not isinstance(rules, dict):
        return
    evaluator = Evaluator(parameters=values)
    for rule in rules.values():
        try:
            if "RuleCondition" in rule and not _holds(evaluator, rule["RuleCondition"]):
                continue
            for assertion in rule["Assertions"]:
                if not _holds(evaluator, assertion["Assert"]):
                    names = sorted(set(_refs(assertion["Assert"])))
                    raise SettingsError(
                        ", ".join(f"Parameters.{n}" for n in names),
                        {n: values.get(n, "") for n in names},
                        assertion.get("AssertDescription", "values the template's Rules accept"),
                    )
        except (NotEvaluable, KeyError, TypeError):  # malformed: CloudFormation will say
            continue


def _holds(evaluator: Evaluator, expression: object) -> bool:
    result = evaluator.evaluate(expression)
    if not isinstance(result, bool):
        raise NotEvaluable(f"a rule condition or assertion must be true or false: {result!r}")
    return result


def _refs(expression: object) -> list[str]:
    if isinstance(expression, dict):
        found = [expression["Ref"]] if isinstance(expression.get("Ref"), str) else []
        return found + [name for value in expression.values() for name in _refs(value)]
    if isinstance(expression, list):
        return [name for item in expression for name in _refs(item)]
    return []


def _overrides(parameters_path: Path | None) -> list[tuple[str, object]]:
    if parameters_path is None:
        return []
    raw = read_json_file(parameters_path, option("--parameters"))
    overrides = raw.get("Parameters") if isinstance(raw, dict) else None
    if not isinstance(overrides, dict):
        raise SettingsError(
            option("--parameters"), str(parameters_path), 'a JSON object {"Parameters": {...}}'
        )
    return list(overrides.items())


def _identifiers(template: dict) -> list[str]:
    return [
        r["Properties"]["Source"]["SourceIdentifier"]
        for r in template["Resources"].values()
        if r.get("Type") == "AWS::Config::ConfigRule"
    ]
