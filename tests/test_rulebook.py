"""The functions' rulebook is generated from the catalog and committed; it must not drift."""

from __future__ import annotations

import dataclasses
import json

from compliance_template.generator import rulebook
from compliance_template.generator.catalog import CATALOG, MAX_SUFFIX
from compliance_template.generator.catalog_page import PAGE, render_page
from compliance_template.generator.committed import write_all
from compliance_template.generator.frameworks import frameworks
from compliance_template.generator.rulebook import RULEBOOK_FILE, render_rulebook
from compliance_template.generator.ssm_documents import remediation_for


def test_committed_rulebook_is_what_the_catalog_gives():
    committed = RULEBOOK_FILE.read_text(encoding="utf-8")
    assert committed == render_rulebook(), "stale rulebook: run `make template` and commit"


def test_a_catalog_change_makes_the_committed_rulebook_stale(monkeypatch):
    first = CATALOG[0]
    changed = dataclasses.replace(first, what_to_do="Something else entirely.")
    monkeypatch.setattr(rulebook, "CATALOG", (changed, *CATALOG[1:]))
    rendered = render_rulebook()
    assert rendered != RULEBOOK_FILE.read_text(encoding="utf-8")
    assert json.loads(rendered)["rules"][first.identifier]["whatToDo"] == "Something else entirely."


def test_rulebook_carries_every_rule_fact_the_functions_use():
    rules = json.loads(render_rulebook())["rules"]
    assert list(rules) == sorted(rule.identifier for rule in CATALOG)
    for rule in CATALOG:
        assert rules[rule.identifier] == {
            "description": rule.description,
            "whatToDo": rule.what_to_do,
            "resourceTypes": list(rule.resource_types),
            "remediation": rule.remediation,
            "manual": rule.manual,
            "severity": rule.severity.value,
            **(
                {"ssmDocument": remediation_for(rule.identifier).document.name}
                if remediation_for(rule.identifier)
                else {}
            ),
        }


def test_severity_is_medium_unless_the_rule_flags_internet_exposure():
    # MEDIUM is what AWS Config's own Security Hub findings carry (docs/aws-facts.md).
    rules = json.loads(render_rulebook())["rules"]
    high = sorted(name for name, entry in rules.items() if entry["severity"] == "HIGH")
    assert high == [
        "RDS_INSTANCE_PUBLIC_ACCESS_CHECK",
        "RESTRICTED_INCOMING_TRAFFIC",
        "S3_BUCKET_PUBLIC_READ_PROHIBITED",
    ]
    assert {entry["severity"] for entry in rules.values()} == {"HIGH", "MEDIUM"}


def test_every_rule_name_a_stack_can_have_maps_to_its_rule():
    book = json.loads(render_rulebook())
    names = book["names"]
    for rule in CATALOG:
        assert names[rule.slug] == rule.identifier
    for framework in frameworks().values():
        entry = book["frameworks"][framework.name]
        assert entry["title"] == framework.title
        assert set(entry["rules"]) == {rule.suffix for rule in framework.rules}
        for rule in framework.rules:
            # One suffix, one rule: a name never stands for two identifiers across packs.
            assert names[rule.suffix] == rule.identifier, (framework.name, rule.suffix)
    assert all(len(suffix) <= MAX_SUFFIX for suffix in names)


def test_manual_controls_are_marked_manual():
    rules = json.loads(render_rulebook())["rules"]
    assert rules["AWS_CONFIG_PROCESS_CHECK"]["manual"] is True
    assert sum(entry["manual"] for entry in rules.values()) == 1


def test_rulebook_is_deterministic_json_with_a_final_newline():
    text = render_rulebook()
    assert text == render_rulebook() and text.endswith("}\n") and not text.endswith("\n\n")
    assert text == json.dumps(json.loads(text), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    assert "edit the catalog, not this file" in json.loads(text)["generated"]


def test_every_rule_says_what_to_do():
    for rule in CATALOG:
        assert rule.what_to_do.strip() and rule.what_to_do.endswith("."), rule.identifier


def test_make_template_writes_the_rulebook(tmp_path):
    target = tmp_path / "rulebook.json"
    write_all(tmp_path / "templates", tmp_path / "runbooks", target, tmp_path / "page.md")
    assert target.read_text(encoding="utf-8") == render_rulebook()


def test_committed_managed_rules_page_is_what_the_catalog_gives():
    assert PAGE.read_text(encoding="utf-8") == render_page(), "stale: run `make template`"
    for rule in CATALOG:
        assert f"| `{rule.identifier}` |" in render_page()
