"""The CloudWatch dashboard: function health and compliance figures per rule.

A metric line is `[namespace, name, dimension name, dimension value, ..., {options}]`: strings,
then at most one options object, last. Anything else is rejected at deploy time ("Invalid metric
field type, only String type is allowed"); `metric_line` is the only way lines are built here.
"""

from __future__ import annotations

import json

from troposphere import FindInMap, Ref, Sub, cloudwatch

from .naming import METRICS_NAMESPACE
from .notifications import SUBSCRIPTIONS, redrive_queue_id
from .selection import RuleChoice
from .stack import Stack

WIDTH, HEIGHT = 12, 6
# The console has its own domain in each partition.
CONSOLE_DOMAINS = {
    "aws": "console.aws.amazon.com",
    "aws-cn": "console.amazonaws.cn",
    "aws-us-gov": "console.amazonaws-us-gov.com",
}
FUNCTION_METRICS = (
    ("Invocations", "Sum"),
    ("Errors", "Sum"),
    ("Duration", "Average"),
    ("Throttles", "Sum"),
)


def metric_line(
    namespace: str, name: str, dimensions: tuple[tuple[str, str], ...], **options: str
) -> list[object]:
    line: list[object] = [namespace, name]
    for dimension, value in dimensions:
        line += [dimension, value]
    if options:
        line.append(dict(sorted(options.items())))
    return line


def _rule_name(rule: RuleChoice) -> str:
    """The rule's name as a Sub placeholder string: names are <prefix>-<slug> in every region,
    so the dashboard needs no reference to a rule a region may not have."""
    return f"${{RuleNamePrefix}}-{rule.slug}"


def _widget(title: str, metrics: list[list[object]], stat: str, period: int) -> dict[str, object]:
    return {
        "type": "metric",
        "width": WIDTH,
        "height": HEIGHT,
        "properties": {
            "title": title,
            "view": "timeSeries",
            "region": "${AWS::Region}",
            "stat": stat,
            "period": period,
            "metrics": metrics,
        },
    }


