"""The emulator's Config aggregator read APIs (moto has none), through boto3 against the running
emulator: answered from evaluations recorded for several accounts and regions, paged at Config's
limits, filtered, and refused as Config refuses."""

from __future__ import annotations

import json

import boto3
import pytest
from botocore.exceptions import ClientError
from moto.config.responses import ConfigResponse

from compliance_template.local.aggregator import OPERATIONS
from compliance_template.local.emulator import ACCOUNT_ID, Emulator

REGION = "eu-west-1"
MEMBER, OTHER = "111111111111", "222222222222"
ORG, ACCOUNTS = "org", "accounts"
BUCKET = "AWS::S3::Bucket"
RESOURCE_COMPLIANCE = "AWS::Config::ResourceCompliance"
QUERY = f"SELECT {{}} WHERE resourceType = '{RESOURCE_COMPLIANCE}'"


@pytest.fixture
def running():
    with Emulator(region=REGION) as emulator:
        yield emulator


@pytest.fixture
def config(running):
    session = boto3.Session(
        region_name=REGION, aws_access_key_id="testing", aws_secret_access_key="testing"
    )
    client = session.client("config", endpoint_url=running.endpoint)
    client.put_configuration_aggregator(
        ConfigurationAggregatorName=ORG,
        OrganizationAggregationSource={
            "RoleArn": f"arn:aws:iam::{ACCOUNT_ID}:role/aggregator",
            "AllAwsRegions": True,
        },
    )
    # Only the member account, in one region.
    client.put_configuration_aggregator(
        ConfigurationAggregatorName=ACCOUNTS,
        AccountAggregationSources=[{"AccountIds": [MEMBER], "AwsRegions": [REGION]}],
    )
    return client


def refused(call, *args, **kwargs) -> str:
    with pytest.raises(ClientError) as error:
        call(*args, **kwargs)
    return str(error.value.response["Error"]["Code"])


def test_moto_alone_answers_no_aggregator_read_api():
    # When a moto upgrade adds them, this fails: drop ours and its docs/deploy.md entry.
    for name in OPERATIONS:
        assert not hasattr(ConfigResponse, name), name


def test_the_apis_are_gone_when_the_emulator_stops():
    with Emulator(region=REGION):
        assert all(hasattr(ConfigResponse, name) for name in OPERATIONS)
    assert not any(hasattr(ConfigResponse, name) for name in OPERATIONS)


def test_sources_are_the_recorded_accounts_and_regions_and_those_marked_failed(running, config):
    running.record_evaluation("rule", BUCKET, "b", "COMPLIANT")
    running.record_evaluation("rule", BUCKET, "b", "COMPLIANT", account=MEMBER)
    running.record_evaluation("rule", BUCKET, "b", "COMPLIANT", account=MEMBER, region="us-east-1")
    running.fail_source(OTHER, REGION, "AccessDeniedException", "the role cannot be assumed")

    def statuses(name=ORG, **extra):
        return config.describe_configuration_aggregator_sources_status(
            ConfigurationAggregatorName=name, **extra
        )

    listed = statuses()["AggregatedSourceStatusList"]
    assert [(s["SourceId"], s["AwsRegion"], s["LastUpdateStatus"]) for s in listed] == [
        (MEMBER, REGION, "SUCCEEDED"),
        (MEMBER, "us-east-1", "SUCCEEDED"),
        (ACCOUNT_ID, REGION, "SUCCEEDED"),
        (OTHER, REGION, "FAILED"),
    ]
    assert {s["SourceType"] for s in listed} == {"ORGANIZATION"}
    failed = statuses(UpdateStatus=["FAILED"])["AggregatedSourceStatusList"]
    assert [(s["LastErrorCode"], s["LastErrorMessage"]) for s in failed] == [
        ("AccessDeniedException", "the role cannot be assumed")
    ]
    # The account aggregator covers its one account and region only.
    assert [
        (s["SourceId"], s["AwsRegion"], s["SourceType"])
        for s in statuses(ACCOUNTS)["AggregatedSourceStatusList"]
    ] == [(MEMBER, REGION, "ACCOUNT")]
    first = statuses(Limit=3)
    assert len(first["AggregatedSourceStatusList"]) == 3
    rest = statuses(Limit=3, NextToken=first["NextToken"])
    assert len(rest["AggregatedSourceStatusList"]) == 1 and "NextToken" not in rest
    assert refused(statuses, Limit=101) == "InvalidLimitException"
    assert len(statuses(Limit=100)["AggregatedSourceStatusList"]) == 4
    assert refused(statuses, NextToken="x") == "InvalidNextTokenException"
    assert refused(statuses, "missing") == "NoSuchConfigurationAggregatorException"


