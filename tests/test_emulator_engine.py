"""The in-process state machine interpreter (local/engine.py) on the organization report's
definition (the issue 15 contract), and a state machine deployed on the emulator and run there."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

import boto3
import pytest

from compliance_template.generator.report_engine import definition
from compliance_template.local.engine import (
    StepLimitExceeded,
    TaskError,
    UnsupportedState,
    run_state_machine,
)

FUNCTION = "arn:aws:lambda:eu-west-1:123456789012:function:reporting"
TIME = "2026-12-03T06:00:00Z"
# The generator's own definition, with what CloudFormation substitutes on deploy.
REPORT_DEFINITION = json.loads(
    json.dumps(definition())
    .replace("${AWS::Partition}", "aws")
    .replace("${ReportingArn}", FUNCTION)
)


class FakeReporting:
    """The reporting handler's contract: "collect" until `segments` are read, then "report"."""

    def __init__(self, segments: int = 3, failures: list[Exception] | None = None) -> None:
        self.segments, self.failures = segments, list(failures or [])
        self.calls: list[tuple[str, dict]] = []

    def __call__(self, function: str, payload: dict) -> dict:
        self.calls.append((function, payload))
        if self.failures:
            raise self.failures.pop(0)
        if payload["phase"] == "report":
            return {"status": "reported", "prefix": "reports/x/", "totals": {}}
        collected = sum(1 for _, p in self.calls if p["phase"] == "collect")
        phase = "report" if collected >= self.segments else "collect"
        return {"time": payload["time"], "phase": phase}

    def phases(self) -> list[str]:
        return [payload["phase"] for _, payload in self.calls]


def test_the_report_definition_collects_until_done_then_reports_once():
    reporting = FakeReporting(segments=3)
    result = run_state_machine(REPORT_DEFINITION, {"time": TIME, "id": "ignored"}, reporting)
    assert result["status"] == "SUCCEEDED"
    assert result["output"] == {"status": "reported"}
    assert reporting.phases() == ["collect", "collect", "collect", "report"]
    # Start's Parameters dropped everything but the time; every segment carries the same one.
    assert all(
        payload == {"time": TIME, "phase": p}
        for (_, payload), p in zip(reporting.calls, reporting.phases(), strict=True)
    )
    assert {function for function, _ in reporting.calls} == {FUNCTION}
    entered = [step["entered"] for step in result["history"] if "entered" in step]
    assert entered == ["Start"] + ["Collect", "Collected"] * 3 + ["Report"]


def test_a_failed_segment_is_retried_with_the_intervals_step_functions_would_wait():
    reporting = FakeReporting(
        segments=1,
        failures=[
            TimeoutError("budget"),
            TaskError("Lambda.TooManyRequestsException"),
            RuntimeError("again"),
        ],
    )
    result = run_state_machine(REPORT_DEFINITION, {"time": TIME}, reporting)
    assert result["status"] == "SUCCEEDED"
    retries = [step for step in result["history"] if "retry" in step]
    # Each retrier counts its own attempts and backs off from its own interval.
    assert retries == [
        {"retry": "Collect", "error": "TimeoutError", "attempt": 1, "interval": 60.0},
        {
            "retry": "Collect",
            "error": "Lambda.TooManyRequestsException",
            "attempt": 1,
            "interval": 2.0,
        },
        {"retry": "Collect", "error": "RuntimeError", "attempt": 2, "interval": 120.0},
    ]
    assert reporting.phases() == ["collect"] * 4 + ["report"]


def test_an_error_past_its_retriers_attempts_fails_the_execution():
    reporting = FakeReporting(failures=[ValueError(f"bad {n}") for n in range(4)])
    result = run_state_machine(REPORT_DEFINITION, {"time": TIME}, reporting)
    assert (result["status"], result["error"], result["cause"]) == ("FAILED", "ValueError", "bad 3")
    assert [step["attempt"] for step in result["history"] if "retry" in step] == [1, 2, 3]


def test_a_retrier_matches_by_name_and_task_failed():
    definition = copy.deepcopy(REPORT_DEFINITION)
    definition["States"]["Collect"]["Retry"] = [
        {"ErrorEquals": ["KeyError"], "MaxAttempts": 1},
        {"ErrorEquals": ["States.TaskFailed"], "MaxAttempts": 1, "IntervalSeconds": 5},
    ]
    reporting = FakeReporting(segments=1, failures=[KeyError("k"), OSError("o"), OSError("p")])
    result = run_state_machine(definition, {"time": TIME}, reporting)
    assert result["status"] == "FAILED" and result["error"] == "OSError"
    assert [(s["error"], s["interval"]) for s in result["history"] if "retry" in s] == [
        ("KeyError", 1.0),
        ("OSError", 5.0),
    ]


