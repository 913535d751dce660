"""The report state machine of the organization's central account (Step Functions, standard).

An organization's report can outlast one 15-minute Lambda invocation. The state machine invokes
the reporting function with ``phase: collect`` until the function answers ``phase: report``
(each segment continues from the state the last one saved in the reports bucket), then once with
``phase: report`` (docs/organization.md, "Which path runs when"). The schedule starts it instead
of invoking the function. Single-account templates keep the schedule invoking the function.
"""

from __future__ import annotations

import json

from troposphere import GetAtt, Ref, Sub, cloudwatch, iam, logs, stepfunctions

from . import policies
from .alarms import alarm
from .stack import Stack
from .suppressions import resource_policy_lint_metadata

ROLE = "report-state-machine"
# Named, so its ARN is known before it exists: the roles' policies name it, and Step Functions
# checks the execution role's log delivery permissions when it creates the state machine.
NAME = "${AWS::StackName}-report"
ARN = f"arn:${{AWS::Partition}}:states:${{AWS::Region}}:${{AWS::AccountId}}:stateMachine:{NAME}"
# Lambda's transient errors (Step Functions developer guide, "Handling errors in Lambda tasks"),
# then anything else: a failed segment resumes from its checkpoint.
RETRY = [
    {
        "ErrorEquals": [
            "Lambda.ServiceException",
            "Lambda.AWSLambdaException",
            "Lambda.SdkClientException",
            "Lambda.TooManyRequestsException",
        ],
        "IntervalSeconds": 2,
        "MaxAttempts": 6,
        "BackoffRate": 2,
        "JitterStrategy": "FULL",
    },
    {"ErrorEquals": ["States.ALL"], "IntervalSeconds": 60, "MaxAttempts": 3, "BackoffRate": 2},
]


def _invoke(result_selector: dict[str, str], **next_state: object) -> dict[str, object]:
    return {
        "Type": "Task",
        "Resource": "arn:${AWS::Partition}:states:::lambda:invoke",
        "Parameters": {"FunctionName": "${ReportingArn}", "Payload.$": "$"},
        "ResultSelector": result_selector,
        "Retry": RETRY,
        **next_state,
    }


def definition() -> dict[str, object]:
    """The definition, with ``${AWS::Partition}`` and ``${ReportingArn}`` substituted on deploy
    (a ``Fn::Sub`` string, which cfn-lint resolves and checks; ``DefinitionSubstitutions`` it
    does not apply)."""
    return {
        "Comment": "Organization compliance report: collect in segments until done, then report",
        "StartAt": "Start",
        "States": {
            "Start": {
                "Type": "Pass",
                "Parameters": {"time.$": "$.time", "phase": "collect"},
                "Next": "Collect",
            },
            "Collect": _invoke(
                {"time.$": "$.Payload.time", "phase.$": "$.Payload.phase"}, Next="Collected"
            ),
            "Collected": {
                "Type": "Choice",
                "Choices": [{"Variable": "$.phase", "StringEquals": "report", "Next": "Report"}],
                "Default": "Collect",
            },
            "Report": _invoke({"status.$": "$.Payload.status"}, End=True),
        },
    }


def add_report_engine(stack: Stack) -> None:
    key_arn = GetAtt(stack.id("key"), "Arn")
    function_arn = GetAtt(stack.id("reporting-function"), "Arn")
    role = stack.add(
        iam.Role(
            "ReportStateMachineRole",
            Description=Sub("Runs the report state machine of ${AWS::StackName}"),
            AssumeRolePolicyDocument=policies.assume_role("states"),
        )
    )
    policy = stack.add(
        iam.ManagedPolicy(
            "ReportStateMachineManagedPolicy",
            Description=Sub("What the report state machine of ${AWS::StackName} may do"),
            PolicyDocument=policies.report_engine_policy(function_arn, key_arn, Sub(ARN)),
            Roles=[Ref(role)],
            Metadata=resource_policy_lint_metadata("ReportStateMachineManagedPolicy"),
        )
    )
    log_group = stack.add(
        logs.LogGroup(
            "ReportStateMachineLogGroup",
            LogGroupName=Sub("/compliance/${AWS::StackName}/report-state-machine"),
            KmsKeyId=key_arn,
            RetentionInDays=Ref("LogRetentionDays"),
            DeletionPolicy="Delete",
            UpdateReplacePolicy="Delete",
        )
    )
    machine = stack.add(
        stepfunctions.StateMachine(
            "ReportStateMachine",
            StateMachineName=Sub(NAME),
            StateMachineType="STANDARD",
            RoleArn=GetAtt(role, "Arn"),
            DefinitionString=Sub(
                json.dumps(definition(), indent=1, sort_keys=True), ReportingArn=function_arn
            ),
            EncryptionConfiguration=stepfunctions.EncryptionConfiguration(
                Type="CUSTOMER_MANAGED_KMS_KEY",
                KmsKeyId=key_arn,
                KmsDataKeyReusePeriodSeconds=300,
            ),
            # Errors only, without the execution data (resource ids, counts).
            LoggingConfiguration=stepfunctions.LoggingConfiguration(
                Level="ERROR",
                IncludeExecutionData=False,
                Destinations=[
                    stepfunctions.LogDestination(
                        CloudWatchLogsLogGroup=stepfunctions.CloudWatchLogsLogGroup(
                            LogGroupArn=GetAtt(log_group, "Arn")
                        )
                    )
                ],
            ),
            DependsOn=[policy.title],
        ),
        role=ROLE,
    )
    stack.add(
        iam.Role(
            "ReportScheduleRole",
            Description=Sub("Starts the report state machine of ${AWS::StackName} on schedule"),
            AssumeRolePolicyDocument=policies.assume_role("events"),
        ),
        role="report-schedule-role",
    )
    stack.add(
        iam.ManagedPolicy(
            "ReportScheduleManagedPolicy",
            Description=Sub("What the report schedule of ${AWS::StackName} may start"),
            PolicyDocument=policies.report_schedule_policy(Sub(ARN), key_arn),
            Roles=[Ref(stack.id("report-schedule-role"))],
        )
    )
    stack.output("ReportStateMachineArn", "State machine that writes the report", Ref(machine))
    alarm(
        stack,
        "ReportStateMachineFailedAlarm",
        "A report run failed after every retry: the report state machine's log group and the "
        "execution's history say where.",
        "AWS/States",
        "ExecutionsFailed",
        [cloudwatch.MetricDimension(Name="StateMachineArn", Value=Ref(machine))],
        statistic="Sum",
        period=300,
        threshold=1,
        comparison="GreaterThanOrEqualToThreshold",
        missing="notBreaching",
    )
