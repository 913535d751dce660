"""E9011: an encrypted topic whose key its AWS-service publishers may not use."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from cfnlint.rules import CloudFormationLintRule, RuleMatch
from cfnlint.template import Template

from compliance_template.cfn_rules._helpers import (
    branches,
    describe_path,
    key_grants,
    properties,
    resolve_kms_key,
    resources_of_type,
    service_principal,
    topic_publishers,
)

PUBLISH_ACTIONS = ("kms:GenerateDataKey", "kms:Decrypt")


class SnsTopicKmsPublishers(CloudFormationLintRule):
    id = "E9011"
    shortdesc = "Encrypted SNS topic's key must let its AWS-service publishers use it"
    description = (
        "An SNS topic encrypted with a KMS key only receives messages from AWS services "
        "(EventBridge rules, CloudWatch alarms, S3 notifications) whose service principal the "
        "key policy allows kms:GenerateDataKey* and kms:Decrypt. The AWS-managed alias/aws/sns "
        "key allows no service, so such topics need a customer managed key. Otherwise "
        "deliveries are dropped silently."
    )
    source_url = "https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html"
    tags: ClassVar[list[str]] = ["resources", "sns", "kms"]

    def match(self, cfn: Template) -> list[RuleMatch]:
        matches = []
        for name, resource in resources_of_type(cfn, "AWS::SNS::Topic"):
            props = properties(resource)
            if "KmsMasterKeyId" not in props:
                continue
            publishers = topic_publishers(cfn, name)
            if not publishers:
                continue
            services = ", ".join(publishers)
            sources = ", ".join(sorted(n for names in publishers.values() for n in names))
            base = ["Resources", name, "Properties", "KmsMasterKeyId"]
            for value, path in branches(props["KmsMasterKeyId"], base):
                key = resolve_kms_key(cfn, value)
                if key.aws_managed:
                    matches.append(
                        RuleMatch(
                            path,
                            f"Topic {name} uses the AWS-managed key {key.aws_managed}, which "
                            f"{services} cannot use (publishers: {sources}): use a customer "
                            "managed key whose policy allows them",
                        )
                    )
                    continue
                if key.logical_id is None:
                    continue
                for service, sources in publishers.items():
                    matches.extend(
                        RuleMatch(
                            path,
                            f"Key policy of {key.logical_id} ({describe_path(policy_path)}) "
                            f"does not allow {service} kms:GenerateDataKey* and kms:Decrypt"
                            f"{_hint(service)}: {', '.join(sources)} cannot publish to topic "
                            f"{name}",
                        )
                        for verdict, policy_path in key_grants(
                            cfn,
                            key.logical_id,
                            service_principal(service.split(".")[0]),
                            PUBLISH_ACTIONS,
                            _satisfiable_for(service),
                        )
                        if verdict is False
                    )
        return matches


# EventBridge's requests to KMS carry none of these keys, so a grant conditioned on one of them
# never applies and every delivery to the topic is dropped (SNS key-management docs).
SOURCE_KEYS = ("aws:sourceaccount", "aws:sourcearn", "aws:sourceorgid", "aws:sourceorgpaths")


def _satisfiable_for(service: str) -> Callable[[Any], bool] | None:
    if not service.startswith("events."):
        return None

    def no_source_condition(condition: Any) -> bool:
        if not isinstance(condition, dict):
            return True
        return not any(
            isinstance(keys, dict) and str(key).lower() in SOURCE_KEYS
            for keys in condition.values()
            for key in keys
        )

    return no_source_condition


def _hint(service: str) -> str:
    if service.startswith("events."):
        return " without an aws:Source* condition (EventBridge's KMS requests carry none)"
    return ""
