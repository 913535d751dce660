"""Alarms to the notification topic: function errors and throttles, dead letters, and
non-compliant resources per rule above the threshold."""

from __future__ import annotations

from troposphere import AWSHelperFn, GetAtt, Ref, cloudwatch

from .naming import METRICS_NAMESPACE, framework_stem, logical, rule_name
from .notifications import SUBSCRIPTIONS, redrive_queue_id
from .regions import rule_condition
from .stack import Stack


def add_alarms(stack: Stack) -> None:
    for name in stack.functions:
        function = Ref(stack.id(f"{name}-function"))
        for metric in ("Errors", "Throttles"):
            alarm(
                stack,
                f"{logical(name)}{metric}Alarm",
                f"The {name} function reported {metric.lower()} in the last 5 minutes.",
                "AWS/Lambda",
                metric,
                [cloudwatch.MetricDimension(Name="FunctionName", Value=function)],
                statistic="Sum",
                period=300,
                threshold=1,
                comparison="GreaterThanOrEqualToThreshold",
                missing="notBreaching",
            )
    _queue_alarm(
        stack,
        "DeadLetterQueueAlarm",
        "Events failed every retry and wait in the dead-letter queue: find the cause in the "
        "function logs, then redrive them.",
        stack.id("queue"),
    )
    _add_delivery_alarms(stack)
    # The reporting function publishes these once a run; between runs an alarm keeps its state
    # ("ignore" missing data) instead of flapping back to OK. A framework's rules share one
    # alarm (each alarm is billed monthly: docs/cost.md); listed rules keep one each.
    for framework in stack.settings.frameworks:
        alarm(
            stack,
            f"{framework_stem(framework)}NonCompliantAlarm",
            f"More resources than the threshold are non-compliant with the rules of the "
            f"{framework} framework: the report lists them per rule.",
            METRICS_NAMESPACE,
            "NonCompliantResources",
            [cloudwatch.MetricDimension(Name="Framework", Value=framework)],
            statistic="Maximum",
            period=86400,
            threshold=Ref("NonCompliantThreshold"),
            comparison="GreaterThanThreshold",
            missing="ignore",
        )
    for rule in stack.settings.selection.listed:
        alarm(
            stack,
            f"{rule.stem}NonCompliantAlarm",
            f"More resources than the threshold are non-compliant with {rule.identifier}. "
            f"Runbook: docs/runbooks/{rule.identifier}.md",
            METRICS_NAMESPACE,
            "NonCompliantResources",
            [cloudwatch.MetricDimension(Name="RuleName", Value=rule_name(rule.slug))],
            statistic="Maximum",
            period=86400,
            threshold=Ref("NonCompliantThreshold"),
            comparison="GreaterThanThreshold",
            missing="ignore",
            condition=_existing(stack, rule_condition(rule)),
        )


def _add_delivery_alarms(stack: Stack) -> None:
    """Notifications SNS could not deliver. These alarms notify the same topic, so when an
    endpoint is down their own message may be undeliverable too: it then waits in that
    subscription's redrive queue, which the dashboard shows."""
    alarm(
        stack,
        "NotificationsFailedAlarm",
        "SNS could not deliver notifications of the topic to a subscription: check the "
        "endpoints, then read the undelivered messages in the subscriptions' redrive queues.",
        "AWS/SNS",
        "NumberOfNotificationsFailed",
        [
            cloudwatch.MetricDimension(
                Name="TopicName", Value=GetAtt(stack.id("topic"), "TopicName")
            )
        ],
        statistic="Sum",
        period=300,
        threshold=1,
        comparison="GreaterThanOrEqualToThreshold",
        missing="notBreaching",
    )
    for subscription, condition in SUBSCRIPTIONS:
        queue = redrive_queue_id(subscription)
        _queue_alarm(
            stack,
            f"{queue}Alarm",
            f"Notifications SNS could not deliver to {subscription} wait in {queue} (kept 14 "
            "days): fix the endpoint, then read them there.",
            queue,
            condition,
        )


def _queue_alarm(
    stack: Stack, title: str, description: str, queue: str, condition: str | None = None
) -> None:
    """Any message waiting in the queue: it holds only what could not be delivered."""
    alarm(
        stack,
        title,
        description,
        "AWS/SQS",
        "ApproximateNumberOfMessagesVisible",
        [cloudwatch.MetricDimension(Name="QueueName", Value=GetAtt(queue, "QueueName"))],
        statistic="Maximum",
        period=300,
        threshold=1,
        comparison="GreaterThanOrEqualToThreshold",
        missing="notBreaching",
        condition=condition,
    )


def _existing(stack: Stack, condition: str | None) -> str | None:
    """A rule's region condition, where this template has one (a central account does not)."""
    return condition if condition in stack.template.conditions else None


def alarm(
    stack: Stack,
    title: str,
    description: str,
    namespace: str,
    metric: str,
    dimensions: list[cloudwatch.MetricDimension],
    *,
    statistic: str,
    period: int,
    threshold: int | AWSHelperFn,
    comparison: str,
    missing: str,
    condition: str | None = None,
) -> None:
    topic = Ref(stack.id("topic"))
    conditional = {"Condition": condition} if condition else {}
    stack.add(
        cloudwatch.Alarm(
            title,
            **conditional,
            AlarmDescription=description,
            Namespace=namespace,
            MetricName=metric,
            Dimensions=dimensions,
            Statistic=statistic,
            Period=period,
            EvaluationPeriods=1,
            Threshold=threshold,
            ComparisonOperator=comparison,
            TreatMissingData=missing,
            AlarmActions=[topic],
            OKActions=[topic],
        )
    )
