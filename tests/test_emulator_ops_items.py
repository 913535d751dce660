"""The emulator's OpsCenter OpsItem APIs (moto has none), through boto3 against the running
emulator: OpsCenter's de-duplication, resolution, reading back and the filters processing's
operators use."""

from __future__ import annotations

import json

import boto3
import pytest
from botocore.exceptions import ClientError
from moto.ssm.responses import SimpleSystemManagerResponse

from compliance_template.local.emulator import ACCOUNT_ID, Emulator
from compliance_template.local.ops_items import HANDLERS, stored

REGION = "eu-west-1"


def dedup(text: str) -> dict:
    return {"/aws/dedup": {"Type": "SearchableString", "Value": json.dumps({"dedupString": text})}}


@pytest.fixture
def ssm():
    with Emulator(region=REGION) as running:
        session = boto3.Session(
            region_name=REGION, aws_access_key_id="testing", aws_secret_access_key="testing"
        )
        yield session.client("ssm", endpoint_url=running.endpoint)


def create(ssm, text="key-1", **extra):
    return ssm.create_ops_item(
        Title="Non-compliant bucket",
        Description="The bucket is not encrypted.",
        Source="compliance-monitoring",
        OperationalData=dedup(text),
        **extra,
    )["OpsItemId"]


def test_moto_alone_answers_no_ops_item_api():
    # When a moto upgrade adds them, this fails: drop ours and its docs/deploy.md entry.
    for name in HANDLERS:
        assert not hasattr(SimpleSystemManagerResponse, name), name


def test_an_open_ops_item_with_the_same_dedup_string_is_not_created_twice(ssm):
    first = create(ssm)
    with pytest.raises(ClientError) as refused:
        create(ssm)
    assert refused.value.response["Error"]["Code"] == "OpsItemAlreadyExistsException"
    assert refused.value.response["OpsItemId"] == first
    assert create(ssm, "key-2") != first  # another dedup string: another OpsItem
    assert len(stored(ACCOUNT_ID, REGION)) == 2


def test_once_resolved_the_same_dedup_string_opens_a_new_one(ssm):
    first = create(ssm)
    ssm.update_ops_item(OpsItemId=first, Status="Resolved")
    assert ssm.get_ops_item(OpsItemId=first)["OpsItem"]["Status"] == "Resolved"
    second = create(ssm)
    assert second != first
    assert ssm.get_ops_item(OpsItemId=second)["OpsItem"]["Status"] == "Open"


def test_describe_filters_by_status_source_and_operational_data(ssm):
    first = create(ssm, "key-1")
    create(ssm, "key-2")
    ssm.update_ops_item(OpsItemId=first, Status="Resolved")

    def ids(*filters):
        summaries = ssm.describe_ops_items(OpsItemFilters=list(filters))["OpsItemSummaries"]
        return [summary["OpsItemId"] for summary in summaries]

    status = {"Key": "Status", "Values": ["Resolved"], "Operator": "Equal"}
    source = {"Key": "Source", "Values": ["compliance"], "Operator": "Contains"}
    value = {"Key": "OperationalDataValue", "Values": ["key-1"], "Operator": "Contains"}
    assert ids(status) == [first]
    assert len(ids(source)) == 2
    assert ids(value) == [first]
    with pytest.raises(ClientError) as refused:
        ids({"Key": "CreatedBy", "Values": ["x"], "Operator": "Equal"})
    assert refused.value.response["Error"]["Code"] == "OpsItemInvalidParameterException"


def test_pages_hold_at_most_fifty(ssm):
    for number in range(53):
        create(ssm, f"key-{number}")
    first = ssm.describe_ops_items(MaxResults=50)
    assert len(first["OpsItemSummaries"]) == 50
    rest = ssm.describe_ops_items(MaxResults=50, NextToken=first["NextToken"])
    assert len(rest["OpsItemSummaries"]) == 3 and "NextToken" not in rest


def test_bad_requests_are_refused_as_opscenter_would(ssm):
    with pytest.raises(ClientError) as unknown:
        ssm.update_ops_item(OpsItemId="oi-0123456789ab", Status="Resolved")
    assert unknown.value.response["Error"]["Code"] == "OpsItemNotFoundException"
    with pytest.raises(ClientError) as reserved:
        ssm.create_ops_item(
            Title="t",
            Description="d",
            Source="s",
            OperationalData={"/aws/mine": {"Type": "String", "Value": "x"}},
        )
    assert reserved.value.response["Error"]["Code"] == "OpsItemInvalidParameterException"
    with pytest.raises(ClientError) as blank:
        ssm.create_ops_item(Title=" ", Description="d", Source="s")
    assert blank.value.response["Error"]["Code"] == "OpsItemInvalidParameterException"


def test_the_apis_are_gone_when_the_emulator_stops():
    with Emulator(region=REGION):
        assert hasattr(SimpleSystemManagerResponse, "create_ops_item")
    assert not hasattr(SimpleSystemManagerResponse, "create_ops_item")
