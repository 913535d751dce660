"""Every framework, in every template kind, generates within every CloudFormation, Lambda and
AWS Config limit, and so does the largest union the README shows, with the most tags."""

from __future__ import annotations

import json

import pytest
from template_helpers import EXAMPLES

from compliance_template.generator.cli import KINDS
from compliance_template.generator.conformance_pack import MAX_BODY_BYTES, pack_body
from compliance_template.generator.frameworks import frameworks
from compliance_template.generator.limits import (
    MAX_PARAMETERS,
    MAX_RESOURCES,
    MAX_TEMPLATE_BYTES,
    build_within_limits,
)
from compliance_template.generator.settings import Settings, load_settings
from compliance_template.output import render

# CloudWatch: a dashboard body holds at most 1 MB (PutDashboard); ours stays far below it.
DASHBOARD_BODY_BUDGET = 100_000


def _check(settings: Settings, kind: str) -> dict:
    template = build_within_limits(lambda: KINDS[kind](settings), kind)
    document = json.loads(render(template, "json"))
    assert len(document["Resources"]) <= MAX_RESOURCES
    assert len(document.get("Parameters", {})) <= MAX_PARAMETERS
    assert len(render(template, "json").encode()) <= MAX_TEMPLATE_BYTES
    assert len(document["Description"].encode()) <= 1024  # CloudFormation's limit
    for resource in document["Resources"].values():
        if resource["Type"] == "AWS::CloudWatch::Dashboard":
            body = resource["Properties"]["DashboardBody"]
            assert len(json.dumps(body)) < DASHBOARD_BODY_BUDGET
    return document


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_every_framework_generates_within_the_limits_in_every_kind(kind):
    for name in frameworks():
        settings = Settings.from_mapping({"frameworks": [name]})
        document = _check(settings, kind)
        if "conformance-pack" in kind:
            assert len(pack_body(settings).encode()) <= MAX_BODY_BYTES, name
        elif kind != "org-central":  # the central account runs no rules, its members do
            rules = [
                r for r in document["Resources"].values() if r["Type"] == "AWS::Config::ConfigRule"
            ]
            assert len(rules) == len(frameworks()[name].rules), name


def _union_with_tags(count: int) -> Settings:
    raw = json.loads((EXAMPLES / "frameworks-cis-nist-pci.json").read_text(encoding="utf-8"))
    raw["tags"] = {f"tag-{index:02}": "v" * 256 for index in range(count)}
    return Settings.from_mapping(raw)


def test_the_largest_union_with_many_long_tags_fits_one_stack():
    """259 rules and 27 tags of the longest value (256 characters) on every taggable resource
    (28 pass 1 MB since the report's Object Lock and Athena resources of issue 14:
    docs/benchmarks.md)."""
    settings = _union_with_tags(27)
    document = _check(settings, "stack")
    rules = [r for r in document["Resources"].values() if r["Type"] == "AWS::Config::ConfigRule"]
    assert len(rules) == len(settings.enabled_rules) > 250


def test_the_largest_union_with_the_most_tags_is_refused_naming_the_limit():
    """With 30 such tags (the settings take up to 40; 28 already do) it passes CloudFormation's
    1 MB: the generator says so in one line, with the way out, instead of writing a template AWS
    refuses."""
    from compliance_template.errors import SettingsError

    settings = _union_with_tags(30)
    with pytest.raises(SettingsError) as caught:
        build_within_limits(lambda: KINDS["stack"](settings), "stack")
    message = str(caught.value)
    assert f"at most {MAX_TEMPLATE_BYTES}" in message and "conformance-pack" in message


def test_the_union_is_too_large_for_one_conformance_pack_and_says_what_to_do():
    settings = load_settings(EXAMPLES / "frameworks-cis-nist-pci.json")
    from compliance_template.errors import SettingsError

    with pytest.raises(SettingsError) as caught:
        build_within_limits(lambda: KINDS["conformance-pack"](settings), "conformance-pack")
    assert "51200" in str(caught.value) and "split the frameworks" in str(caught.value)
