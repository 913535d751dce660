"""W9009 reports exactly the deprecated runtimes cfn-lint's own lifecycle rules cannot."""

from __future__ import annotations

import json
from datetime import date

import pytest
from cfn_rules_harness import RULES_MODULE
from cfnlint.api import lint
from cfnlint.config import ManualArgs
from cfnlint.data import AdditionalSpecs
from cfnlint.helpers import load_resource

from compliance_template.cfn_rules.lambda_runtime_lifecycle_gap import uncovered_deprecation

LIFECYCLE = load_resource(AdditionalSpecs, "LmbdRuntimeLifecycle.json")
CFN_LINT_LIFECYCLE_RULES = {"W2531", "E2531", "E2533"}


def _template_with_every_runtime() -> str:
    resources = {
        f"F{index}": {
            "Type": "AWS::Lambda::Function",
            "Properties": {
                "Runtime": runtime,
                "Handler": "index.handler",
                "Role": "arn:aws:iam::123456789012:role/r",
                "Code": {"ZipFile": "x"},
            },
        }
        for index, runtime in enumerate(sorted(LIFECYCLE))
    }
    return json.dumps({"Resources": resources})


@pytest.mark.cfn_lint
def test_w9009_and_cfn_lint_never_both_report_and_together_cover_every_deprecation():
    matches = lint(
        _template_with_every_runtime(),
        config=ManualArgs(append_rules=[RULES_MODULE], regions=["us-east-1"]),
    )
    reported: dict[str, set[str]] = {}
    for match in matches:
        if match.rule.id in CFN_LINT_LIFECYCLE_RULES | {"W9009"}:
            index = int(match.path[1][1:])
            reported.setdefault(sorted(LIFECYCLE)[index], set()).add(match.rule.id)
    today = date.today()
    for runtime, entry in LIFECYCLE.items():
        ids = reported.get(runtime, set())
        assert not ("W9009" in ids and ids & CFN_LINT_LIFECYCLE_RULES), runtime
        assert ("W9009" in ids) == uncovered_deprecation(entry, today), runtime
        if date.fromisoformat(entry["deprecated"]) <= today:
            assert ids, f"{runtime} is deprecated but nothing reports it"


ENTRY = {"deprecated": "2026-01-01", "create-block": None, "update-block": None}


@pytest.mark.parametrize(
    ("entry", "today", "expected"),
    [
        (ENTRY, date(2025, 12, 31), False),
        (ENTRY, date(2026, 1, 1), True),
        ({**ENTRY, "create-block": "2026-02-01"}, date(2026, 3, 1), True),
        ({**ENTRY, "update-block": "2026-02-01"}, date(2026, 1, 15), True),
        # From the update block on, cfn-lint's E2533 reports it.
        ({**ENTRY, "update-block": "2026-02-01"}, date(2026, 2, 1), False),
        (
            {**ENTRY, "create-block": "2026-02-01", "update-block": "2026-03-01"},
            date(2026, 6, 1),
            False,
        ),
    ],
)
def test_uncovered_deprecation(entry, today, expected):
    assert uncovered_deprecation(entry, today) is expected