def choice_definition(**choice: object) -> dict:
    return {
        "StartAt": "Pick",
        "States": {
            "Pick": {"Type": "Choice", **choice},
            "Yes": {"Type": "Pass", "Result": "yes", "End": True},
            "No": {"Type": "Fail", "Error": "Picked.No", "Cause": "the default"},
        },
    }


def test_choice_takes_the_default_when_no_rule_matches_and_compares_types_strictly():
    rules = [
        {"Variable": "$.a.b", "NumericEquals": 1, "Next": "Yes"},
        {"Variable": "$.flag", "BooleanEquals": True, "Next": "Yes"},
    ]
    definition = choice_definition(Choices=rules, Default="No")
    assert run_state_machine(definition, {"a": {"b": 1}, "flag": 0}, FakeReporting())["output"] == (
        "yes"
    )
    # True is not the number 1, nor 1 the boolean true.
    failed = run_state_machine(definition, {"a": {"b": True}, "flag": 1}, FakeReporting())
    assert (failed["status"], failed["error"], failed["cause"]) == (
        "FAILED",
        "Picked.No",
        "the default",
    )
    no_default = choice_definition(Choices=rules)
    result = run_state_machine(no_default, {"a": {"b": 2}, "flag": False}, FakeReporting())
    assert result["error"] == "States.NoChoiceMatched"


def test_paths_read_the_context_object_and_result_path_places_the_result():
    definition = {
        "StartAt": "Keep",
        "States": {
            "Keep": {
                "Type": "Pass",
                "Parameters": {"id.$": "$$.Execution.Id", "first.$": "$$.Execution.Input.n"},
                "ResultPath": "$.context.seen",
                "Next": "Drop",
            },
            "Drop": {"Type": "Pass", "Result": {"x": 1}, "ResultPath": None, "End": True},
        },
    }
    result = run_state_machine(definition, {"n": 7}, FakeReporting(), execution_id="arn:exec")
    assert result["output"] == {"n": 7, "context": {"seen": {"id": "arn:exec", "first": 7}}}
    missing = run_state_machine(definition, {}, FakeReporting())
    assert missing["status"] == "FAILED" and missing["error"] == "States.Runtime"


def put(path: str, value: object) -> Callable[[dict], None]:
    """A change to the definition: set the value at a path of keys and list indexes."""

    def change(definition: dict) -> None:
        *parents, last = path.split("/")
        target: Any = definition
        for key in parents:
            target = target[int(key) if isinstance(target, list) else key]
        target[int(last) if isinstance(target, list) else last] = value

    return change


ONLY_STRING_MATCHES = {"Variable": "$.phase", "StringMatches": "r*", "Next": "Report"}


@pytest.mark.parametrize(
    ("change", "state", "field"),
    [
        (put("States/Collect/Catch", []), "Collect", "Catch"),
        (put("States/Wait", {"Type": "Wait", "Seconds": 1, "End": True}), "Wait", "Type"),
        (put("States/Collect/Resource", "arn:aws:states:::sqs:sendMessage"), "Collect", "Resource"),
        (
            put("States/Collected/Choices/0", ONLY_STRING_MATCHES),
            "Collected",
            "Choices.StringMatches",
        ),
        (
            put("States/Start/Parameters/t.$", "States.Format('{}', $.time)"),
            "Start",
            "Parameters.t.$",
        ),
        (put("States/Collected/Default", "Nowhere"), "Collected", "Default"),
        (put("States/Start/ResultPath", "$.a[0]"), "Start", "ResultPath"),
        (put("States/Report/Next", "Start"), "Report", "Next"),  # and End: true
    ],
)
def test_anything_outside_the_subset_is_refused_before_a_state_runs(change, state, field):
    definition = copy.deepcopy(REPORT_DEFINITION)
    change(definition)
    reporting = FakeReporting()
    with pytest.raises(UnsupportedState) as refused:
        run_state_machine(definition, {"time": TIME}, reporting)
    assert (refused.value.state, refused.value.field) == (state, field)
    assert state in str(refused.value) and field in str(refused.value)
    assert reporting.calls == []


def test_a_loop_that_never_ends_stops_at_max_steps():
    reporting = FakeReporting(segments=10**9)  # never done collecting
    with pytest.raises(StepLimitExceeded, match="more than 50 states"):
        run_state_machine(REPORT_DEFINITION, {"time": TIME}, reporting, max_steps=50)
    assert len(reporting.calls) == 25  # Start, then Collect and Collected in turn


# --- on the emulator -----------------------------------------------------------------------------


