"""The reporting function's table objects read as the generated Glue tables declare them.

The generator (generator/report_tables.py) and the function (functions/reporting/tables.py,
violations.py) are written apart; this runs the handler twice (so the violations table has
new, still-open and fixed rows) and reads what it stored through the template's own table
definitions: the partition location, every column by name and by Glue type, nothing more.
"""

from __future__ import annotations

import gzip
import json
import re

import pytest
from conftest import lambda_context, load_app
from function_fakes import FakeConfig
from template_helpers import TEMPLATES, resources_of

reporting = load_app("reporting")
TEMPLATE = json.loads((TEMPLATES / "compliance-monitoring.json").read_text(encoding="utf-8"))
GLUE_TYPES = {
    "string": lambda v: isinstance(v, str),
    "int": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "array<string>": lambda v: isinstance(v, list) and all(isinstance(x, str) for x in v),
}


def glue_tables() -> dict[str, dict]:
    return {
        t["Properties"]["TableInput"]["Name"]: t["Properties"]["TableInput"]
        for t in resources_of(TEMPLATE, "AWS::Glue::Table").values()
    }


def location_pattern(table: dict) -> re.Pattern[str]:
    """The partition location template (``s3://${Bucket}/.../dt=${!dt}/``) as a key pattern."""
    template = table["Parameters"]["storage.location.template"]["Fn::Sub"][0]
    prefix = template.removeprefix("s3://${Bucket}/")
    dt = re.escape(prefix).replace(re.escape("${!dt}"), r"(?P<dt>\d{4}-\d{2}-\d{2})")
    return re.compile(dt + r"(?P<run>\d{4}-\d{2}-\d{2}T\d{6}Z)\.json\.gz")


@pytest.fixture
def stored(world):
    config = FakeConfig()
    config.attach(world.aws.client("config"))
    config.add("compliance-encrypted-volumes", 5, 4)
    reporting.handler({"time": "2024-05-01T06:00:00Z"}, lambda_context("r1", "reporting"))
    config.rules.clear()
    config.add("compliance-encrypted-volumes", 7, 2)
    reporting.handler({"time": "2024-05-02T06:00:00Z"}, lambda_context("r2", "reporting"))
    return world


@pytest.mark.parametrize("name", ["rule_results", "violations"])
def test_each_run_writes_one_object_where_the_tables_partitions_are(stored, name):
    table = glue_tables()[name]
    pattern = location_pattern(table)
    keys = [k for k in stored.keys("reports/tables/") if f"/{name}/" in k]
    found = [pattern.fullmatch(k) for k in keys]
    assert all(found), keys
    assert [(m["dt"], m["run"]) for m in found] == [
        ("2024-05-01", "2024-05-01T060000Z"),
        ("2024-05-02", "2024-05-02T060000Z"),
    ]


@pytest.mark.parametrize("name", ["rule_results", "violations"])
def test_every_row_has_exactly_the_tables_columns_with_their_types(stored, name):
    columns = {c["Name"]: c["Type"] for c in glue_tables()[name]["StorageDescriptor"]["Columns"]}
    rows = [
        json.loads(line)
        for key in stored.keys(f"reports/tables/{name}/")
        for line in gzip.decompress(stored.read(key)).decode("utf-8").splitlines()
    ]
    assert rows
    for row in rows:
        assert set(row) == set(columns), sorted(set(row) ^ set(columns))
        wrong = {
            column: row[column]
            for column, glue_type in columns.items()
            if row[column] is not None and not GLUE_TYPES[glue_type](row[column])
        }
        assert not wrong, (name, wrong)
    if name == "violations":
        # The second run has every kind the saved queries read.
        assert {r["change"] for r in rows if r["run_id"] == "2024-05-02T060000Z"} >= {
            "still-open",
            "fixed",
        }


def test_an_organization_s_result_objects_read_as_the_results_table_declares(world, monkeypatch):
    """The central template's results table over what an organization report stored."""
    import org_run

    central = json.loads((TEMPLATES / "org-central.json").read_text(encoding="utf-8"))
    table = next(
        t["Properties"]["TableInput"]
        for t in resources_of(central, "AWS::Glue::Table").values()
        if t["Properties"]["TableInput"]["Name"] == "results"
    )
    monkeypatch.setenv("AGGREGATOR_NAME", "org")
    config = FakeConfig()
    config.attach(world.aws.client("config"))
    config.add("compliance-encrypted-volumes", 5, 4, account="111111111111", region="eu-west-1")
    reporting.handler({"time": "2024-05-01T06:00:00Z"}, lambda_context("r1", "reporting"))
    template = table["Parameters"]["storage.location.template"]["Fn::Sub"][0]
    partition = template.removeprefix("s3://${Bucket}/").replace("${!dt}", "2024-05-01")
    keys = world.keys(partition)
    assert keys == [
        org_run.result_key("2024-05-01T060000Z", "2024-05-01", ("111111111111", "eu-west-1"))
    ]
    # Directly in the partition's folder: no deeper folder for Athena to miss.
    assert "/" not in keys[0].removeprefix(partition)
    columns = {c["Name"]: c["Type"] for c in table["StorageDescriptor"]["Columns"]}
    rows = [json.loads(line) for line in gzip.decompress(world.read(keys[0])).splitlines()]
    assert len(rows) == 4
    for row in rows:
        assert set(row) == set(columns)
        assert all(GLUE_TYPES[columns[name]](value) for name, value in row.items())
