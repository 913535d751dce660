"""The functions at framework scale: a stack of one framework's rules, named <prefix>-<suffix>.

The framework and its rules come from the packaged rulebook (nist-800-53-rev-5: 130 rules when
this was written), so the tests follow the rulebook the generator writes.
"""

from __future__ import annotations

import json
import math

import pytest
import rulebook
import scores
from conftest import BUCKET, PREFIX, emf_metrics, lambda_context, load_app
from function_events import change_event, finding
from function_fakes import FakeConfig

processing = load_app("processing")
reporting = load_app("reporting")
remediation = load_app("remediation")
FRAMEWORK = "nist-800-53-rev-5"
SCHEDULED = {"time": "2024-05-01T06:00:00Z"}


def suffixes(framework: str = FRAMEWORK) -> tuple[str, ...]:
    return rulebook.frameworks()[framework].rules


def rule_name(suffix: str) -> str:
    return f"{PREFIX}-{suffix}"


@pytest.fixture
def stack(world, monkeypatch):
    monkeypatch.setenv("FRAMEWORKS", FRAMEWORK)
    return world


@pytest.fixture
def config(stack):
    fake = FakeConfig()
    fake.attach(stack.aws.client("config"))
    return fake


def report(config):
    result = reporting.handler(SCHEDULED, lambda_context("req-r", "reporting"))
    return config, result


def test_the_framework_is_a_stack_of_over_a_hundred_rules():
    """What this file is about: a stack far past the ~25 rules RULES held in 4 KB."""
    assert len(suffixes()) > 100
    assert len(set(suffixes())) == len(suffixes())


def test_processing_resolves_every_rule_of_the_framework(stack):
    names = rulebook.names()
    for index, suffix in enumerate(suffixes()):
        result = processing.handler(
            change_event(rule=rule_name(suffix), resource_id=f"vol-{index:017x}"),
            lambda_context(f"req-{index}"),
        )
        assert result["status"] == "recorded", suffix
        record = stack.read_json(result["key"])
        assert record["ruleName"] == rule_name(suffix)
        assert record["ruleIdentifier"] == names[suffix]
        assert FRAMEWORK in record["frameworks"]
    notes = stack.notifications()
    assert len(notes) == len(suffixes())
    assert all(f"Frameworks:  {FRAMEWORK}\n" in note["message"] for note in notes)
    assert {note["attributes"]["ruleIdentifier"] for note in notes} == {
        names[s] for s in suffixes()
    }


def test_a_notification_names_every_enabled_framework_holding_the_rule(world, monkeypatch):
    others = [
        name
        for name, framework in sorted(rulebook.frameworks().items())
        if name != FRAMEWORK and set(framework.rules) & set(suffixes())
    ]
    other = others[0]
    shared = next(s for s in suffixes() if s in rulebook.frameworks()[other].rules)
    alone = next((s for s in suffixes() if s not in rulebook.frameworks()[other].rules), None)
    monkeypatch.setenv("FRAMEWORKS", f"{other},{FRAMEWORK}")
    processing.handler(change_event(rule=rule_name(shared)), lambda_context())
    [note] = world.notifications()
    assert f"Frameworks:  {other}, {FRAMEWORK}\n" in note["message"]
    if alone is not None:
        processing.handler(change_event(rule=rule_name(alone), resource_id="v2"), lambda_context())
        assert f"Frameworks:  {FRAMEWORK}\n" in world.notifications()[-1]["message"]


def test_without_frameworks_the_notification_and_record_name_none(world):
    result = processing.handler(change_event(), lambda_context())
    assert world.read_json(result["key"])["frameworks"] == []
    assert "Frameworks:" not in world.notifications()[0]["message"]


@pytest.mark.parametrize(
    "name",
    [
        f"{PREFIX}-no-such-rule-suffix",  # our prefix, a suffix no stack deploys
        f"other-{suffixes()[0]}",  # a known suffix under another prefix
        suffixes()[0],  # no prefix at all
    ],
)
def test_a_rule_that_is_not_the_stacks_is_ignored(stack, name):
    result = processing.handler(change_event(rule=name), lambda_context())
    assert result == {"status": "ignored", "rule": name}
    assert stack.keys() == [] and stack.notifications() == []


