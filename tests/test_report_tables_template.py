"""Optional Athena tables: the contract's columns, projection, the workgroup, the queries."""

from __future__ import annotations

import re

import pytest
from template_helpers import ROOT, evaluate_condition, resources_of

from compliance_template.generator.report_tables import (
    COLUMNS,
    QUERIES,
    README_END,
    README_START,
    readme_queries,
)

TYPES = (
    "AWS::Glue::Database",
    "AWS::Glue::Table",
    "AWS::Athena::WorkGroup",
    "AWS::Athena::NamedQuery",
)
CONTRACT = {
    "rule_results": "run_id generated_at rule_name rule_identifier account region compliant "
    "non_compliant exempt frameworks",
    "violations": "run_id generated_at rule_name rule_identifier account region resource_type "
    "resource_id state change first_seen fixed_at exemption annotation recorded",
    "results": "run_id rule_name rule_identifier account region resource_type resource_id "
    "compliance_type annotation result_recorded_time frameworks exemption",
}
# Everything a query may name besides the tables' columns: SQL words, functions, its own aliases.
SQL_WORDS = set(
    [
        "with",
        "as",
        "select",
        "from",
        "where",
        "group",
        "by",
        "order",
        "join",
        "on",
        "and",
        "or",
        "not",
        "case",
        "when",
        "then",
        "else",
        "end",
        "limit",
        "desc",
        "asc",
        "over",
        "partition",
        "row_number",
        "sum",
        "count",
        "max",
        "min",
        "round",
        "nullif",
        "cast",
        "double",
        "date_trunc",
        "date_diff",
        "from_iso8601_timestamp",
        "week",
        "day",
        "position",
    ]
)
ALIASES = set(
    [
        "runs",
        "ranked",
        "latest",
        "latest_run",
        "open_ages",
        "age_days",
        "days_open",
        "open_violations",
        "open_results",
        "compliant_results",
        "non_compliant_results",
        "score",
    ]
)


def tables(template: dict) -> dict[str, dict]:
    return {
        t["Properties"]["TableInput"]["Name"]: t["Properties"]["TableInput"]
        for t in resources_of(template, "AWS::Glue::Table").values()
    }


def test_columns_are_the_contracts():
    assert {t: " ".join(n for n, _ in cols) for t, cols in COLUMNS.items()} == CONTRACT
    assert dict(COLUMNS["rule_results"])["frameworks"] == "array<string>"
    assert {dict(COLUMNS["rule_results"])[c] for c in ("compliant", "non_compliant", "exempt")} == {
        "int"
    }


@pytest.mark.parametrize("name", ["default_template", "all_rules_template"])
def test_every_table_resource_exists_only_when_requested(request, name):
    template = request.getfixturevalue(name)
    found = [r for r in template["Resources"].values() if r["Type"] in TYPES]
    assert len(found) == 1 + 3 + 1 + 3  # database, tables, workgroup, saved queries
    assert {r["Condition"] for r in found} == {"ReportTablesRequested"}
    assert template["Parameters"]["ReportTables"]["Default"] == "false"
    values = {"ReportTables": "true"}
    assert evaluate_condition(template, "ReportTablesRequested", "us-east-1", values)
    assert not evaluate_condition(
        template, "ReportTablesRequested", "us-east-1", {"ReportTables": "false"}
    )


