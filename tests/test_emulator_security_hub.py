"""The emulator's Security Hub additions, through boto3 against the running emulator: the calls
moto lacks, the filters it ignored, Security Hub's workflow rules and AWS Config's findings."""

from __future__ import annotations

import boto3
import pytest
from botocore.exceptions import ClientError
from moto.securityhub import urls as securityhub_urls
from moto.securityhub.models import SecurityHubBackend

from compliance_template.local.emulator import ACCOUNT_ID, Emulator
from compliance_template.local.security_hub import send_config_evaluation

REGION = "eu-west-1"
RULE = "compliance-s3-bucket-versioning-enabled"
OWN_PRODUCT = f"arn:aws:securityhub:{REGION}:{ACCOUNT_ID}:product/{ACCOUNT_ID}/default"


@pytest.fixture
def hub():
    with Emulator(region=REGION) as running:
        client = boto3.Session(
            region_name=REGION, aws_access_key_id="testing", aws_secret_access_key="testing"
        ).client("securityhub", endpoint_url=running.endpoint)
        client.enable_security_hub()
        yield client


def config_sends(resource_id, compliance, at):
    return send_config_evaluation(
        ACCOUNT_ID, REGION, RULE, "AWS::S3::Bucket", resource_id, compliance, at
    )


def by_rule(resource_id):
    return {
        "ProductName": [{"Value": "Config", "Comparison": "EQUALS"}],
        "ProductFields": [
            {"Key": "aws/config/ConfigRuleName", "Value": RULE, "Comparison": "EQUALS"}
        ],
        "ResourceId": [{"Value": resource_id, "Comparison": "CONTAINS"}],
    }


def test_the_additions_are_undone_when_the_emulator_stops():
    get_findings = SecurityHubBackend.get_findings
    with Emulator(region=REGION):
        assert "{0}/findings/batchupdate$" in securityhub_urls.url_paths
    assert "{0}/findings/batchupdate$" not in securityhub_urls.url_paths
    assert SecurityHubBackend.get_findings is get_findings


def test_aws_configs_integration_is_on_until_turned_off(hub):
    [subscription] = hub.list_enabled_products_for_import()["ProductSubscriptions"]
    assert subscription.endswith(":product-subscription/aws/config")
    assert config_sends("logs", "NON_COMPLIANT", "2024-05-01T00:00:00Z") is not None
    hub.disable_import_findings_for_product(ProductSubscriptionArn=subscription)
    assert hub.list_enabled_products_for_import()["ProductSubscriptions"] == []
    assert config_sends("other", "NON_COMPLIANT", "2024-05-01T00:00:00Z") is None
    hub.enable_import_findings_for_product(
        ProductArn=f"arn:aws:securityhub:{REGION}::product/aws/config"
    )
    assert len(hub.list_enabled_products_for_import()["ProductSubscriptions"]) == 1


def test_get_findings_applies_the_filters_and_refuses_what_it_cannot_evaluate(hub):
    config_sends("logs", "NON_COMPLIANT", "2024-05-01T00:00:00Z")
    config_sends("old-logs", "NON_COMPLIANT", "2024-05-01T00:00:00Z")
    found = hub.get_findings(Filters=by_rule("logs"))["Findings"]
    assert sorted(f["Resources"][0]["Id"] for f in found) == [
        "arn:aws:s3:::logs",
        "arn:aws:s3:::old-logs",
    ]  # CONTAINS, as Security Hub: the caller tells them apart
    other_rule = {
        **by_rule("logs"),
        "ProductFields": [
            {"Key": "aws/config/ConfigRuleName", "Value": "x", "Comparison": "EQUALS"}
        ],
    }
    assert hub.get_findings(Filters=other_rule)["Findings"] == []
    with pytest.raises(ClientError, match="does not evaluate the filter Title"):
        hub.get_findings(Filters={"Title": [{"Value": RULE, "Comparison": "EQUALS"}]})


