"""E9010: a delivery retry policy on a subscription whose protocol does not use it."""

from __future__ import annotations

from typing import ClassVar

from cfnlint.rules import CloudFormationLintRule, RuleMatch
from cfnlint.template import Template

from compliance_template.cfn_rules._helpers import (
    branches,
    present,
    properties,
    resources_of_type,
)

# The only protocols whose deliveries follow a custom delivery (retry) policy.
HTTP_PROTOCOLS = ("http", "https")


class SnsSubscriptionDeliveryPolicy(CloudFormationLintRule):
    id = "E9010"
    shortdesc = "SNS DeliveryPolicy on a subscription that is not HTTP/HTTPS"
    description = (
        "Only HTTP and HTTPS subscriptions take a custom delivery (retry) policy; for email, "
        "email-json, sqs, lambda, sms, application and firehose SNS uses its own fixed policy "
        "and rejects a DeliveryPolicy on the subscription. (AWS::SNS::Topic has no "
        "DeliveryPolicy property; cfn-lint's E3002 reports one.)"
    )
    source_url = "https://docs.aws.amazon.com/sns/latest/dg/sns-message-delivery-retries.html"
    tags: ClassVar[list[str]] = ["resources", "sns"]

    def match(self, cfn: Template) -> list[RuleMatch]:
        matches = []
        for name, resource in resources_of_type(cfn, "AWS::SNS::Subscription"):
            props = properties(resource)
            base = ["Resources", name, "Properties"]
            protocols = sorted(
                {
                    protocol
                    for protocol, _ in branches(props.get("Protocol"), [])
                    if isinstance(protocol, str) and protocol.lower() not in HTTP_PROTOCOLS
                }
            )
            if not protocols:
                continue
            matches.extend(
                RuleMatch(
                    path,
                    f"Subscription {name} uses protocol {' / '.join(protocols)}, which ignores "
                    "a DeliveryPolicy (only http and https take one): remove it",
                )
                for path in present(props, "DeliveryPolicy", base)
            )
        return matches
