"""Helpers for the template tests: build templates as dicts, find resources, resolve Subs."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

from cfnlint.helpers import REGIONS

from compliance_template import intrinsics
from compliance_template.generator.settings import Settings
from compliance_template.generator.template import build_template
from compliance_template.output import render

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
    return intrinsics.substitute(sub_string, lambda _: placeholder)


def statements(document: dict) -> dict[str, dict]:
    return {s["Sid"]: s for s in document["Statement"] if "Sid" in s}


def evaluate_condition(template: dict, name: str, region: str, parameters: dict) -> bool:
    return _Evaluator(template, region, parameters).condition(name)


def resolve(value: object, template: dict, region: str, parameters: dict) -> object:
    """The value CloudFormation gives `value` in `region` with these parameter values. A
    resource's Ref or Fn::GetAtt, and a parameter without a value, become the security scan's
    example values."""
    return _Evaluator(template, region, parameters).evaluate(value)


class _Evaluator(intrinsics.Evaluator):
    def __init__(self, template: dict, region: str, parameters: dict) -> None:
        given = {name: value for name, value in parameters.items() if value is not None}
        # A parameter the deployer must give: the scan's example of a well-formed value.
        super().__init__(
            parameters={**scan.PARAMETER_EXAMPLES, **given},
            pseudo_parameters={**scan.PSEUDO_PARAMETERS, "AWS::Region": region},
            conditions=template.get("Conditions", {}),
        )
        self.resources = template.get("Resources", {})

    def resource(self, logical_id: str) -> str:
        kind = self.resources[logical_id]["Type"]
        return scan.REF_VALUES.get(kind, "{name}").format(name=logical_id.lower())

    def attribute(self, logical_id: str, attribute: str) -> str:
        kind = self.resources[logical_id]["Type"]
        return scan.ATTRIBUTES[(kind, attribute)].format(name=logical_id.lower())


def parameter_defaults(template: dict) -> dict[str, str]:
    """The template's parameter defaults (parameters without one are left out)."""
    return {
        name: str(spec["Default"])
        for name, spec in template.get("Parameters", {}).items()
        if "Default" in spec
    }


def pack_of(template: dict) -> dict:
    """The conformance pack resource of a pack template (which may also hold automation roles)."""
    (pack,) = [
        r
        for r in template["Resources"].values()
        if r["Type"] in ("AWS::Config::ConformancePack", "AWS::Config::OrganizationConformancePack")
    ]
    return pack


def pack_bodies(pack: dict) -> list[str]:
    """Every body the pack may deploy: one, or one per RemediationMode (an Fn::If tree)."""
    pending, bodies = [pack["Properties"]["TemplateBody"]], []
    while pending:
        body = pending.pop(0)
        if isinstance(body, str):
            bodies.append(body)
        else:
            pending.extend(body["Fn::If"][1:])
    return bodies
