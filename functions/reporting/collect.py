"""Reading current compliance from AWS Config as a stream, one evaluation result at a time.

Pages of 100 (the most Config returns) and no per-page bookkeeping: a rule with N results costs
ceil(N/100) calls, and nothing is held beyond the page being read.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from aws import error_code
from botocore.exceptions import ClientError

PAGE_SIZE = 100
COUNTED = ("COMPLIANT", "NON_COMPLIANT")


@dataclass(frozen=True, slots=True)
class Result:
    rule_name: str
    account: str
    region: str
    resource_type: str
    resource_id: str
    compliance_type: str
    annotation: str
    recorded: str


class RuleMissing(Exception):
    """The rule does not exist (deleted, or not deployed in this region)."""


def result_of(item: dict[str, Any], rule_name: str, account: str, region: str) -> Result:
    qualifier = item.get("EvaluationResultIdentifier", {}).get("EvaluationResultQualifier", {})
    recorded = item.get("ResultRecordedTime")
    return Result(
        rule_name,
        item.get("AccountId", account),
        item.get("AwsRegion", region),
        qualifier.get("ResourceType", ""),
        qualifier.get("ResourceId", ""),
        item.get("ComplianceType", ""),
        item.get("Annotation") or "",
        recorded.isoformat() if hasattr(recorded, "isoformat") else str(recorded or ""),
    )


def account_results(config: Any, rule_name: str, account: str, region: str) -> Iterator[Result]:
    """The account's own evaluations of one rule."""
    pages = config.get_paginator("get_compliance_details_by_config_rule").paginate(
        ConfigRuleName=rule_name,
        ComplianceTypes=list(COUNTED),
        PaginationConfig={"PageSize": PAGE_SIZE},
    )
    try:
        for page in pages:
            for item in page.get("EvaluationResults", []):
                yield result_of(item, rule_name, account, region)
    except ClientError as error:
        if error_code(error) == "NoSuchConfigRuleException":
            raise RuleMissing(rule_name) from error
        raise


def account_rule_names(config: Any) -> Iterator[str]:
    """Every Config rule of this account and region (pages of 25, Config's fixed page size)."""
    for page in config.get_paginator("describe_config_rules").paginate():
        for rule in page.get("ConfigRules", []):
            yield rule["ConfigRuleName"]
