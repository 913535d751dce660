"""The runbooks' IAM facts the automation policies are built from, checked against parliament's
IAM database (the Service Authorization Reference), and the policies scanned clean."""

from __future__ import annotations

import json
import warnings
from datetime import date

import pytest
from template_helpers import load_scan_script

from compliance_template.generator import policies, ssm_documents
from compliance_template.generator.organization import build_member_template
from compliance_template.generator.settings import Settings
from compliance_template.generator.template import build_template
from compliance_template.output import render


def _privileges() -> dict[str, dict]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # parliament imports the deprecated pkg_resources
        import parliament
    return {
        f"{service['prefix']}:{privilege['privilege']}": privilege
        for service in parliament.iam_definition
        for privilege in service["privileges"]
    }


def _facts_actions() -> set[str]:
    return {a for d in ssm_documents.documents().values() for a in d.permissions}


def test_every_runbook_action_is_classified_as_the_reference_has_it():
    privileges = _privileges()
    actions = _facts_actions()
    unknown = sorted(a for a in actions if a not in privileges)
    assert unknown == [], "actions IAM does not know"
    no_resource = {
        a for a in actions if all(r["resource_type"] == "" for r in privileges[a]["resource_types"])
    }
    managing = {a for a in actions if privileges[a]["access_level"] == "Permissions management"}
    # A new document's actions are added to the tables in policies.py (both ways: no stale entry
    # for an action the reference scopes, or of another access level).
    assert no_resource == policies.NO_RESOURCE_ACTIONS & actions
    assert managing == policies.PERMISSIONS_MANAGEMENT_ACTIONS & actions


@pytest.mark.parametrize("build", [build_template, build_member_template])
def test_every_runbook_of_the_facts_scans_clean(tmp_path, build):
    rules = sorted(ssm_documents.rule_remediations())
    settings = Settings.from_mapping(
        {
            "rules": rules,
            "remediation": {rule: "ssm" for rule in rules},
            "remediation_approval": {"approvers": ["alice"]},
        },
        today=date(2026, 12, 2),
    )
    path = tmp_path / "every-runbook.json"
    path.write_text(render(build(settings), "json"), encoding="utf-8")
    report = load_scan_script().scan_template(path)
    assert [f"{f.scanner} {f.check} {f.resource}" for f in report.failed] == []
    assert json.loads(path.read_text())["Resources"]
