"""The committed templates are exactly what the generator produces now."""

from __future__ import annotations

import pytest
from template_helpers import EXAMPLES, TEMPLATES

from compliance_template.output import render
from compliance_template.settings import Settings, load_settings
from compliance_template.template import build_template

GOLDEN = {
    "compliance-monitoring.json": None,
    "compliance-monitoring-all-rules.json": EXAMPLES / "all-rules.json",
}


@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_committed_template_matches_generator(name):
    settings_file = GOLDEN[name]
    settings = load_settings(settings_file) if settings_file else Settings()
    expected = render(build_template(settings), "json")
    committed = (TEMPLATES / name).read_text(encoding="utf-8")
    assert committed == expected, f"templates/{name} is stale: run `make template` and commit"


def test_every_committed_template_is_golden_tested():
    assert sorted(p.name for p in TEMPLATES.glob("*.json")) == sorted(GOLDEN)


def test_build_is_deterministic():
    settings = load_settings(EXAMPLES / "all-rules.json")
    first = render(build_template(settings), "json")
    second = render(build_template(settings), "json")
    assert first == second
    assert render(build_template(settings), "yaml") == render(build_template(settings), "yaml")
