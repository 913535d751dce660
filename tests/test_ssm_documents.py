"""The loader of the remediation facts refuses a data file that contradicts itself."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from compliance_template.generator.catalog import BY_IDENTIFIER
from compliance_template.generator.ssm_documents import (
    DATA_FILE,
    FillKind,
    RemediationDataError,
    load,
    rule_remediations,
)

RAW = json.loads(DATA_FILE.read_text(encoding="utf-8"))


def _write(tmp_path: Path, raw: dict) -> Path:
    path = tmp_path / "remediations.json"
    path.write_text(json.dumps(raw), encoding="utf-8")
    return path


def test_the_shipped_file_loads_and_names_catalog_rules() -> None:
    remediations = rule_remediations()
    assert remediations
    for identifier, remediation in remediations.items():
        assert identifier in BY_IDENTIFIER
        rule = BY_IDENTIFIER[identifier]
        # Account-level rules have no resource type; Config names the account.
        assert remediation.resource_type in (*rule.resource_types, "AWS::::Account")
        kinds = [fill.kind for fill in remediation.fills.values()]
        expected = (0, 1) if remediation.resource_type == "AWS::::Account" else (1,)
        assert kinds.count(FillKind.RESOURCE_ID) in expected


def _first_rule(raw: dict) -> dict:
    return raw["rules"][sorted(raw["rules"])[0]]


@pytest.mark.parametrize(
    ("breaking", "message"),
    [
        (lambda raw: _first_rule(raw).update(document="AWS-NoSuchDocument"), "is not listed"),
        (
            lambda raw: _first_rule(raw)["parameters"].update(Bogus={"static": ["x"]}),
            "no parameter Bogus",
        ),
        (
            lambda raw: _first_rule(raw)["parameters"].update(
                AutomationAssumeRole={"static": ["x"]}
            ),
            "assume role",
        ),
        (lambda raw: _first_rule(raw)["parameters"].clear(), "is not filled"),
        (
            lambda raw: next(
                fill for fill in _first_rule(raw)["parameters"].values() if "resourceId" in fill
            ).update(resourceId=1),
            "not a valid fill",
        ),
        (lambda raw: _first_rule(raw).update(resourceType="Bucket"), "resourceType"),
        (lambda raw: next(iter(raw["documents"].values())).update(permissions=[]), "permissions"),
        (
            lambda raw: next(iter(raw["documents"].values())).update(assumeRoleParameter="Role"),
            "assumeRoleParameter",
        ),
        (
            lambda raw: next(iter(raw["documents"].values()))["parameters"].update(
                Extra={"type": "Text", "required": False}
            ),
            "type 'Text'",
        ),
        (
            lambda raw: raw["documents"].update(
                {"AWS-Unused": copy.deepcopy(next(iter(raw["documents"].values())))}
            ),
            "no rule uses it",
        ),
    ],
)
def test_a_broken_entry_is_refused_with_its_place(tmp_path: Path, breaking, message: str) -> None:
    raw = copy.deepcopy(RAW)
    breaking(raw)
    with pytest.raises(RemediationDataError, match=message):
        load(_write(tmp_path, raw))


def test_a_disruptive_document_says_why(tmp_path: Path) -> None:
    raw = copy.deepcopy(RAW)
    for entry in raw["documents"].values():
        entry.update(disruptive=True, disruption="")
    with pytest.raises(RemediationDataError, match="says why"):
        load(_write(tmp_path, raw))
