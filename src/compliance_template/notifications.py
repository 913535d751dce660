"""The encrypted SNS topic that carries notifications, alarms and report summaries."""

from __future__ import annotations

from troposphere import GetAtt, Ref, sns

from . import policies
from .stack import HAS_EMAIL, HAS_HTTPS, Stack

# SNS honours a delivery policy only on HTTP/S subscriptions (for e-mail, SQS and Lambda it does
# nothing), and caps the total retry time at 3600 s. Worst case here: 10 retries x 300 s.
HTTPS_DELIVERY_POLICY = {
    "healthyRetryPolicy": {
        "numRetries": 10,
        "numNoDelayRetries": 0,
        "minDelayTarget": 5,
        "maxDelayTarget": 300,
        "numMinDelayRetries": 2,
        "numMaxDelayRetries": 3,
        "backoffFunction": "exponential",
    },
    "throttlePolicy": {"maxReceivesPerSecond": 10},
}


def add_notifications(stack: Stack) -> None:
    topic = stack.add(
        sns.Topic(
            "NotificationTopic",
            DisplayName="Compliance",
            KmsMasterKeyId=GetAtt(stack.id("key"), "Arn"),
        ),
        role="topic",
    )
    stack.topic_arn = topic.ref()
    roles = [GetAtt(stack.id(f"{name}-role"), "Arn") for name in stack.functions]
    stack.add(
        sns.TopicPolicy(
            "NotificationTopicPolicy",
            Topics=[topic.ref()],
            PolicyDocument=policies.topic_policy(topic.ref(), roles, stack.organization_id),
        )
    )
    stack.add(
        sns.SubscriptionResource(
            "EmailSubscription",
            Condition=HAS_EMAIL,
            TopicArn=topic.ref(),
            Protocol="email",
            Endpoint=Ref("NotificationEmail"),
        )
    )
    stack.add(
        sns.SubscriptionResource(
            "HttpsSubscription",
            Condition=HAS_HTTPS,
            TopicArn=topic.ref(),
            Protocol="https",
            Endpoint=Ref("NotificationHttpsUrl"),
            DeliveryPolicy=HTTPS_DELIVERY_POLICY,
        )
    )
    stack.output("NotificationTopicArn", "Topic with compliance notifications", topic.ref())