def dashboard_body(stack: Stack) -> dict[str, object]:
    """The body with `${...}` placeholders that Fn::Sub resolves to names at deploy time."""
    widgets = [
        _widget(
            f"Lambda {metric}",
            [
                metric_line(
                    "AWS/Lambda",
                    metric,
                    (("FunctionName", f"${{{stack.id(name + '-function')}}}"),),
                    label=name,
                )
                for name in stack.functions
            ],
            stat,
            300,
        )
        for metric, stat in FUNCTION_METRICS
    ]
    widgets += _rule_widgets(stack)
    widgets.append(
        _widget(
            "Failed events waiting in the dead-letter queue",
            [
                metric_line(
                    "AWS/SQS",
                    "ApproximateNumberOfMessagesVisible",
                    (("QueueName", f"${{{stack.id('queue')}.QueueName}}"),),
                    label="dead letters",
                )
            ],
            "Maximum",
            300,
        )
    )
    if "topic" in stack.ids:
        widgets.append(_undelivered_notifications_widget(stack))
    for index, widget in enumerate(widgets):
        widget["x"], widget["y"] = (index % 2) * WIDTH, (index // 2) * HEIGHT
    return {"widgets": widgets}


def _rule_widgets(stack: Stack) -> list[dict[str, object]]:
    """One line per listed rule; a framework's rules are summed up per framework, with every
    rule of the stack in one search-based graph, so the body does not grow with the rule count
    and 130 rules do not make 130 lines nobody can read."""
    settings = stack.settings
    listed = settings.selection.listed
    widgets = []
    for framework in settings.frameworks:
        widgets.append(
            _widget(
                f"{framework}: compliance score and non-compliant resources (last report)",
                [
                    metric_line(
                        METRICS_NAMESPACE,
                        "ComplianceScore",
                        (("Framework", framework),),
                        label="score (%)",
                    ),
                    metric_line(
                        METRICS_NAMESPACE,
                        "NonCompliantResources",
                        (("Framework", framework),),
                        label="non-compliant resources",
                        yAxis="right",
                    ),
                ],
                "Maximum",
                3600,
            )
        )
    if settings.frameworks:
        widgets.append(_search_widget(stack, "NonCompliantResources", "Maximum"))
        if "processing" in stack.functions:
            widgets.append(_search_widget(stack, "ComplianceChange", "Sum"))
    if settings.exemptions and "reporting" in stack.functions:
        # Reporting emits ExemptResources only in a stack with exemptions; exempt results are
        # not in NonCompliantResources, so this is where they stay visible.
        widgets.append(_search_widget(stack, "ExemptResources", "Maximum"))
    if listed:
        widgets.append(
            _widget(
                "Non-compliant resources per rule (from the last report)",
                [
                    metric_line(
                        METRICS_NAMESPACE,
                        "NonCompliantResources",
                        (("RuleName", _rule_name(rule)),),
                        label=rule.identifier,
                    )
                    for rule in listed
                ],
                "Maximum",
                3600,
            )
        )
    if listed and "processing" in stack.functions:
        # Processing publishes these where it runs; a central account does not see them.
        widgets.append(
            _widget(
                "Changes to NON_COMPLIANT per rule",
                [
                    metric_line(
                        METRICS_NAMESPACE,
                        "ComplianceChange",
                        (("RuleName", _rule_name(rule)), ("ComplianceType", "NON_COMPLIANT")),
                        label=rule.identifier,
                    )
                    for rule in listed
                ],
                "Sum",
                3600,
            )
        )
    return widgets


def _search_widget(stack: Stack, metric: str, stat: str) -> dict[str, object]:
    """Every rule of this stack (names start with the prefix) in one graph."""
    keys = "RuleName,ComplianceType" if metric == "ComplianceChange" else "RuleName"
    dimensions = f"{{{METRICS_NAMESPACE},{keys}}}"
    search = (
        f"SEARCH('{dimensions} MetricName=\"{metric}\" \"${{RuleNamePrefix}}-\"', '{stat}', 3600)"
    )
    title = {
        "NonCompliantResources": "Non-compliant resources, every rule of the stack",
        "ComplianceChange": "Compliance changes, every rule of the stack",
        "ExemptResources": "Exempt resources per rule (from the last report)",
    }[metric]
    return _widget(title, [[{"expression": search, "id": metric.lower(), "label": ""}]], stat, 3600)


def _undelivered_notifications_widget(stack: Stack) -> dict[str, object]:
    """Failed deliveries of the topic and what waits in the subscriptions' redrive queues.

    The alarms on these notify the same topic, so they may be undeliverable themselves: this
    widget is where a failing endpoint stays visible. The queues exist only with their
    subscription, and the body cannot refer to a resource that may not exist, so their lines are
    a search on the names CloudFormation gives them (<stack>-<logical id>-<suffix>).
    """
    queues = " OR ".join(f'"{redrive_queue_id(name)}"' for name, _ in SUBSCRIPTIONS)
    search = (
        'SEARCH(\'{AWS/SQS,QueueName} MetricName="ApproximateNumberOfMessagesVisible" '
        f"\"${{AWS::StackName}}\" ({queues})', 'Maximum', 300)"
    )
    return _widget(
        "Notifications SNS could not deliver",
        [
            metric_line(
                "AWS/SNS",
                "NumberOfNotificationsFailed",
                (("TopicName", f"${{{stack.id('topic')}.TopicName}}"),),
                label="failed deliveries",
                stat="Sum",
            ),
            [{"expression": search, "id": "redrive", "label": "waiting in redrive queues"}],
        ],
        "Maximum",
        300,
    )


def add_dashboard(stack: Stack) -> None:
    body = json.dumps(dashboard_body(stack), sort_keys=True, separators=(",", ":"))
    dashboard = stack.add(cloudwatch.Dashboard("ComplianceDashboard", DashboardBody=Sub(body)))
    stack.template.add_mapping(
        "PartitionConsole", {p: {"Domain": d} for p, d in sorted(CONSOLE_DOMAINS.items())}
    )
    stack.output(
        "DashboardUrl",
        "CloudWatch dashboard of the stack",
        Sub(
            "https://${AWS::Region}.${Console}/cloudwatch/home?region=${AWS::Region}"
            "#dashboards:name=${Dashboard}",
            Console=FindInMap("PartitionConsole", Ref("AWS::Partition"), "Domain"),
            Dashboard=dashboard.ref(),
        ),
    )
