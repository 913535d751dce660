"""Runbooks are generated from the catalog and committed; they must not drift."""

from __future__ import annotations

import pytest
from template_helpers import ROOT

from compliance_template.generator import ssm_documents
from compliance_template.generator.catalog import CATALOG, CURATED
from compliance_template.generator.runbooks import (
    EXEMPT_COMMANDS,
    GENERIC_EXEMPT_COMMAND,
    render_runbook,
    write_runbooks,
)

RUNBOOKS = ROOT / "docs" / "runbooks"


@pytest.mark.parametrize("rule", CATALOG, ids=lambda rule: rule.identifier)
def test_committed_runbook_matches_catalog(rule):
    committed = (RUNBOOKS / f"{rule.identifier}.md").read_text(encoding="utf-8")
    assert committed == render_runbook(rule), "stale runbook: run `make template` and commit"


def test_no_runbook_without_a_catalog_rule():
    assert sorted(p.stem for p in RUNBOOKS.glob("*.md")) == sorted(r.identifier for r in CATALOG)


@pytest.mark.parametrize("rule", CATALOG, ids=lambda rule: rule.identifier)
def test_runbook_has_every_section_and_real_content(rule):
    text = render_runbook(rule)
    if rule.manual:
        assert "put-external-evaluation" in text and "None: a person" in text
        return
    for heading in (
        "## What it checks and why it matters",
        "## Confirm by hand",
        "## Fix by hand",
        "## Automatic remediation",
        "## Exempt a resource",
    ):
        assert heading in text
    if rule.identifier in {curated.identifier for curated in CURATED}:
        # The rules we know in depth carry our own commands and steps.
        assert rule.check_by_hand.startswith("aws ")
        assert rule.fix_by_hand and "1. " in text
    else:
        assert rule.source_url in text.split("## Fix by hand")[1]
    assert f"compliance-{rule.slug}" in text
    ssm = ssm_documents.remediation_for(rule.identifier)
    if rule.remediation:
        assert "`lambda`, `dry-run`" in text and rule.remediation in text
    if ssm is not None:
        assert ssm.document.url in text and ssm.document.effect in text
        assert ("approval step" in text) is ssm.disruptive
    if not rule.remediation and ssm is None:
        assert "None for this rule" in text
    for resource_type in rule.resource_types:
        assert EXEMPT_COMMANDS.get(resource_type, GENERIC_EXEMPT_COMMAND) in text


def test_write_runbooks_writes_one_file_per_rule(tmp_path):
    written = write_runbooks(tmp_path)
    assert len(written) == len(CATALOG)
    assert all(path.read_text(encoding="utf-8").startswith("# ") for path in written)
