"""What invokes the functions: compliance-change events, the report schedule and, for
processing, the daily exemption review (with exemptions) and the digest (with digest rules)."""

from __future__ import annotations

import json

from troposphere import GetAtt, Ref, Sub, awslambda, events, sqs

from . import policies
from .report_engine import ROLE as REPORT_ENGINE
from .stack import Stack

# Processing tells exemption owners of expiries once a day; the constant Input is what
# processing's handler dispatches on.
EXEMPTION_REVIEW_KIND = "exemption-review"
# The digest job of processing, on the DigestSchedule (stacks with `digest` rules).
DIGEST_KIND = "digest"
# EventBridge's own retries before a target's event goes to the dead-letter queue.
TARGET_RETRY = events.RetryPolicy(MaximumRetryAttempts=8, MaximumEventAgeInSeconds=3600)


def compliance_event_pattern() -> dict[str, object]:
    """Compliance changes of every rule named `<RuleNamePrefix>-...`: EventBridge prefix matching,
    so the pattern's size does not grow with the rules (EventBridge allows 2,048 characters).
    Other rules sharing the prefix reach processing too, which ignores rules not in its RULES."""
    return {
        "source": ["aws.config"],
        "detail-type": ["Config Rules Compliance Change"],
        "detail": {"configRuleName": [{"prefix": Sub("${RuleNamePrefix}-")}]},
    }


def add_triggers(stack: Stack) -> None:
    """Compliance changes for processing and the schedule for reporting, where they run."""
    event_rules = []
    if "processing" in stack.functions:
        event_rules.append(
            _rule(
                stack,
                "ComplianceChangeRule",
                "processing",
                "Compliance changes of this stack's Config rules",
                EventPattern=compliance_event_pattern(),
            )
        )
    if "processing" in stack.functions and stack.settings.digest:
        # Processing's scheduled job: its handler dispatches on the constant input's "kind".
        event_rules.append(
            _rule(
                stack,
                "DigestScheduleRule",
                "processing",
                "Schedule of the per-rule notification digest",
                ScheduleExpression=Ref("DigestSchedule"),
                target_input=json.dumps({"kind": DIGEST_KIND}, sort_keys=True),
            )
        )
    if "processing" in stack.functions and stack.settings.exemptions:
        event_rules.append(
            _rule(
                stack,
                "ExemptionReviewRule",
                "processing",
                "Daily review of this stack's exemptions: owners are told of expiries",
                target_input=json.dumps({"kind": EXEMPTION_REVIEW_KIND}, sort_keys=True),
                ScheduleExpression="rate(1 day)",
            )
        )
    if "reporting" in stack.functions and REPORT_ENGINE in stack.ids:
        event_rules.append(_report_engine_rule(stack))
    elif "reporting" in stack.functions:
        event_rules.append(
            _rule(
                stack,
                "ReportScheduleRule",
                "reporting",
                "Schedule of the compliance report",
                ScheduleExpression=Ref("ReportSchedule"),
            )
        )
    queue = stack.id("queue")
    stack.add(
        sqs.QueuePolicy(
            "DeadLetterQueuePolicy",
            Queues=[Ref(queue)],
            PolicyDocument=policies.queue_policy(
                GetAtt(queue, "Arn"), [GetAtt(rule, "Arn") for rule in event_rules]
            ),
        )
    )


def _report_engine_rule(stack: Stack) -> events.Rule:
    """The schedule starts the report state machine (org-central): the scheduled event, with
    its ``time``, is the execution's input."""
    return stack.add(
        events.Rule(
            "ReportScheduleRule",
            Description="Schedule of the compliance report (starts the report state machine)",
            State="ENABLED",
            ScheduleExpression=Ref("ReportSchedule"),
            Targets=[
                events.Target(
                    Id="report-state-machine",
                    Arn=Ref(stack.id(REPORT_ENGINE)),
                    RoleArn=GetAtt(stack.id("report-schedule-role"), "Arn"),
                    RetryPolicy=TARGET_RETRY,
                    DeadLetterConfig=events.DeadLetterConfig(Arn=GetAtt(stack.id("queue"), "Arn")),
                )
            ],
        )
    )


def _rule(
    stack: Stack,
    title: str,
    function: str,
    description: str,
    target_input: str | None = None,
    **source: object,
) -> events.Rule:
    function_id = stack.id(f"{function}-function")
    rule = stack.add(
        events.Rule(
            title,
            Description=description,
            State="ENABLED",
            Targets=[
                events.Target(
                    Id=function,
                    Arn=GetAtt(function_id, "Arn"),
                    **({"Input": target_input} if target_input is not None else {}),
                    RetryPolicy=TARGET_RETRY,
                    DeadLetterConfig=events.DeadLetterConfig(Arn=GetAtt(stack.id("queue"), "Arn")),
                )
            ],
            **source,
        )
    )
    stack.add(
        awslambda.Permission(
            f"{title}Permission",
            FunctionName=Ref(function_id),
            Action="lambda:InvokeFunction",
            Principal="events.amazonaws.com",
            SourceArn=GetAtt(rule, "Arn"),
            SourceAccount=Ref("AWS::AccountId"),
        )
    )
    return rule
