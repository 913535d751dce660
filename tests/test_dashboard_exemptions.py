"""The dashboard shows the exempt resources per rule (the reporting function's ExemptResources,
emitted only in stacks with exemptions), and only in such stacks."""

from __future__ import annotations

import json

import pytest
from template_helpers import TEMPLATES

from compliance_template.cfn_rules.dashboard_metric_lines import _problems
from compliance_template.generator.organization import build_central_template
from compliance_template.generator.settings import load_settings
from compliance_template.generator.template import build_template

TITLE = "Exempt resources per rule (from the last report)"


def _body(template: dict) -> dict:
    dashboard = template["Resources"]["ComplianceDashboard"]["Properties"]
    return json.loads(dashboard["DashboardBody"]["Fn::Sub"])


def _exempt_widgets(template: dict) -> list[dict]:
    return [w for w in _body(template)["widgets"] if "ExemptResources" in json.dumps(w)]


def _with_exemptions(build) -> dict:
    settings = load_settings(TEMPLATES.parent / "examples" / "exemptions.json")
    return json.loads(json.dumps(build(settings).to_dict()))


@pytest.mark.parametrize("build", [build_template, build_central_template])
def test_a_stack_with_exemptions_graphs_the_exempt_resources_of_every_rule(build):
    template = _with_exemptions(build)
    [widget] = _exempt_widgets(template)
    properties = widget["properties"]
    assert properties["title"] == TITLE
    assert properties["stat"] == "Maximum" and properties["period"] == 3600
    [[line]] = properties["metrics"]
    # A search over the stack's rule names: the body does not grow with the rule count.
    assert line["expression"] == (
        'SEARCH(\'{ComplianceMonitoring,RuleName} MetricName="ExemptResources" '
        "\"${RuleNamePrefix}-\"', 'Maximum', 3600)"
    )
    assert list(_problems(_body(template))) == []  # lint rule E9008


def test_the_committed_exemptions_template_has_the_widget_and_the_default_has_none():
    exemptions = json.loads((TEMPLATES / "compliance-monitoring-exemptions.json").read_text())
    assert [w["properties"]["title"] for w in _exempt_widgets(exemptions)] == [TITLE]
    for name in ("compliance-monitoring.json", "org-central.json"):
        assert _exempt_widgets(json.loads((TEMPLATES / name).read_text())) == [], name
