"""Another template deployed the same way: the all-rules example keeps reports 90 days and logs
365 (the default stack: 30 and 90); the checks read the values in effect, which are its own
parameter defaults until the update changes each value it sets."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from e2e_checks import check_alarms, check_bucket, check_log_groups
from template_helpers import TEMPLATES

from compliance_template.local.cycle import LocalStack, local_stack

TEMPLATE = TEMPLATES / "compliance-monitoring-all-rules.json"


@pytest.fixture(scope="module")
def stack() -> Iterator[LocalStack]:
    with local_stack(TEMPLATE) as running:
        running.account_setup()
        running.create()
        yield running


def test_its_defaults_differ_from_the_default_stacks():
    defaults = json.loads(TEMPLATE.read_text())["Parameters"]
    days = defaults["ReportRetentionDays"]["Default"], defaults["LogRetentionDays"]["Default"]
    assert days == ("90", "365")


def test_the_checks_read_its_own_defaults(stack):
    assert (stack.parameters["ReportRetentionDays"], stack.parameters["LogRetentionDays"]) == (
        "90",
        "365",
    )
    check_bucket(stack)
    check_log_groups(stack)
    check_alarms(stack)


def test_the_update_changes_each_value_it_sets(stack):
    stack.update()
    assert (stack.parameters["ReportRetentionDays"], stack.parameters["LogRetentionDays"]) == (
        "30",
        "30",
    )
    check_bucket(stack)
    check_log_groups(stack)
    check_alarms(stack)
