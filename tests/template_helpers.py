"""Helpers for the template tests: build templates as dicts, find resources, resolve Subs."""

from __future__ import annotations

import json
import re
from pathlib import Path

from compliance_template.output import render
from compliance_template.settings import Settings
from compliance_template.template import build_template

ROOT = Path(__file__).resolve().parents[1]
TEMPLATES = ROOT / "templates"
EXAMPLES = ROOT / "examples"


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