def test_compliance_by_rule_is_per_account_and_region_with_capped_counts(running, config):
    for number in range(101):
        running.record_evaluation("many", BUCKET, f"b{number}", "NON_COMPLIANT", account=MEMBER)
    running.record_evaluation("many", BUCKET, "b", "COMPLIANT", account=OTHER)
    running.record_evaluation("few", BUCKET, "b1", "NON_COMPLIANT", account=MEMBER)
    running.record_evaluation("few", BUCKET, "b2", "NON_COMPLIANT", account=MEMBER)
    # The latest result of a resource counts: b2 was fixed.
    running.record_evaluation("few", BUCKET, "b2", "COMPLIANT", account=MEMBER)
    running.record_evaluation("unscoped", BUCKET, "b", "NOT_APPLICABLE", account=MEMBER)

    def items(**filters):
        return config.describe_aggregate_compliance_by_config_rules(
            ConfigurationAggregatorName=ORG, **({"Filters": filters} if filters else {})
        )["AggregateComplianceByConfigRules"]

    found = {
        (i["ConfigRuleName"], i["AccountId"], i["AwsRegion"]): i["Compliance"] for i in items()
    }
    assert found == {
        ("few", MEMBER, REGION): {
            "ComplianceType": "NON_COMPLIANT",
            "ComplianceContributorCount": {"CappedCount": 1, "CapExceeded": False},
        },
        ("many", MEMBER, REGION): {
            "ComplianceType": "NON_COMPLIANT",
            "ComplianceContributorCount": {"CappedCount": 100, "CapExceeded": True},
        },
        ("many", OTHER, REGION): {"ComplianceType": "COMPLIANT"},
        ("unscoped", MEMBER, REGION): {"ComplianceType": "INSUFFICIENT_DATA"},
    }
    assert [i["ConfigRuleName"] for i in items(ComplianceType="COMPLIANT")] == ["many"]
    assert [i["AccountId"] for i in items(ConfigRuleName="many", AccountId=OTHER)] == [OTHER]
    assert items(AwsRegion="us-east-1") == []


def test_compliance_by_rule_pages_hold_up_to_a_thousand(running, config):
    for number in range(1001):
        running.record_evaluation(f"rule-{number:04}", BUCKET, "b", "COMPLIANT", account=MEMBER)
    pages = config.get_paginator("describe_aggregate_compliance_by_config_rules").paginate(
        ConfigurationAggregatorName=ORG, PaginationConfig={"PageSize": 1000}
    )
    sizes = [len(page["AggregateComplianceByConfigRules"]) for page in pages]
    assert sizes == [1000, 1]
    assert (
        refused(
            config.describe_aggregate_compliance_by_config_rules,
            ConfigurationAggregatorName=ORG,
            Limit=1001,
        )
        == "InvalidLimitException"
    )