def test_reporting_reports_and_scores_every_rule_of_the_framework(config, capsys):
    # Hand-computed: every rule has 3 compliant resources, the first two rules also 1 and 4
    # non-compliant ones. Score = compliant / (compliant + non-compliant) combinations.
    count = len(suffixes())
    for index, suffix in enumerate(suffixes()):
        config.add(rule_name(suffix), 3, (1, 4)[index] if index < 2 else 0)
    config.other_rules += ["other-stack-rule", f"{PREFIX}-x-{suffixes()[0]}"]
    config, result = report(config)

    summary = reporting_summary(config, result)
    assert {r["ruleName"] for r in summary["rules"]} == {rule_name(s) for s in suffixes()}
    assert summary["totals"]["rules"] == count
    [framework] = summary["frameworks"]
    compliant, non_compliant = 3 * count, 5
    assert (framework["compliant"], framework["nonCompliant"]) == (compliant, non_compliant)
    assert framework["score"] == round(100 * compliant / (compliant + non_compliant), 2)
    if count == 130:  # the rulebook of today: 390 / 395
        assert framework["score"] == 98.73
    assert framework["rules"] == framework["rulesDeployed"] == count
    assert framework["nonCompliantRules"] == sorted(rule_name(s) for s in suffixes()[:2])
    assert framework["manualRules"] == [] and framework["controls"] == []
    assert config.calls["DescribeConfigRules"] == math.ceil((count + 2) / 25)
    assert config.calls["GetComplianceDetailsByConfigRule"] == count

    metrics = emf_metrics(capsys.readouterr().out)
    [score] = [m for m in metrics if "Framework" in m]
    assert score["Framework"] == FRAMEWORK
    assert (score["ComplianceScore"], score["NonCompliantResources"]) == (
        framework["score"],
        non_compliant,
    )
    directive = score["_aws"]["CloudWatchMetrics"][0]
    assert directive["Dimensions"] == [["Framework"]]
    assert directive["Namespace"] == "ComplianceMonitoring"
    assert directive["Metrics"] == [
        {"Name": "ComplianceScore", "Unit": "Percent"},
        {"Name": "NonCompliantResources", "Unit": "Count"},
    ]
    assert sum("RuleName" in m for m in metrics) == count


def reporting_summary(config, result):
    import aws

    body = aws.client("s3").get_object(Bucket=BUCKET, Key=f"{result['prefix']}summary.json")
    return json.loads(body["Body"].read())


def _manual_framework() -> tuple[str, str, list[str]]:
    """A framework holding a manual rule, the manual rule and three of its other rules."""
    known = rulebook.frameworks()
    for name, framework in sorted(known.items()):
        manual = [s for s in framework.rules if rulebook.text(rulebook.names()[s]).manual]
        others = [s for s in framework.rules if s not in manual]
        if manual and len(others) >= 3:
            return name, manual[0], others[:3]
    raise AssertionError("no framework of the rulebook holds a manual rule")


@pytest.mark.parametrize(("recorded", "score"), [(0, 50.0), (1, 57.14)])
def test_manual_rules_are_manual_until_a_person_records_a_result(
    world, monkeypatch, recorded, score
):
    name, manual, (first, second, absent) = _manual_framework()
    monkeypatch.setenv("FRAMEWORKS", name)
    fake = FakeConfig()
    fake.attach(world.aws.client("config"))
    fake.add(rule_name(first), 3, 1)
    fake.add(rule_name(second), 0, 2)
    fake.add(rule_name(manual), recorded, 0)  # a person records a result, or nobody has yet
    summary = reporting_summary(*report(fake))

    [framework] = summary["frameworks"]
    # 3 compliant of 6 combinations; a recorded manual result adds one compliant: 4 of 7.
    assert framework["score"] == score
    assert framework["rules"] == len(rulebook.frameworks()[name].rules)
    assert framework["rulesDeployed"] == 3
    assert framework["nonCompliantRules"] == sorted([rule_name(first), rule_name(second)])
    statuses = {r["ruleName"]: r["status"] for r in framework["ruleResults"]}
    assert statuses[rule_name(manual)] == ("compliant" if recorded else "manual")
    assert framework["manualRules"] == ([] if recorded else [rule_name(manual)])
    assert statuses[rule_name(absent)] == "not deployed"
    assert statuses[rule_name(second)] == "non-compliant"


def test_a_framework_without_results_has_no_score_and_no_score_metric(world, monkeypatch, capsys):
    monkeypatch.setenv("FRAMEWORKS", FRAMEWORK)
    fake = FakeConfig()
    fake.attach(world.aws.client("config"))
    fake.add(rule_name(suffixes()[0]), 0, 0)
    summary = reporting_summary(*report(fake))
    assert summary["frameworks"][0]["score"] is None
    [metric] = [m for m in emf_metrics(capsys.readouterr().out) if "Framework" in m]
    assert "ComplianceScore" not in metric and metric["NonCompliantResources"] == 0
    [note] = world.notifications()
    assert (
        f"{FRAMEWORK} (" in note["message"] and "no results (INSUFFICIENT_DATA)" in note["message"]
    )