def test_batch_update_findings_sets_the_note_and_workflow_and_reports_unknown_ids(hub):
    finding = config_sends("logs", "NON_COMPLIANT", "2024-05-01T00:00:00Z")
    known = {"Id": finding["Id"], "ProductArn": finding["ProductArn"]}
    unknown = {"Id": "nope", "ProductArn": finding["ProductArn"]}
    answer = hub.batch_update_findings(
        FindingIdentifiers=[known, unknown],
        Note={"Text": "checked", "UpdatedBy": "alice"},
        Workflow={"Status": "SUPPRESSED"},
    )
    assert answer["ProcessedFindings"] == [known]
    assert answer["UnprocessedFindings"][0]["FindingIdentifier"] == unknown
    [stored] = hub.get_findings(Filters=by_rule("logs"))["Findings"]
    assert stored["Workflow"] == {"Status": "SUPPRESSED"}
    assert stored["Note"]["Text"] == "checked" and stored["Note"]["UpdatedBy"] == "alice"
    with pytest.raises(ClientError, match="Note needs Text of 1 to 512"):
        hub.batch_update_findings(
            FindingIdentifiers=[known], Note={"Text": "x" * 513, "UpdatedBy": "alice"}
        )


def test_security_hubs_workflow_rules_for_aws_configs_findings(hub):
    finding = config_sends("logs", "NON_COMPLIANT", "2024-05-01T00:00:00Z")
    assert finding["Workflow"] == {"Status": "NEW"}
    assert config_sends("logs", "COMPLIANT", "2024-05-02T00:00:00Z")["Workflow"] == {
        "Status": "RESOLVED"
    }
    assert config_sends("logs", "NON_COMPLIANT", "2024-05-03T00:00:00Z")["Workflow"] == {
        "Status": "NEW"
    }
    identifier = {"Id": finding["Id"], "ProductArn": finding["ProductArn"]}
    hub.batch_update_findings(FindingIdentifiers=[identifier], Workflow={"Status": "SUPPRESSED"})
    # A suppressed finding stays suppressed, compliant or not.
    assert config_sends("logs", "COMPLIANT", "2024-05-04T00:00:00Z")["Workflow"] == {
        "Status": "SUPPRESSED"
    }
    assert config_sends("logs", "NON_COMPLIANT", "2024-05-05T00:00:00Z")["Workflow"] == {
        "Status": "SUPPRESSED"
    }


def own_finding(updated_at, status="FAILED", **extra):
    return {
        "SchemaVersion": "2018-10-08",
        "Id": "ours-1",
        "ProductArn": OWN_PRODUCT,
        "GeneratorId": RULE,
        "AwsAccountId": ACCOUNT_ID,
        "CreatedAt": updated_at,
        "UpdatedAt": updated_at,
        "Title": "t",
        "Description": "d",
        "Resources": [{"Type": "Other", "Id": "logs"}],
        "Compliance": {"Status": status},
        **extra,
    }


def test_an_import_keeps_the_customers_fields_and_never_goes_back_in_time(hub):
    hub.batch_import_findings(Findings=[own_finding("2024-05-01T00:00:00Z")])
    identifier = {"Id": "ours-1", "ProductArn": OWN_PRODUCT}
    hub.batch_update_findings(
        FindingIdentifiers=[identifier], Note={"Text": "mine", "UpdatedBy": "alice"}
    )
    newer = own_finding(
        "2024-05-02T00:00:00Z",
        "PASSED",
        Note={"Text": "provider", "UpdatedBy": "p", "UpdatedAt": "2024-05-02T00:00:00Z"},
    )
    hub.batch_import_findings(Findings=[newer])
    [stored] = hub.get_findings()["Findings"]
    assert stored["Compliance"] == {"Status": "PASSED"}
    assert stored["Note"]["Text"] == "mine"  # only BatchUpdateFindings changes a note
    assert stored["Workflow"] == {"Status": "RESOLVED"}
    hub.batch_import_findings(Findings=[own_finding("2024-04-30T00:00:00Z", "FAILED")])
    [stored] = hub.get_findings()["Findings"]
    assert stored["Compliance"] == {"Status": "PASSED"}  # the older import was ignored


def test_only_the_accounts_default_product_may_import_and_only_while_enabled(hub):
    foreign = own_finding(
        "2024-05-01T00:00:00Z", ProductArn=OWN_PRODUCT.replace(ACCOUNT_ID, "111111111111")
    )
    answer = hub.batch_import_findings(Findings=[foreign])
    assert answer["FailedCount"] == 1
    assert answer["FailedFindings"][0]["ErrorCode"] == "InvalidAccess"
    hub.disable_security_hub()
    answer = hub.batch_import_findings(Findings=[own_finding("2024-05-01T00:00:00Z")])
    assert answer["FailedCount"] == 1
    with pytest.raises(ClientError, match="InvalidAccessException"):
        hub.get_findings()
