"""cfn-lint, informational checks included, over every generated template in every region
cfn-lint knows outside the isolated partitions: zero findings (suppressions need a reason,
see test_failure_facts.test_every_ignored_lint_check_has_a_reason)."""

from __future__ import annotations

import pytest
from cfnlint.api import ManualArgs, lint
from template_helpers import LINT_REGIONS, TEMPLATES

from compliance_template.generator.settings import Settings
from compliance_template.generator.template import build_template


def findings(text: str, regions: list[str] = LINT_REGIONS) -> list[str]:
    """cfn-lint's rules and ours (compliance_template.cfn_rules), as `make lint` runs them."""
    config = ManualArgs(
        include_checks=["I"], regions=regions, append_rules=["compliance_template.cfn_rules"]
    )
    matches = lint(text, config=config)
    return [f"{m.rule.id} {m.message} (line {m.linenumber})" for m in matches]


def test_lint_covers_commercial_china_and_govcloud_regions():
    assert {"us-east-1", "eu-central-2", "ap-southeast-4", "cn-north-1", "us-gov-west-1"} <= set(
        LINT_REGIONS
    )


# A framework stack's resources beyond its rules are the default stack's, linted everywhere;
# its rules are linted in one region of each partition: all 40-odd regions would take minutes
# for 130 rules (test_framework_lint.py lints every framework's rules in us-east-1).
FRAMEWORK_REGIONS = ["us-east-1", "cn-north-1", "us-gov-west-1"]


@pytest.mark.parametrize("path", sorted(TEMPLATES.glob("*.json")), ids=lambda p: p.name)
def test_committed_templates_lint_clean_everywhere(path):
    regions = FRAMEWORK_REGIONS if path.name.startswith("framework-") else LINT_REGIONS
    assert findings(path.read_text(encoding="utf-8"), regions) == []


def test_stack_with_every_option_switched_on_lints_clean():
    from compliance_template.output import render

    settings = Settings.from_mapping(
        {
            "parameter_defaults": {
                "CreateConfigRecorder": "true",
                "NotificationEmail": "security@example.com",
                "NotificationHttpsUrl": "https://hooks.example.com/compliance",
                "AggregatorAccountId": "123456789012",
                "AggregatorRegion": "eu-west-1",
                "RemediationMode": "enforce",
                "ReportAcrossRegions": "true",
                "ReservedConcurrency": 0,
            }
        }
    )
    assert findings(render(build_template(settings), "json")) == []


def test_lint_finds_a_real_mistake():
    """The check above can fail: broken templates produce findings, ours included."""
    original = (TEMPLATES / "compliance-monitoring.json").read_text(encoding="utf-8")
    broken = original.replace('"Runtime": "python3.13"', '"Runtime": "python3.8"', 1)
    assert any(f.startswith(("E2531", "W2531")) for f in findings(broken))
    wrong_role = original.replace("service-role/AWS_ConfigRole", "service-role/ConfigRole")
    assert any(f.startswith("E9007") for f in findings(wrong_role))