def test_a_framework_with_controls_groups_its_rules_by_control(world, monkeypatch):
    first, second, third = suffixes()[:3]
    pack = rulebook.Framework(
        "Test pack",
        (first, second, third),
        {
            "1.1": rulebook.Control("Ensure the first", (first,)),
            "1.2": rulebook.Control("Ensure the rest", (second, third)),
        },
    )
    monkeypatch.setattr(rulebook, "frameworks", lambda: {"test-pack": pack})
    monkeypatch.setenv("FRAMEWORKS", "test-pack")
    fake = FakeConfig()
    fake.attach(world.aws.client("config"))
    fake.add(rule_name(first), 2, 0)
    fake.add(rule_name(second), 1, 1)
    config, result = report(fake)
    summary = reporting_summary(config, result)

    [framework] = summary["frameworks"]
    assert framework["controls"] == [
        {
            "control": "1.1",
            "title": "Ensure the first",
            "status": "compliant",
            "rules": [rule_name(first)],
        },
        {
            "control": "1.2",
            "title": "Ensure the rest",
            "status": "non-compliant",
            "rules": [rule_name(second), rule_name(third)],
        },
    ]
    html = world.read(f"{result['prefix']}report.html").decode()
    control = '<tr class="control"><th scope="rowgroup" colspan="5">'
    assert f"{control}1.1 Ensure the first: compliant</th></tr>\n<tr><td>{rule_name(first)}" in html
    assert (
        f"{control}1.2 Ensure the rest: non-compliant</th></tr>\n<tr><td>{rule_name(second)}"
        in html
    )
    [note] = world.notifications()
    assert "non-compliant controls: 1.2\n" in note["message"]
    rows = world.read(f"{result['prefix']}details.csv").decode().splitlines()
    assert rows[0].endswith(",frameworks,exemption") and rows[1].endswith(",test-pack,")


@pytest.mark.parametrize(
    ("value", "shown"),
    [("no-such-framework", "no-such-framework"), (f"{FRAMEWORK},nope", "nope")],
)
def test_frameworks_must_be_in_the_rulebook(world, monkeypatch, value, shown):
    import settings

    monkeypatch.setenv("FRAMEWORKS", value)
    for function, event in ((processing, change_event()), (reporting, SCHEDULED)):
        with pytest.raises(settings.ConfigurationError) as caught:
            function.handler(event, lambda_context())
        message = str(caught.value)
        assert message.startswith(f"environment variable FRAMEWORKS is {value!r}; allowed:")
        assert f"(not {shown}): " in message and FRAMEWORK in message


@pytest.mark.parametrize("value", ["", " "])
def test_empty_frameworks_is_a_stack_of_rules_only(world, monkeypatch, capsys, value):
    monkeypatch.setenv("FRAMEWORKS", value)
    fake = FakeConfig()
    fake.attach(world.aws.client("config"))
    fake.add(rule_name(suffixes()[0]), 1, 1)
    assert reporting_summary(*report(fake))["frameworks"] == []
    assert not [m for m in emf_metrics(capsys.readouterr().out) if "Framework" in m]
    assert "Frameworks" not in world.notifications()[0]["message"]


def test_remediation_acts_only_on_the_rules_it_remediates(stack):
    """Every rule of the framework handed over: those without a remediation module are skipped
    without a read; a name that is not the stack's, or another rule's identifier, is ignored."""
    names = rulebook.names()
    remediated = set()
    for index, suffix in enumerate(suffixes()):
        message = finding("AWS::S3::Bucket", f"missing-bucket-{index}")
        message.update(ruleName=rule_name(suffix), ruleIdentifier=names[suffix])
        result = remediation.handler(message, lambda_context(f"req-{index}", "remediation"))
        assert result["status"] == "decided", suffix
        identifier = names[suffix]
        if rulebook.text(identifier).remediation is None:
            assert result["reason"] == f"no automatic remediation exists for {identifier}"
        else:
            remediated.add(identifier)
            assert result["reason"] != f"no automatic remediation exists for {identifier}"
    assert remediated == {
        names[s] for s in suffixes() if rulebook.text(names[s]).remediation is not None
    }
    message = finding("AWS::S3::Bucket", "b")
    first = suffixes()[0]
    another = next(i for i in rulebook.rules() if i != names[first])
    for name, identifier in (
        (f"other-{first}", names[first]),
        (rule_name(first), another),
        (f"{PREFIX}-no-such-rule-suffix", names[first]),
    ):
        message.update(ruleName=name, ruleIdentifier=identifier)
        result = remediation.handler(message, lambda_context("req-x", "remediation"))
        assert result == {"status": "ignored", "rule": name}


def test_rule_status_orders_a_controls_statuses():
    assert scores.STATUS_ORDER[0] == "non-compliant" and scores.STATUS_ORDER[-1] == "compliant"
    assert scores.score(0, 0) is None and scores.score(1, 2) == 33.33


def test_frameworks_are_read_in_order_without_blanks_or_repeats(world, monkeypatch):
    import os

    import settings

    first, second = sorted(rulebook.frameworks())[:2]
    monkeypatch.setenv("FRAMEWORKS", f" {second}, {first},,{second}, ")
    assert settings.common(os.environ).frameworks == (second, first)
