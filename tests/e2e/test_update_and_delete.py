"""After the first deploy (conftest.py), in this order: an update with changed parameters that
replaces no stateful resource, the same deploy again as an empty change set, and the delete of
`make destroy`. Each test continues from the state the previous one left."""

from __future__ import annotations

import io

import pytest
from e2e_checks import check_alarms, check_bucket, check_functions, check_log_groups

from compliance_template.local.cycle import STACK, UPDATE_CANDIDATES
from compliance_template.stateful import STATEFUL_TYPES, replacing_parameters


@pytest.fixture(scope="module")
def updated(stack) -> dict:
    """The update's changed parameters and the physical ids from before it."""
    before = {"physical": dict(stack.physical), "parameters": dict(stack.parameters)}
    stack.update()
    changed = {k for k, v in stack.parameters.items() if before["parameters"].get(k) != v}
    return {**before, "changed": changed}


def stateful(stack) -> list[str]:
    return sorted(k for k, t in stack.types.items() if t in STATEFUL_TYPES)


def test_the_update_puts_every_changed_parameter_in_effect(stack, updated):
    assert set(UPDATE_CANDIDATES) <= updated["changed"]
    check_bucket(stack)
    check_log_groups(stack)
    check_functions(stack)
    check_alarms(stack)
    variables = stack.client("lambda").get_function_configuration(
        FunctionName=stack.physical["RemediationFunction"]
    )["Environment"]["Variables"]
    assert variables["REMEDIATION_MODE"] == stack.parameters["RemediationMode"]


def test_the_update_keeps_every_stateful_resource(stack, updated):
    kept = stateful(stack)
    assert {"ReportsBucket", "ComplianceKey", "NotificationTopic", "DeadLetterQueue"} <= set(kept)
    assert [k for k in kept if updated["physical"].get(k) != stack.physical.get(k)] == []


def test_no_changed_parameter_would_replace_a_stateful_resource_in_aws(stack, updated):
    for logical in stateful(stack):
        hits = replacing_parameters(stack.stack_template, logical, updated["changed"])
        assert hits == {}, logical


def test_the_same_deploy_again_is_an_empty_change_set(stack, updated):
    before, shown = dict(stack.physical), io.StringIO()
    stack.redeploy_unchanged(out=shown)
    assert "No changes to deploy" in shown.getvalue()
    assert stack.physical == before


def test_destroy_deletes_the_stack_and_keeps_the_bucket_and_key(stack, updated):
    topic = stack.physical["NotificationTopic"]
    kept = stack.destroy()
    stacks = stack.client("cloudformation").describe_stacks()["Stacks"]
    assert STACK not in [s["StackName"] for s in stacks]
    assert {r.logical_id for r in kept} == {"ReportsBucket", "ComplianceKey"}
    assert all(r.still_exists for r in kept), kept
    assert stack.client("lambda").list_functions()["Functions"] == []
    groups = stack.client("logs").describe_log_groups(logGroupNamePrefix=f"/compliance/{STACK}")
    assert groups["logGroups"] == []
    queues = stack.client("sqs").list_queues(QueueNamePrefix=f"{STACK}-DeadLetterQueue")
    assert not queues.get("QueueUrls")
    assert stack.client("config").describe_config_rules()["ConfigRules"] == []
    assert topic not in [t["TopicArn"] for t in stack.client("sns").list_topics()["Topics"]]
    assert stack.client("cloudwatch").describe_alarms()["MetricAlarms"] == []
