"""Builders of the events and messages the functions receive, shared by the function tests."""

from __future__ import annotations

import copy
from typing import Any

from conftest import ACCOUNT, REGION

RULE_FOR = {
    "AWS::EC2::Volume": "compliance-encrypted-volumes",
    "AWS::S3::Bucket": "compliance-s3-bucket-server-side-encryption-enabled",
    "AWS::RDS::DBInstance": "compliance-db-instance-backup-enabled",
    "AWS::EC2::Instance": "compliance-desired-instance-type",
}


def change_event(
    compliance: str = "NON_COMPLIANT",
    old: str | None = "COMPLIANT",
    *,
    resource_type: str = "AWS::EC2::Volume",
    resource_id: str = "vol-0123456789abcdef0",
    rule: str | None = None,
    ordering: str = "2024-05-01T12:00:00.123Z",
    annotation: str | None = "The volume is not encrypted.",
    event_id: str = "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
) -> dict[str, Any]:
    """An EventBridge ``Config Rules Compliance Change`` event as AWS documents it."""
    rule = rule or RULE_FOR[resource_type]
    qualifier = {"configRuleName": rule, "resourceType": resource_type, "resourceId": resource_id}
    detail: dict[str, Any] = {
        "resourceId": resource_id,
        "awsRegion": REGION,
        "awsAccountId": ACCOUNT,
        "configRuleName": rule,
        "recordVersion": "1.0",
        "configRuleARN": f"arn:aws:config:{REGION}:{ACCOUNT}:config-rule/config-rule-abc123",
        "messageType": "ComplianceChangeNotification",
        "newEvaluationResult": {
            "evaluationResultIdentifier": {
                "evaluationResultQualifier": qualifier,
                "orderingTimestamp": ordering,
            },
            "complianceType": compliance,
            "resultRecordedTime": ordering,
            "configRuleInvokedTime": ordering,
            "annotation": annotation,
        },
        "notificationCreationTime": ordering,
        "resourceType": resource_type,
    }
    if old is not None:
        detail["oldEvaluationResult"] = {
            "evaluationResultIdentifier": {
                "evaluationResultQualifier": qualifier,
                "orderingTimestamp": "2024-04-30T08:00:00.000Z",
            },
            "complianceType": old,
            "resultRecordedTime": "2024-04-30T08:00:00.000Z",
            "configRuleInvokedTime": "2024-04-30T08:00:00.000Z",
        }
    return {
        "version": "0",
        "id": event_id,
        "detail-type": "Config Rules Compliance Change",
        "source": "aws.config",
        "account": ACCOUNT,
        "time": ordering,
        "region": REGION,
        "resources": [],
        "detail": detail,
    }


def finding(
    resource_type: str,
    resource_id: str,
    *,
    ordering: str = "2024-05-01T12:00:00.123Z",
    region: str = REGION,
) -> dict[str, Any]:
    """The hand-off message processing sends to remediation."""
    event = change_event(resource_type=resource_type, resource_id=resource_id, ordering=ordering)
    event["detail"]["awsRegion"] = region
    return copy.deepcopy(_hand_off(event))


def _hand_off(event: dict[str, Any]) -> dict[str, Any]:
    import changes
    from conftest import BUCKET, PREFIX, RULES

    config = changes.ProcessingSettings(
        common=changes.env_settings.CommonSettings(
            bucket=BUCKET,
            topic_arn=f"arn:aws:sns:{REGION}:{ACCOUNT}:compliance",
            rule_name_prefix=PREFIX,
            frameworks=(),
            namespace="ComplianceMonitoring",
            runbook_base_url="",
            log_level="INFO",
        ),
        remediation_function="compliance-remediation",
        remediate_rules=frozenset(RULES.values()),
    )
    planned = changes.plan(changes.parse_event(event), event, config, "req-test")
    assert planned.hand_off is not None
    return planned.hand_off