def test_tables_read_gzip_json_lines_with_date_projection(default_template):
    for name, table in tables(default_template).items():
        storage = table["StorageDescriptor"]
        assert storage["SerdeInfo"]["SerializationLibrary"] == "org.openx.data.jsonserde.JsonSerDe"
        assert storage["Location"]["Fn::Sub"][0] == f"s3://${{Bucket}}/reports/tables/{name}/"
        assert [c["Name"] for c in storage["Columns"]] == CONTRACT[name].split()
        assert table["PartitionKeys"] == [{"Name": "dt", "Type": "string"}]
        parameters = table["Parameters"]
        assert {k: v for k, v in parameters.items() if k != "storage.location.template"} == {
            "classification": "json",
            "compressionType": "gzip",
            "projection.enabled": "true",
            "projection.dt.type": "date",
            "projection.dt.format": "yyyy-MM-dd",
            "projection.dt.range": "2026-01-01,NOW",
            "projection.dt.interval": "1",
            "projection.dt.interval.unit": "DAYS",
        }
        # ${!dt} is Sub's escape: Athena receives the literal ${dt}.
        assert parameters["storage.location.template"]["Fn::Sub"][0] == (
            f"s3://${{Bucket}}/reports/tables/{name}/dt=${{!dt}}/"
        )


def test_database_name_is_lower_case_and_unique_per_stack(default_template):
    database = next(iter(resources_of(default_template, "AWS::Glue::Database").values()))
    name = database["Properties"]["DatabaseInput"]["Name"]["Fn::Join"]
    assert name[0] == "_" and name[1][0] == "compliance_reports"
    assert re.fullmatch(r"[a-z0-9_]+", "_".join([name[1][0], "1a2b3c4d"]))
    assert "AWS::StackId" in str(name[1][1])


def test_workgroup_enforces_encrypted_results_in_the_reports_bucket(default_template):
    workgroup = next(iter(resources_of(default_template, "AWS::Athena::WorkGroup").values()))
    configuration = workgroup["Properties"]["WorkGroupConfiguration"]
    assert configuration["EnforceWorkGroupConfiguration"] is True
    result = configuration["ResultConfiguration"]
    assert result["OutputLocation"]["Fn::Sub"][0] == "s3://${Bucket}/athena-results/"
    assert result["OutputLocation"]["Fn::Sub"][1] == {"Bucket": {"Ref": "ReportsBucket"}}
    assert result["EncryptionConfiguration"] == {
        "EncryptionOption": "SSE_KMS",
        "KmsKey": {"Fn::GetAtt": ["ComplianceKey", "Arn"]},
    }
    # The bucket's one lifecycle rule, without a prefix filter, expires the results too.
    rules = default_template["Resources"]["ReportsBucket"]["Properties"]["LifecycleConfiguration"][
        "Rules"
    ]
    assert len(rules) == 1 and "Prefix" not in rules[0] and "Filter" not in rules[0]


def test_saved_queries_are_the_generators(default_template):
    saved = resources_of(default_template, "AWS::Athena::NamedQuery")
    assert sorted(q["Properties"]["Name"] for q in saved.values()) == sorted(
        n for n, _, _ in QUERIES
    )
    for query in saved.values():
        sql = dict((n, s) for n, _, s in QUERIES)[query["Properties"]["Name"]]
        assert query["Properties"]["QueryString"] == sql
        assert query["Properties"]["WorkGroup"] == {"Ref": "ReportsWorkGroup"}


@pytest.mark.parametrize(("name", "sql"), [(n, s) for n, _, s in QUERIES])
def test_queries_name_only_the_contracts_tables_and_columns(name, sql):
    text = re.sub(r"'[^']*'", "''", sql)  # string literals name nothing
    read = re.findall(r"\b(?:from|join)\s+([a-z_]+)", text, re.I)
    table_names = {t for t in read if t in COLUMNS}
    assert table_names and len(table_names) == 1, name
    columns = {c for c, _ in COLUMNS[table_names.pop()]}
    words = {w.lower() for w in re.findall(r"[A-Za-z_][A-Za-z0-9_]*", text)}
    unknown = words - columns - SQL_WORDS - ALIASES - set(COLUMNS)
    assert unknown == set(), (name, unknown)
    assert text.count("(") == text.count(")"), name
    assert not sql.rstrip().endswith(";")  # Athena runs one statement, without a terminator


def test_readme_shows_the_saved_queries():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    shown = readme.split(README_START + "\n", 1)[1].split("\n" + README_END, 1)[0]
    assert shown == readme_queries()
