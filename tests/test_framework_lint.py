"""cfn-lint (with our rules) over every framework's rules and over whole framework stacks.

A framework stack is the default stack's resources (linted in every region by test_lint.py) plus
its Config rules with the pack's parameters and conditions. Linting 120 stacks whole would take
longer than the whole suite may (cfn-lint's condition analysis costs ~60 ms a rule), so every
distinct rule declaration of every framework is linted once, with the parameters and conditions
it refers to, in batches; and whole templates of every other kind are linted for a
representative framework (test_lint.py lints the committed framework stacks).
"""

from __future__ import annotations

import json
from concurrent.futures import ProcessPoolExecutor

import pytest
from test_lint import findings

from compliance_template.generator.cli import KINDS
from compliance_template.generator.frameworks import frameworks
from compliance_template.generator.settings import Settings
from compliance_template.intrinsics import referenced_names
from compliance_template.output import render

pytestmark = pytest.mark.cfn_lint
BATCH_RULES = 150
REGIONS = ["us-east-1"]


def _declarations() -> list[tuple[str, dict, dict, dict]]:
    """(framework, rule, the parameters and the conditions it refers to), each distinct once."""
    seen: set[str] = set()
    found = []
    for name in frameworks():
        document = json.loads(
            render(KINDS["stack"](Settings.from_mapping({"frameworks": [name]})), "json")
        )
        for rule in document["Resources"].values():
            if rule["Type"] != "AWS::Config::ConfigRule":
                continue
            rule = {k: v for k, v in rule.items() if k != "Metadata"}  # the recorder's wait
            conditions = _conditions_of(rule, document["Conditions"])
            parameters = {
                p: document["Parameters"][p]
                for p in referenced_names([rule, list(conditions.values())])
                if p in document["Parameters"]
            }
            key = json.dumps([rule, parameters, conditions], sort_keys=True)
            if key not in seen:
                seen.add(key)
                found.append((name, rule, parameters, conditions))
    return found


def _conditions_of(value: object, conditions: dict) -> dict:
    """The conditions a fragment names (Condition, Fn::If, {"Condition": x}), transitively."""
    wanted: dict = {}
    pending = [value]
    while pending:
        text = json.dumps(pending.pop())
        for name, body in conditions.items():
            if name not in wanted and f'"{name}"' in text:
                wanted[name] = body
                pending.append(body)
    return wanted


def _batches() -> list[dict]:
    batches: list[dict] = []
    for index, (_, rule, parameters, conditions) in enumerate(_declarations()):
        batch = next((b for b in batches if _fits(b, rule, parameters, conditions)), None)
        if batch is None:
            batch = {
                "AWSTemplateFormatVersion": "2010-09-09",
                "Parameters": {},
                "Conditions": {},
                "Resources": {},
            }
            batches.append(batch)
        batch["Parameters"].update(parameters)
        batch["Conditions"].update(conditions)
        batch["Resources"][f"Rule{index}"] = rule
    return batches


def _fits(batch: dict, rule: dict, parameters: dict, conditions: dict) -> bool:
    """Room, the same parameters and conditions, and a rule name of its own (names are unique)."""
    if len(batch["Resources"]) >= BATCH_RULES:
        return False
    names = [r["Properties"]["ConfigRuleName"] for r in batch["Resources"].values()]
    if rule["Properties"]["ConfigRuleName"] in names:
        return False
    same = all(batch["Parameters"].get(k, v) == v for k, v in parameters.items())
    return same and all(batch["Conditions"].get(k, v) == v for k, v in conditions.items())


def _lint(batch: dict) -> list[str]:
    return findings(json.dumps(batch), REGIONS)


def test_every_distinct_framework_rule_lints_clean():
    batches = _batches()
    linted = sum(len(batch["Resources"]) for batch in batches)
    assert linted > 600  # every framework's rules, each distinct declaration once
    # Two processes: the machine's two cores, and the suite's longest test halved.
    with ProcessPoolExecutor(max_workers=2) as pool:
        assert list(pool.map(_lint, batches)) == [[] for _ in batches]


def test_the_batches_would_show_a_broken_rule():
    """The check can fail: a rule naming an identifier that does not exist is reported."""
    batch = _batches()[0]
    batch["Resources"] = dict(list(batch["Resources"].items())[:3])
    rule = next(iter(batch["Resources"].values()))
    rule["Properties"]["Source"]["SourceIdentifier"] = "DB_BACKUP_RETENTION_CHECK"
    assert any(f.startswith("E9002") for f in findings(json.dumps(batch), REGIONS))


REPRESENTATIVE = [
    ("org-member", "nist-800-53-rev-5"),
    ("org-central", "cis-aws-v1.4-level2"),
    ("conformance-pack", "aws-control-tower-detective-guardrails"),
    ("org-conformance-pack", "nzism-extension"),
]


@pytest.mark.parametrize(("kind", "name"), REPRESENTATIVE)
def test_representative_framework_templates_lint_clean(kind, name):
    settings = Settings.from_mapping({"frameworks": [name]})
    assert findings(render(KINDS[kind](settings), "json"), REGIONS) == []
