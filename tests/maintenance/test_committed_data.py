"""The committed frameworks.json is what the reader writes, and agrees with managed_rules.json."""

from __future__ import annotations

from compliance_template.maintenance import frameworks_data, rule_facts
from compliance_template.maintenance.packs import framework_name


def test_the_committed_frameworks_file_is_exactly_what_the_writer_renders():
    """A hand edit (or a different indent, or key order) shows here: re-run the refresh instead."""
    path = frameworks_data.FRAMEWORKS_FILE
    assert frameworks_data.render(frameworks_data.load(path)).encode() == path.read_bytes()


def test_every_identifier_the_frameworks_use_has_a_managed_rule_entry():
    frameworks = frameworks_data.load()["frameworks"]
    rules = rule_facts.load_rules()
    assert sorted(rule_facts.uses(frameworks).keys() - rules.keys()) == []


def test_every_framework_is_named_after_its_file():
    frameworks = frameworks_data.load()["frameworks"]
    assert {n: r["file"] for n, r in frameworks.items() if framework_name(r["file"]) != n} == {}
