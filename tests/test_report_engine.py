"""The report state machine of org-central: its definition drives the reporting function's
phases, the schedule starts it, and each role may do only its part."""

from __future__ import annotations

import json

import pytest
from template_helpers import TEMPLATES, resolve, resources_of, statements

from compliance_template.generator.report_engine import definition


def load(name: str) -> dict:
    return json.loads((TEMPLATES / name).read_text())


@pytest.fixture(scope="module")
def central() -> dict:
    return load("org-central.json")


def machine(template: dict) -> dict:
    (found,) = resources_of(template, "AWS::StepFunctions::StateMachine").values()
    return found["Properties"]


def test_the_definition_resolves_to_the_phases_of_the_reporting_function(central):
    sub = machine(central)["DefinitionString"]
    # The integration's ARN follows the partition (aws-cn, aws-us-gov).
    assert "arn:${AWS::Partition}:states:::lambda:invoke" in sub["Fn::Sub"][0]
    text = resolve(sub, central, "us-east-1", {})
    states = json.loads(text)["States"]
    partition = "aws"
    assert states["Start"]["Parameters"] == {"time.$": "$.time", "phase": "collect"}
    for name in ("Collect", "Report"):
        task = states[name]
        assert task["Resource"] == f"arn:{partition}:states:::lambda:invoke"
        assert task["Parameters"]["FunctionName"].endswith("reportingfunction")
        assert task["Parameters"]["Payload.$"] == "$"
        assert [r["ErrorEquals"][-1] for r in task["Retry"]][-1] == "States.ALL"
    # Collect loops until the function answers phase "report", which then runs once and ends.
    assert states["Collect"]["Next"] == "Collected"
    assert states["Collected"]["Choices"] == [
        {"Variable": "$.phase", "StringEquals": "report", "Next": "Report"}
    ]
    assert states["Collected"]["Default"] == "Collect"
    assert states["Report"]["End"] is True
    assert json.loads(text) == json.loads(
        json.dumps(definition())
        .replace("${AWS::Partition}", partition)
        .replace("${ReportingArn}", states["Collect"]["Parameters"]["FunctionName"])
    )


def test_the_state_machine_is_standard_encrypted_and_logs_errors(central):
    properties = machine(central)
    assert properties["StateMachineType"] == "STANDARD"
    encryption = properties["EncryptionConfiguration"]
    assert encryption["Type"] == "CUSTOMER_MANAGED_KMS_KEY"
    assert encryption["KmsKeyId"] == {"Fn::GetAtt": ["ComplianceKey", "Arn"]}
    logging = properties["LoggingConfiguration"]
    assert (logging["Level"], logging["IncludeExecutionData"]) == ("ERROR", False)
    group = logging["Destinations"][0]["CloudWatchLogsLogGroup"]["LogGroupArn"]["Fn::GetAtt"][0]
    assert central["Resources"][group]["Properties"]["KmsKeyId"] == {
        "Fn::GetAtt": ["ComplianceKey", "Arn"]
    }


def test_the_schedule_starts_the_state_machine_with_a_role_that_may_only_start_it(central):
    rule = central["Resources"]["ReportScheduleRule"]["Properties"]
    (target,) = rule["Targets"]
    assert target["Arn"] == {"Ref": "ReportStateMachine"}
    assert target["DeadLetterConfig"] and target["RetryPolicy"]
    role = target["RoleArn"]["Fn::GetAtt"][0]
    trust = central["Resources"][role]["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert [s["Principal"] for s in trust] == [{"Service": ["events.amazonaws.com"]}]
    policies = [
        r["Properties"]["PolicyDocument"]
        for r in resources_of(central, "AWS::IAM::ManagedPolicy").values()
        if {"Ref": role} in r["Properties"]["Roles"]
    ]
    (document,) = policies
    granted = statements(document)
    assert granted["StartReport"]["Action"] == ["states:StartExecution"]
    name = resolve(granted["StartReport"]["Resource"][0], central, "us-east-1", {})
    assert name == "arn:aws:states:us-east-1:123456789012:stateMachine:compliance-monitoring-report"
    assert machine(central)["StateMachineName"] == {"Fn::Sub": "${AWS::StackName}-report"}
    # No function is invoked by the schedule in the central account any more.
    assert not any(
        p["Properties"]["Principal"] == "events.amazonaws.com"
        for p in resources_of(central, "AWS::Lambda::Permission").values()
    )


def test_the_state_machine_role_invokes_only_the_reporting_function(central):
    role = machine(central)["RoleArn"]["Fn::GetAtt"][0]
    (document,) = [
        r["Properties"]["PolicyDocument"]
        for r in resources_of(central, "AWS::IAM::ManagedPolicy").values()
        if {"Ref": role} in r["Properties"]["Roles"]
    ]
    invoke = statements(document)["InvokeReporting"]
    assert invoke["Action"] == ["lambda:InvokeFunction"]
    assert invoke["Resource"][0] == {"Fn::GetAtt": ["ReportingFunction", "Arn"]}
    key = statements(document)["UseKeyForTheReportStateMachine"]
    assert set(key["Condition"]["StringEquals"]) == {
        "kms:EncryptionContext:aws:states:stateMachineArn"
    }


@pytest.mark.parametrize("name", ["compliance-monitoring.json", "org-member.json"])
def test_other_templates_have_no_state_machine(name):
    template = load(name)
    assert resources_of(template, "AWS::StepFunctions::StateMachine") == {}
