"""E9008: dashboard metric lines CloudWatch rejects."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, ClassVar

from cfnlint.rules import CloudFormationLintRule, RuleMatch
from cfnlint.template import Template

from compliance_template.cfn_rules._helpers import (
    branches,
    is_unknown_text,
    parse_json_text,
    properties,
    resources_of_type,
)


def _line_problem(line: Any) -> str | None:
    """What is wrong with one entry of a widget's `metrics`: strings (namespace, metric name,
    dimension name/value pairs, or the "..." / "." shorthands) and then at most one options
    object, last.
    """
    if not isinstance(line, list):
        return f"is {_json_type(line)}, not an array"
    for index, field in enumerate(line):
        if isinstance(field, str):
            continue
        if isinstance(field, dict):
            if index != len(line) - 1:
                return (
                    f"has an options object at position {index} that is not last "
                    '("Invalid metric field type, only String type is allowed")'
                )
            continue
        return f"has {_json_type(field)} at position {index}; only strings are allowed"
    return None


def _json_type(value: Any) -> str:
    names = {bool: "a boolean", int: "a number", float: "a number", list: "an array"}
    return names.get(type(value), "null" if value is None else "an object")


def _problems(body: Any) -> Iterator[str]:
    """Problems in a parsed body; parts a placeholder supplies at deploy time are skipped."""
    if is_unknown_text(body):
        return
    if not isinstance(body, dict):
        yield "the body is not a JSON object"
        return
    widgets = body.get("widgets")
    if is_unknown_text(widgets):
        return
    if not isinstance(widgets, list):
        yield 'the body has no "widgets" array'
        return
    for w, widget in enumerate(widgets):
        props = widget.get("properties") if isinstance(widget, dict) else None
        metrics = props.get("metrics") if isinstance(props, dict) else None
        if not isinstance(metrics, list):
            continue
        for m, line in enumerate(metrics):
            if is_unknown_text(line):
                continue
            problem = _line_problem(line)
            if problem:
                yield f"widgets[{w}].properties.metrics[{m}] {problem}"


class DashboardMetricLines(CloudFormationLintRule):
    id = "E9008"
    shortdesc = "Dashboard metric lines must be strings followed by one options object"
    description = (
        "Each entry of a metric widget's metrics array is [namespace, metric name, dimension "
        "name, dimension value, ..., {options}]: strings only (including the '...' and '.' "
        "shorthands), then at most one options object, last. CloudWatch rejects anything else "
        "with 'Invalid metric field type, only String type is allowed'. The body is parsed also "
        "when built with Fn::Sub or Fn::Join; values only known at deploy time are not judged."
    )
    source_url = "https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/CloudWatch-Dashboard-Body-Structure.html"
    tags: ClassVar[list[str]] = ["resources", "cloudwatch", "dashboard"]

    def match(self, cfn: Template) -> list[RuleMatch]:
        matches = []
        for name, resource in resources_of_type(cfn, "AWS::CloudWatch::Dashboard"):
            props = properties(resource)
            base = ["Resources", name, "Properties", "DashboardBody"]
            for value, path in branches(props.get("DashboardBody"), base):
                parsed = parse_json_text(value)
                if parsed is None:
                    if isinstance(value, str):
                        matches.append(RuleMatch(path, f"DashboardBody of {name} is not JSON"))
                    continue
                matches.extend(
                    RuleMatch(path, f"DashboardBody of {name}: {problem}")
                    for problem in _problems(parsed[0])
                )
        return matches
