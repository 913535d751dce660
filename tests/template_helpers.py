"""Helpers for the template tests: build templates as dicts, find resources, resolve Subs."""

from __future__ import annotations

import importlib.util
import json
import re
import sys
from pathlib import Path
from types import ModuleType

from cfnlint.helpers import REGIONS

from compliance_template.output import render
from compliance_template.settings import Settings
from compliance_template.template import build_template

ROOT = Path(__file__).resolve().parents[1]
TEMPLATES = ROOT / "templates"
EXAMPLES = ROOT / "examples"
# Every region cfn-lint knows outside the isolated (ISO) and sovereign partitions, which publish
# no public service list to lint against: the regions the templates are checked for.
LINT_REGIONS = sorted(r for r in REGIONS if not r.startswith(("us-iso", "eu-iso", "eusc")))


def load_script(relative_path: str) -> ModuleType:
    """A script of the repository (not part of the package) as a module named after its file."""
    path = ROOT / relative_path
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[path.stem] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


def load_scan_script() -> ModuleType:
    """scripts/scan.py, the security scanners of `make lint`."""
    return load_script("scripts/scan.py")


# scripts/scan.py: the security scan, whose example values for resources also serve `resolve`.
scan = load_scan_script()


def as_dict(settings: Settings) -> dict:
    return json.loads(render(build_template(settings), "json"))


def resources_of(template: dict, resource_type: str) -> dict[str, dict]:
    return {
        name: resource
        for name, resource in template["Resources"].items()
        if resource["Type"] == resource_type
    }


def substitute(sub_string: str, placeholder: str = "x") -> str:
    """Replace every ${...} of an Fn::Sub string, as CloudFormation would with real values."""
    return re.sub(r"\$\{[^}]+\}", placeholder, sub_string)


def statements(document: dict) -> dict[str, dict]:
    return {s["Sid"]: s for s in document["Statement"] if "Sid" in s}


def evaluate_condition(template: dict, name: str, region: str, parameters: dict) -> bool:
    return bool(resolve(template["Conditions"][name], template, region, parameters))


def resolve(value: object, template: dict, region: str, parameters: dict) -> object:
    """A small CloudFormation evaluator for the intrinsics the region tests need: conditions on
    `AWS::Region` and parameters, Fn::If, Fn::Join, Fn::Sub and `AWS::NoValue`. A resource's Ref
    or Fn::GetAtt, and a parameter without a value, become the security scan's example values."""
    if isinstance(value, list):
        items = [resolve(v, template, region, parameters) for v in value]
        return [item for item in items if item is not NO_VALUE]
    if not isinstance(value, dict) or len(value) != 1:
        return value
    ((function, argument),) = value.items()

    def again(inner: object) -> object:
        return resolve(inner, template, region, parameters)

    if function == "Ref":
        return _ref(argument, template, region, parameters)
    if function == "Fn::GetAtt":
        name, attribute = argument.split(".", 1) if isinstance(argument, str) else argument
        return _attribute(template, name, attribute)
    if function == "Condition":
        return evaluate_condition(template, argument, region, parameters)
    if function == "Fn::Equals":
        return again(argument[0]) == again(argument[1])
    if function == "Fn::Not":
        return not again(argument[0])
    if function == "Fn::Or":
        return any(again(a) for a in argument)
    if function == "Fn::And":
        return all(again(a) for a in argument)
    if function == "Fn::If":
        chosen = (
            argument[1]
            if evaluate_condition(template, argument[0], region, parameters)
            else argument[2]
        )
        return again(chosen)
    if function == "Fn::Join":
        return argument[0].join(str(part) for part in again(argument[1]))
    if function == "Fn::Sub" and isinstance(argument, str):
        return re.sub(r"\$\{([^}]+)\}", lambda m: str(_placeholder(m.group(1), again)), argument)
    return value


def _placeholder(name: str, again: object) -> object:
    """`${Name}` is a Ref, `${Name.Attribute}` a GetAtt."""
    if "." in name and not name.startswith("AWS::"):
        return again({"Fn::GetAtt": name.split(".", 1)})
    return again({"Ref": name})


def _ref(name: str, template: dict, region: str, parameters: dict) -> object:
    if name == "AWS::NoValue":
        return NO_VALUE
    if name == "AWS::Region":
        return region
    if name in scan.PSEUDO_PARAMETERS:
        return scan.PSEUDO_PARAMETERS[name]
    resources = template.get("Resources", {})
    if name in resources:
        return scan.REF_VALUES.get(resources[name]["Type"], "{name}").format(name=name.lower())
    if parameters.get(name) is not None:
        return parameters[name]
    # A parameter the deployer must give: the scan's example of a well-formed value.
    return scan.PARAMETER_EXAMPLES[name]


def _attribute(template: dict, name: str, attribute: str) -> str:
    kind = template["Resources"][name]["Type"]
    return scan.ATTRIBUTES[(kind, attribute)].format(name=name.lower())


def parameter_defaults(template: dict) -> dict[str, str]:
    """The template's parameter defaults (parameters without one are left out)."""
    return {
        name: str(spec["Default"])
        for name, spec in template.get("Parameters", {}).items()
        if "Default" in spec
    }


NO_VALUE = object()
