"""What the exemption review reads from AWS Config, against botocore's Stubber (moto has no
GetComplianceDetailsByConfigRule), and the event it replays from a result."""

from __future__ import annotations

from datetime import UTC, datetime

import boto3
import changes
import config_results
import pytest
from botocore.stub import Stubber

RULE = "compliance-encrypted-volumes"
WHEN = datetime(2024, 5, 1, 8, 0, 0, 123000, tzinfo=UTC)


def _result(resource_id: str) -> dict:
    return {
        "EvaluationResultIdentifier": {
            "EvaluationResultQualifier": {
                "ConfigRuleName": RULE,
                "ResourceType": "AWS::EC2::Volume",
                "ResourceId": resource_id,
            },
            "OrderingTimestamp": WHEN,
        },
        "ComplianceType": "NON_COMPLIANT",
        "ResultRecordedTime": WHEN,
        "ConfigRuleInvokedTime": WHEN,
    }


def _rule(name: str) -> dict:
    return {"ConfigRuleName": name, "Source": {"Owner": "AWS", "SourceIdentifier": "X"}}


@pytest.fixture
def config():
    client = boto3.client(
        "config", region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="x"
    )
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


def test_results_are_read_page_by_page_non_compliant_only(config):
    client, stubber = config
    wanted = {"ConfigRuleName": RULE, "ComplianceTypes": ["NON_COMPLIANT"], "Limit": 100}
    stubber.add_response(
        "get_compliance_details_by_config_rule",
        {"EvaluationResults": [_result("vol-1")], "NextToken": "t"},
        wanted,
    )
    stubber.add_response(
        "get_compliance_details_by_config_rule",
        {"EvaluationResults": [_result("vol-2")]},
        {**wanted, "NextToken": "t"},
    )
    found = list(config_results.non_compliant_results(client, RULE))
    ids = [
        r["EvaluationResultIdentifier"]["EvaluationResultQualifier"]["ResourceId"] for r in found
    ]
    assert ids == ["vol-1", "vol-2"]


def test_a_rule_that_is_gone_has_no_results_and_other_errors_raise(config):
    client, stubber = config
    stubber.add_client_error("get_compliance_details_by_config_rule", "NoSuchConfigRuleException")
    assert list(config_results.non_compliant_results(client, RULE)) == []
    stubber.add_client_error("get_compliance_details_by_config_rule", "AccessDeniedException")
    with pytest.raises(Exception, match="AccessDenied"):
        list(config_results.non_compliant_results(client, RULE))


def test_rule_names_of_every_page(config):
    client, stubber = config
    stubber.add_response("describe_config_rules", {"ConfigRules": [_rule(RULE)], "NextToken": "n"})
    stubber.add_response(
        "describe_config_rules", {"ConfigRules": [_rule("other")]}, {"NextToken": "n"}
    )
    assert list(config_results.rule_names(client)) == [RULE, "other"]


def test_a_result_replays_as_the_change_config_would_send_without_an_old_result():
    change = changes.parse_event(
        changes.event_of_result(_result("vol-1"), "123456789012", "eu-west-1")
    )
    assert (change.rule_name, change.resource_type, change.resource_id) == (
        RULE,
        "AWS::EC2::Volume",
        "vol-1",
    )
    assert change.compliance_type == "NON_COMPLIANT" and change.previous_type is None
    assert change.ordering == WHEN
    # Ranked like the evaluation processing recorded from Config's event, so it is not stale.
    assert change.rank == ("2024-05-01T08:00:00.123000Z",) * 3
    assert changes.notification_kind(change) == "violation"
