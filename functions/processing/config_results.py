"""What the exemption review reads from AWS Config: the account's rules in this region, and a
rule's current NON_COMPLIANT results as Config returns them (with their evaluation times, which
order them against the evaluations processing recorded)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from aws import error_code
from botocore.exceptions import ClientError

PAGE_SIZE = 100  # the most GetComplianceDetailsByConfigRule returns


def rule_names(config: Any) -> Iterator[str]:
    """Every Config rule of this account and region (pages of 25, Config's fixed page size)."""
    for page in config.get_paginator("describe_config_rules").paginate():
        for rule in page.get("ConfigRules", []):
            yield rule["ConfigRuleName"]


def non_compliant_results(config: Any, rule_name: str) -> Iterator[dict[str, Any]]:
    """The rule's NON_COMPLIANT evaluation results; none when the rule is gone."""
    pages = config.get_paginator("get_compliance_details_by_config_rule").paginate(
        ConfigRuleName=rule_name,
        ComplianceTypes=["NON_COMPLIANT"],
        PaginationConfig={"PageSize": PAGE_SIZE},
    )
    try:
        for page in pages:
            yield from page.get("EvaluationResults", [])
    except ClientError as error:
        if error_code(error) != "NoSuchConfigRuleException":
            raise
