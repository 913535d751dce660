"""The committed templates are exactly what the generator produces now."""

from __future__ import annotations

import pytest
from template_helpers import EXAMPLES, TEMPLATES

from compliance_template.generator.committed import COMMITTED, render_committed
from compliance_template.generator.settings import load_settings
from compliance_template.generator.template import build_template
from compliance_template.output import render


@pytest.mark.parametrize("name", sorted(COMMITTED))
def test_committed_template_matches_generator(name):
    committed = (TEMPLATES / name).read_text(encoding="utf-8")
    assert committed == render_committed(name), f"templates/{name} is stale: run `make template`"


def test_every_committed_template_is_golden_tested():
    assert sorted(p.name for p in TEMPLATES.glob("*.json")) == sorted(COMMITTED)


def test_build_is_deterministic():
    settings = load_settings(EXAMPLES / "all-rules.json")
    first = render(build_template(settings), "json")
    second = render(build_template(settings), "json")
    assert first == second
    assert render(build_template(settings), "yaml") == render(build_template(settings), "yaml")
