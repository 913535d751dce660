"""The encrypted SNS topic that carries notifications, alarms and report summaries."""

from __future__ import annotations

from troposphere import GetAtt, Ref, sns, sqs

from . import policies
from .conditions import HAS_EMAIL, HAS_HTTPS
from .stack import Stack

# Each subscription with the condition it exists under; each gets its own redrive queue, named
# <subscription>DeadLetterQueue, so a look at one queue tells which endpoint is failing.
SUBSCRIPTIONS = (("EmailSubscription", HAS_EMAIL), ("HttpsSubscription", HAS_HTTPS))

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
            RedrivePolicy=redrive_queue(stack, "EmailSubscription", HAS_EMAIL),
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
            RedrivePolicy=redrive_queue(stack, "HttpsSubscription", HAS_HTTPS),
        )
    )
    stack.output("NotificationTopicArn", "Topic with compliance notifications", topic.ref())


def redrive_queue_id(subscription: str) -> str:
    return f"{subscription}DeadLetterQueue"


def redrive_queue(
    stack: Stack, subscription: str, condition: str | None, topic_arn: object = None
) -> dict[str, object]:
    """An encrypted queue that keeps what SNS could not deliver to the subscription, after the
    delivery policy's retries (HTTPS) or at once (e-mail): without one SNS discards the message.
    Returns the subscription's RedrivePolicy. `topic_arn`: the subscription's topic (default:
    the notification topic); `condition`: the subscription's, if any."""
    topic_arn = topic_arn or Ref(stack.id("topic"))
    conditional = {"Condition": condition} if condition else {}
    queue = stack.add(
        sqs.Queue(
            redrive_queue_id(subscription),
            **conditional,
            KmsMasterKeyId=GetAtt(stack.id("key"), "Arn"),
            # The maximum: time to notice the alarm, fix the endpoint and read what was missed.
            MessageRetentionPeriod=14 * 24 * 3600,
            # Copies of notifications: the bucket keeps the records they were made from.
            DeletionPolicy="Delete",
            UpdateReplacePolicy="Delete",
        ),
        role=redrive_queue_id(subscription),
    )
    stack.add(
        sqs.QueuePolicy(
            f"{redrive_queue_id(subscription)}Policy",
            **conditional,
            Queues=[queue.ref()],
            PolicyDocument=policies.redrive_queue_policy(GetAtt(queue, "Arn"), topic_arn),
        )
    )
    return {"deadLetterTargetArn": GetAtt(queue, "Arn")}
