"""The committed templates are exactly what the generator produces now."""

from __future__ import annotations

import pytest
from template_helpers import EXAMPLES, TEMPLATES

from compliance_template.cli import KINDS
from compliance_template.output import render
from compliance_template.settings import Settings, load_settings
from compliance_template.template import build_template

# committed file: (kind, settings file or None for the defaults)
GOLDEN = {
    "compliance-monitoring.json": ("stack", None),
    "compliance-monitoring-all-rules.json": ("stack", EXAMPLES / "all-rules.json"),
    "org-member.json": ("org-member", None),
    "org-central.json": ("org-central", None),
    "conformance-pack.json": ("conformance-pack", None),
    "org-conformance-pack.json": ("org-conformance-pack", None),
}


@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_committed_template_matches_generator(name):
    kind, settings_file = GOLDEN[name]
    settings = load_settings(settings_file) if settings_file else Settings()
    expected = render(KINDS[kind](settings), "json")
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