def test_details_are_one_rules_latest_results_in_one_account_and_region(running, config):
    for number in range(150):
        compliance = "NON_COMPLIANT" if number % 3 == 0 else "COMPLIANT"
        running.record_evaluation("rule", BUCKET, f"b{number}", compliance, account=MEMBER, at=60.0)
    running.record_evaluation("rule", BUCKET, "b0", "COMPLIANT", account=MEMBER, at=120.0)
    running.record_evaluation("rule", BUCKET, "elsewhere", "COMPLIANT", account=OTHER)

    def details(name=ORG, account=MEMBER, **extra):
        pages = config.get_paginator("get_aggregate_compliance_details_by_config_rule").paginate(
            ConfigurationAggregatorName=name,
            ConfigRuleName="rule",
            AccountId=account,
            AwsRegion=REGION,
            **extra,
        )
        return [page["AggregateEvaluationResults"] for page in pages]

    pages = details(PaginationConfig={"PageSize": 100})
    assert [len(page) for page in pages] == [100, 50]
    first = pages[0][0]
    assert (first["AccountId"], first["AwsRegion"], first["ComplianceType"]) == (
        MEMBER,
        REGION,
        "COMPLIANT",  # b0's later result
    )
    assert first["EvaluationResultIdentifier"]["EvaluationResultQualifier"]["ResourceId"] == "b0"
    non_compliant = details(ComplianceType="NON_COMPLIANT")
    assert [len(page) for page in non_compliant] == [49]
    assert details(ACCOUNTS, OTHER) == [[]]  # not one of that aggregator's sources
    assert [len(page) for page in details(ACCOUNTS)] == [100, 50]
    assert (
        refused(
            config.get_aggregate_compliance_details_by_config_rule,
            ConfigurationAggregatorName=ORG,
            ConfigRuleName="rule",
            AccountId=MEMBER,
            AwsRegion=REGION,
            Limit=101,
        )
        == "InvalidLimitException"
    )


def test_the_emulators_own_results_are_one_source_and_others_stay_out_of_its_account(
    running, config
):
    config.put_config_rule(
        ConfigRule={
            "ConfigRuleName": "rule",
            "Source": {"Owner": "AWS", "SourceIdentifier": "S3_BUCKET_VERSIONING_ENABLED"},
        }
    )
    running.record_evaluation("rule", BUCKET, "own", "NON_COMPLIANT")
    running.record_evaluation("rule", BUCKET, "member", "NON_COMPLIANT", account=MEMBER)
    own = config.get_compliance_details_by_config_rule(ConfigRuleName="rule")
    ids = [
        r["EvaluationResultIdentifier"]["EvaluationResultQualifier"]["ResourceId"]
        for r in own["EvaluationResults"]
    ]
    assert ids == ["own"]
    sources = config.describe_aggregate_compliance_by_config_rules(ConfigurationAggregatorName=ORG)
    assert sorted(i["AccountId"] for i in sources["AggregateComplianceByConfigRules"]) == [
        MEMBER,
        ACCOUNT_ID,
    ]
    running.compliance.clear()  # as the e2e tests start afresh
    sources = config.describe_aggregate_compliance_by_config_rules(ConfigurationAggregatorName=ORG)
    assert [i["AccountId"] for i in sources["AggregateComplianceByConfigRules"]] == [MEMBER]


def select(config, expression, **extra):
    return config.select_aggregate_resource_config(
        ConfigurationAggregatorName=ORG, Expression=expression, **extra
    )


def test_the_query_returns_one_item_per_resource_with_every_rules_state(running, config):
    running.record_evaluation("versioning", BUCKET, "data", "NON_COMPLIANT", account=OTHER, at=60)
    running.record_evaluation("encryption", BUCKET, "data", "COMPLIANT", account=OTHER, at=120)
    running.record_evaluation("logging", BUCKET, "data", "NOT_APPLICABLE", account=OTHER, at=180)
    running.record_evaluation("encryption", BUCKET, "logs", "COMPLIANT", account=MEMBER, at=60)
    running.record_evaluation("logging", BUCKET, "other", "NOT_APPLICABLE", account=MEMBER)

    answer = select(
        config, QUERY.format("accountId, resourceId, configuration, configurationItemCaptureTime")
    )
    assert answer["QueryInfo"]["SelectFields"] == [
        {"Name": "accountId"},
        {"Name": "resourceId"},
        {"Name": "configuration"},
        {"Name": "configurationItemCaptureTime"},
    ]
    rows = [json.loads(row) for row in answer["Results"]]
    # "other" has no COMPLIANT or NON_COMPLIANT result: Config lists no item for it.
    assert [(r["accountId"], r["resourceId"]) for r in rows] == [
        (MEMBER, f"{BUCKET}/logs"),
        (OTHER, f"{BUCKET}/data"),
    ]
    data = rows[1]
    assert set(data) == {"accountId", "resourceId", "configuration", "configurationItemCaptureTime"}
    assert data["configurationItemCaptureTime"] == "1970-01-01T00:02:00.000Z"
    assert data["configuration"] == {
        "complianceType": "NON_COMPLIANT",
        "targetResourceType": BUCKET,
        "targetResourceId": "data",
        "configRuleList": [
            {
                "configRuleName": "versioning",
                "complianceType": "NON_COMPLIANT",
                "configRuleArn": "",
                "configRuleId": "",
            },
            {
                "configRuleName": "encryption",
                "complianceType": "COMPLIANT",
                "configRuleArn": "",
                "configRuleId": "",
            },
        ],
    }