def machine_template(definition: dict) -> dict:
    """The org-central shape: the definition as a Fn::Sub string, logs and a schedule."""
    text = json.dumps(definition).replace(FUNCTION, "${Function}")
    role = {"Fn::GetAtt": ["Role", "Arn"]}
    return {
        "Resources": {
            "Role": {
                "Type": "AWS::IAM::Role",
                "Properties": {
                    "AssumeRolePolicyDocument": {
                        "Version": "2012-10-17",
                        "Statement": [
                            {
                                "Effect": "Allow",
                                "Principal": {"Service": "states.amazonaws.com"},
                                "Action": "sts:AssumeRole",
                            }
                        ],
                    }
                },
            },
            "Logs": {"Type": "AWS::Logs::LogGroup", "Properties": {"RetentionInDays": 30}},
            "Machine": {
                "Type": "AWS::StepFunctions::StateMachine",
                "Properties": {
                    "StateMachineType": "STANDARD",
                    "RoleArn": role,
                    "DefinitionString": {"Fn::Sub": [text, {"Function": FUNCTION}]},
                    "LoggingConfiguration": {
                        "Level": "ERROR",
                        "IncludeExecutionData": False,
                        "Destinations": [
                            {
                                "CloudWatchLogsLogGroup": {
                                    "LogGroupArn": {"Fn::GetAtt": ["Logs", "Arn"]}
                                }
                            }
                        ],
                    },
                    "EncryptionConfiguration": {"Type": "AWS_OWNED_KEY"},
                },
            },
            "Schedule": {
                "Type": "AWS::Events::Rule",
                "Properties": {
                    "ScheduleExpression": "cron(0 6 * * ? *)",
                    "Targets": [{"Id": "report", "Arn": {"Ref": "Machine"}, "RoleArn": role}],
                },
            },
        },
        "Outputs": {"Machine": {"Value": {"Ref": "Machine"}}},
    }


def emulator_clients(emulator):
    session = boto3.Session(
        region_name=emulator.region, aws_access_key_id="testing", aws_secret_access_key="testing"
    )
    return (
        session.client("cloudformation", endpoint_url=emulator.endpoint),
        session.client("stepfunctions", endpoint_url=emulator.endpoint),
    )


def machine_arn(cloudformation, stack_name: str) -> str:
    stack = cloudformation.describe_stacks(StackName=stack_name)["Stacks"][0]
    assert stack["StackStatus"].endswith("_COMPLETE"), stack.get("StackStatusReason")
    assert "ROLLBACK" not in stack["StackStatus"], stack.get("StackStatusReason")
    return str(stack["Outputs"][0]["OutputValue"])


@pytest.mark.emulator
def test_a_state_machines_definition_object_type_and_settings_deploy_and_update():
    from compliance_template.local.emulator import Emulator

    template = machine_template(REPORT_DEFINITION)
    properties = template["Resources"]["Machine"]["Properties"]
    properties["Definition"] = json.loads(properties.pop("DefinitionString")["Fn::Sub"][0])
    properties["DefinitionSubstitutions"] = {"Function": FUNCTION}
    properties["StateMachineType"] = "EXPRESS"
    with Emulator(region="eu-west-1") as emulator:
        cloudformation, states = emulator_clients(emulator)
        cloudformation.create_stack(StackName="org", TemplateBody=json.dumps(template))
        arn = machine_arn(cloudformation, "org")
        described = states.describe_state_machine(stateMachineArn=arn)
        assert json.loads(described["definition"]) == REPORT_DEFINITION
        assert described["type"] == "EXPRESS"
        properties["LoggingConfiguration"]["Level"] = "ALL"
        properties["DefinitionSubstitutions"] = {"Function": f"{FUNCTION}:live"}
        cloudformation.update_stack(StackName="org", TemplateBody=json.dumps(template))
        assert machine_arn(cloudformation, "org") == arn  # updated in place
        described = states.describe_state_machine(stateMachineArn=arn)
        assert described["loggingConfiguration"]["level"] == "ALL"
        assert f"{FUNCTION}:live" in described["definition"]


@pytest.mark.emulator
def test_a_state_machine_deployed_on_the_emulator_runs_in_process():
    from compliance_template.local.emulator import Emulator

    with Emulator(region="eu-west-1") as emulator:
        cloudformation, states = emulator_clients(emulator)
        cloudformation.create_stack(
            StackName="org", TemplateBody=json.dumps(machine_template(REPORT_DEFINITION))
        )
        arn = machine_arn(cloudformation, "org")
        described = states.describe_state_machine(stateMachineArn=arn)
        assert json.loads(described["definition"]) == REPORT_DEFINITION
        assert described["loggingConfiguration"]["level"] == "ERROR"
        assert described["type"] == "STANDARD"

        reporting = FakeReporting(segments=2)
        result = emulator.start_report_execution(arn, {"time": TIME}, reporting)
        assert result["status"] == "SUCCEEDED"
        assert [i.payload["phase"] for i in emulator.invocations] == ["collect"] * 2 + ["report"]
        assert {i.function for i in emulator.invocations} == {FUNCTION}
        execution = states.describe_execution(executionArn=result["executionArn"])
        assert execution["status"] == "SUCCEEDED"
        assert json.loads(execution["output"]) == {"status": "reported"}
        assert emulator.server_errors == []
