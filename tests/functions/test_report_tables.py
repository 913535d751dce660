"""The Athena tables' objects: rule_results rows, their keys, byte-identical gzip (tables.py)."""

from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime, timedelta, timezone

import collect
import pytest
import tables
import tally
from conftest import ACCOUNT, BUCKET, REGION, lambda_context, load_app
from function_fakes import FakeConfig

reporting = load_app("reporting")
RUN = "2024-05-01T060000Z"
GENERATED = "2024-05-01T06:00:05.000Z"
ENCRYPTION = "compliance-s3-bucket-server-side-encryption-enabled"
BACKUP = "compliance-db-instance-backup-enabled"


def results(*specs):
    """(account, region, compliance) per result."""
    return [
        collect.Result(ENCRYPTION, a, r, "AWS::S3::Bucket", f"b-{i}", kind, "", "")
        for i, (a, r, kind) in enumerate(specs)
    ]


def counted(exempt_ids=()):
    stream = results(
        ("222222222222", "us-east-1", "COMPLIANT"),
        ("111111111111", "eu-west-1", "NON_COMPLIANT"),
        ("111111111111", "eu-west-1", "COMPLIANT"),
        ("111111111111", "eu-west-1", "NON_COMPLIANT"),
    )

    def of(rule):
        if rule == BACKUP:
            raise collect.RuleMissing(rule)
        return iter(stream)

    return tally.build(
        {
            ENCRYPTION: "S3_BUCKET_SERVER_SIDE_ENCRYPTION_ENABLED",
            BACKUP: "DB_INSTANCE_BACKUP_ENABLED",
        },
        of,
        lambda row: None,
        exempt_of=lambda result, _: "ex-1" if result.resource_id in exempt_ids else None,
    )


def test_one_row_per_rule_account_and_region_with_the_contracts_columns():
    rows = tables.rule_results_rows(
        RUN, GENERATED, counted(exempt_ids={"b-3"}), {ENCRYPTION: ["cis", "nist"]}
    )
    # The rule not found has no results and so no rows; scopes sorted by account, region.
    assert rows == [
        {
            "run_id": RUN,
            "generated_at": GENERATED,
            "rule_name": ENCRYPTION,
            "rule_identifier": "S3_BUCKET_SERVER_SIDE_ENCRYPTION_ENABLED",
            "account": "111111111111",
            "region": "eu-west-1",
            "compliant": 1,
            "non_compliant": 1,
            "exempt": 1,
            "frameworks": ["cis", "nist"],
        },
        {
            "run_id": RUN,
            "generated_at": GENERATED,
            "rule_name": ENCRYPTION,
            "rule_identifier": "S3_BUCKET_SERVER_SIDE_ENCRYPTION_ENABLED",
            "account": "222222222222",
            "region": "us-east-1",
            "compliant": 1,
            "non_compliant": 0,
            "exempt": 0,
            "frameworks": ["cis", "nist"],
        },
    ]


@pytest.mark.parametrize(
    ("moment", "day"),
    [
        (datetime(2024, 5, 1, 6, 0, tzinfo=UTC), "2024-05-01"),
        # The run's UTC date, whatever zone the time came in.
        (datetime(2024, 5, 1, 2, 0, tzinfo=timezone(timedelta(hours=10))), "2024-04-30"),
    ],
)
def test_keys_are_hive_partitions_of_the_runs_utc_date(moment, day):
    assert tables.table_key("rule_results", RUN, moment) == (
        f"reports/tables/rule_results/dt={day}/{RUN}.json.gz"
    )
    assert tables.table_key("violations", RUN, moment) == (
        f"reports/tables/violations/dt={day}/{RUN}.json.gz"
    )


def test_an_unknown_table_is_refused_naming_the_known_ones():
    with pytest.raises(ValueError, match=r"table is 'rules', expected one of \['rule_results'"):
        tables.table_key("rules", RUN, datetime(2024, 5, 1, tzinfo=UTC))


def test_the_gzip_is_byte_identical_for_the_same_rows():
    rows = tables.rule_results_rows(RUN, GENERATED, counted(), {})
    first, second = tables.gzip_lines(rows), tables.gzip_lines(list(rows))
    assert first == second
    # gzip header: no file name flag, modification time 0.
    assert first[3] == 0 and first[4:8] == b"\0\0\0\0"
    lines = gzip.decompress(first).decode().splitlines()
    assert [json.loads(line) for line in lines] == rows
    assert lines[0].startswith('{"account":"111111111111",')  # sorted keys, no spaces


def test_a_run_writes_both_tables_and_names_them_in_its_summary(world, monkeypatch):
    config = FakeConfig()
    config.attach(world.aws.client("config"))
    config.add(ENCRYPTION, 3, 2, account=ACCOUNT, region=REGION)
    config.add(BACKUP, 4, 0, account=ACCOUNT, region=REGION)
    reporting.handler({"time": "2024-05-01T06:00:00Z"}, lambda_context("r", "reporting"))

    summary = world.read_json(f"reports/{RUN}/summary.json")
    key = f"reports/tables/rule_results/dt=2024-05-01/{RUN}.json.gz"
    assert summary["artifacts"]["ruleResults"] == f"s3://{BUCKET}/{key}"
    rows = [json.loads(line) for line in gzip.decompress(world.read(key)).splitlines()]
    assert [(r["rule_name"], r["compliant"], r["non_compliant"]) for r in rows] == [
        (BACKUP, 4, 0),
        (ENCRYPTION, 3, 2),
    ]
    assert {r["frameworks"] == [] and r["run_id"] == RUN for r in rows} == {True}
    violations_key = f"reports/tables/violations/dt=2024-05-01/{RUN}.json.gz"
    assert summary["artifacts"]["violations"] == f"s3://{BUCKET}/{violations_key}"
    tracked = gzip.decompress(world.read(violations_key)).splitlines()
    assert len(tracked) == 2
    assert world.s3.head_object(Bucket=BUCKET, Key=key)["ContentType"] == tables.CONTENT_TYPE