def test_the_query_filters_by_account_and_region_and_orders(running, config):
    for account, region in ((OTHER, REGION), (MEMBER, "us-east-1"), (MEMBER, REGION)):
        running.record_evaluation("rule", BUCKET, "b", "COMPLIANT", account=account, region=region)

    def where(suffix):
        answer = select(config, QUERY.format("accountId, awsRegion") + suffix)
        return [tuple(json.loads(row).values()) for row in answer["Results"]]

    # Without ORDER BY, in the order the sources are listed (sorted by account, then region).
    assert where("") == [(MEMBER, REGION), (MEMBER, "us-east-1"), (OTHER, REGION)]
    assert where(" ORDER BY awsRegion, accountId") == [
        (MEMBER, REGION),
        (OTHER, REGION),
        (MEMBER, "us-east-1"),
    ]
    assert where(f" AND accountId IN ('{MEMBER}') AND awsRegion IN ('us-east-1', 'x')") == [
        (MEMBER, "us-east-1")
    ]
    assert where(f" and accountId = '{OTHER}' order by accountId") == [(OTHER, REGION)]


def test_query_pages_default_to_25_and_hold_up_to_100(running, config):
    for number in range(130):
        running.record_evaluation("rule", BUCKET, f"b{number}", "COMPLIANT", account=MEMBER)
    expression = QUERY.format("resourceId")
    assert len(select(config, expression)["Results"]) == 25
    first = select(config, expression, Limit=100)
    assert len(first["Results"]) == 100
    rest = select(config, expression, MaxResults=100, NextToken=first["NextToken"])
    assert len(rest["Results"]) == 30 and "NextToken" not in rest
    assert json.loads(rest["Results"][-1]) == {"resourceId": f"{BUCKET}/b129"}
    assert refused(select, config, expression, Limit=101) == "InvalidLimitException"


@pytest.mark.parametrize(
    ("expression", "named"),
    [
        ("SELECT * WHERE resourceType = 'AWS::Config::ResourceCompliance'", "'*'"),
        (QUERY.format("configuration.complianceType"), "configuration.complianceType"),
        ("SELECT resourceId WHERE resourceType = 'AWS::S3::Bucket'", "without resourceType"),
        (QUERY.format("resourceId") + " AND tags.key = 'x'", "tags.key = 'x'"),
        (QUERY.format("resourceId") + " ORDER BY configuration", "ORDER BY 'configuration'"),
        (QUERY.format("COUNT(*)") + " GROUP BY accountId", "COUNT(*)"),
        ("SELECT resourceId", "is not SELECT ... WHERE"),
    ],
)
def test_a_query_outside_the_subset_is_refused_naming_what(config, expression, named):
    with pytest.raises(ClientError) as error:
        select(config, expression)
    assert error.value.response["Error"]["Code"] == "InvalidExpressionException"
    assert named in error.value.response["Error"]["Message"]


def test_a_query_past_4096_characters_or_to_no_aggregator_is_refused(config):
    long = QUERY.format("resourceId") + " AND accountId IN (" + ", ".join(["'1'"] * 1400) + ")"
    assert len(long) > 4096
    assert refused(select, config, long) == "ValidationException"
    at_most = QUERY.format("resourceId").ljust(4096)
    assert select(config, at_most)["Results"] == []
    assert (
        refused(
            config.select_aggregate_resource_config,
            ConfigurationAggregatorName="missing",
            Expression=QUERY.format("resourceId"),
        )
        == "NoSuchConfigurationAggregatorException"
    )
