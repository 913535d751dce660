"""The rules neither crash nor guess on templates they were not written for.

Every node under a resource's Properties and under Outputs of the good fixtures and of the
sample templates is replaced, one at a time, by intrinsic functions whose value is only known at
deploy time. Such a value must never produce a finding; `AWS::NoValue` may (removing a required
input parameter is a real problem), but must not crash a rule.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cfn_rules_harness import FIXTURES, custom_rules, findings
from cfnlint.decode import decode
from cfnlint.template import Template

SAMPLES = sorted((FIXTURES / "samples").glob("*.*"))
TEMPLATES = sorted((FIXTURES / "good").glob("*.*")) + SAMPLES

UNKNOWN_VALUES: list[Any] = [
    {"Ref": "Unknown"},
    {"Fn::ImportValue": "shared-value"},
    {"Fn::GetAtt": ["Elsewhere", "Value"]},
    {"Fn::Sub": "${Unknown}"},
    {"Fn::Sub": ["${A}-${AWS::Region}", {"A": {"Ref": "Unknown"}}]},
    {"Fn::Join": ["", [{"Ref": "Unknown"}, {"Fn::ImportValue": "suffix"}]]},
    {"Fn::Select": [0, {"Ref": "UnknownList"}]},
]
NO_VALUE = {"Ref": "AWS::NoValue"}


def _load(path: Path) -> dict[str, Any]:
    template, errors = decode(str(path))
    assert not errors, errors
    plain = json.loads(json.dumps(template))
    plain.setdefault("Parameters", {}).update(
        {"Unknown": {"Type": "String"}, "UnknownList": {"Type": "CommaDelimitedList"}}
    )
    plain.setdefault("Conditions", {})["Maybe"] = {"Fn::Equals": [{"Ref": "Unknown"}, "x"]}
    return plain


def _nodes(value: Any, path: list) -> Iterator[list]:
    yield path
    if isinstance(value, dict):
        for key, child in value.items():
            yield from _nodes(child, [*path, key])
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from _nodes(child, [*path, index])


def _mutable_paths(template: dict[str, Any]) -> Iterator[list]:
    for name, resource in template.get("Resources", {}).items():
        if "Properties" in resource:
            yield from _nodes(resource["Properties"], ["Resources", name, "Properties"])
    for name, output in template.get("Outputs", {}).items():
        yield from _nodes(output, ["Outputs", name])


def _run(filename: Path, template: dict[str, Any]) -> list[tuple[str, list]]:
    """Calls the rules directly, so that an exception fails the test with its traceback."""
    cfn = Template(str(filename), template, ["us-east-1"])
    return [
        (rule.id, match.path)
        for rule in custom_rules().values()
        for match in rule.matchall(str(filename), cfn)
    ]


def _replace(template: dict[str, Any], path: list, value: Any) -> dict[str, Any]:
    mutated = copy.deepcopy(template)
    parent = mutated
    for key in path[:-1]:
        parent = parent[key]
    parent[path[-1]] = value
    return mutated


@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: p.name)
def test_sample_templates_have_no_findings(path):
    assert findings(path) == []


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: p.name)
def test_deploy_time_values_anywhere_never_crash_or_produce_findings(path):
    template = _load(path)
    assert _run(path, template) == []
    mutations = 0
    for node_path in _mutable_paths(template):
        original = template
        for key in node_path:
            original = original[key]
        wrapped = {"Fn::If": ["Maybe", original, copy.deepcopy(original)]}
        for value in [*UNKNOWN_VALUES, wrapped]:
            mutated = _replace(template, node_path, value)
            assert _run(path, mutated) == [], (node_path, value)
            mutations += 1
        _run(path, _replace(template, node_path, NO_VALUE))
    assert mutations > 100
