"""Optional Athena tables over the reports' table files (ReportTables=true).

The reporting function writes one gzip'd JSON Lines object per run and table under
reports/tables/<table>/dt=YYYY-MM-DD/ (an organization report also one ``results`` object
per account-region). Here: a Glue database with the three tables (partition
projection on dt, so no crawler and no partition to add), an Athena workgroup whose results are
encrypted with the stack's key in the reports bucket (and expire with its lifecycle), and three
saved queries. The README shows the same queries (`readme_queries`).
"""

from __future__ import annotations

from troposphere import GetAtt, Join, Ref, Select, Split, Sub, athena, glue

from .conditions import CREATE_REPORT_TABLES
from .naming import REPORTS_PREFIX
from .stack import Stack

TABLES_PREFIX = f"{REPORTS_PREFIX}/tables"
ATHENA_RESULTS_PREFIX = "athena-results"
# The first date a table file can have; projection reads no partition before it.
PROJECTION_START = "2026-01-01"
SERDE = "org.openx.data.jsonserde.JsonSerDe"
INPUT_FORMAT = "org.apache.hadoop.mapred.TextInputFormat"
OUTPUT_FORMAT = "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat"

# The contract's columns, in the order the reporting function writes them.
COLUMNS: dict[str, tuple[tuple[str, str], ...]] = {
    "rule_results": (
        ("run_id", "string"),
        ("generated_at", "string"),
        ("rule_name", "string"),
        ("rule_identifier", "string"),
        ("account", "string"),
        ("region", "string"),
        ("compliant", "int"),
        ("non_compliant", "int"),
        ("exempt", "int"),
        ("frameworks", "array<string>"),
    ),
    "violations": tuple(
        (name, "string")
        for name in (
            "run_id",
            "generated_at",
            "rule_name",
            "rule_identifier",
            "account",
            "region",
            "resource_type",
            "resource_id",
            "state",
            "change",
            "first_seen",
            "fixed_at",
            "exemption",
            "annotation",
            "recorded",
        )
    ),
    # An organization report's non-compliant and exempt results, one object per account-region
    # and run (functions/reporting/org_run.py).
    "results": (
        *(
            (name, "string")
            for name in (
                "run_id",
                "rule_name",
                "rule_identifier",
                "account",
                "region",
                "resource_type",
                "resource_id",
                "compliance_type",
                "annotation",
                "result_recorded_time",
            )
        ),
        ("frameworks", "array<string>"),
        ("exemption", "string"),
    ),
}
PARTITION_KEY = "dt"

# Athena engine 3 (Trino) SQL. Run ids sort as their times (2026-12-01T060000Z), so max(run_id)
# is the latest run.
QUERIES: tuple[tuple[str, str, str], ...] = (
    (
        "ScorePerWeek",
        "Compliance score per week (the last run of each week)",
        """WITH runs AS (
  SELECT run_id, generated_at,
         date_trunc('week', from_iso8601_timestamp(generated_at)) AS week,
         sum(compliant) AS compliant_results, sum(non_compliant) AS non_compliant_results
  FROM rule_results
  GROUP BY run_id, generated_at
), ranked AS (
  SELECT week, run_id, compliant_results, non_compliant_results,
         row_number() OVER (PARTITION BY week ORDER BY generated_at DESC) AS position
  FROM runs
)
SELECT week, run_id, compliant_results, non_compliant_results,
       round(100 * CAST(compliant_results AS double)
             / nullif(compliant_results + non_compliant_results, 0), 2) AS score
FROM ranked
WHERE position = 1
ORDER BY week""",
    ),
    (
        "OpenViolationsByAge",
        "Open violations of the latest run by days open",
        """WITH latest AS (
  SELECT max(run_id) AS latest_run FROM violations
), open_ages AS (
  SELECT date_diff('day', from_iso8601_timestamp(first_seen),
                   from_iso8601_timestamp(generated_at)) AS age_days
  FROM violations
  JOIN latest ON run_id = latest_run
  WHERE state = 'open'
)
SELECT CASE WHEN age_days < 7 THEN '0-6'
            WHEN age_days < 30 THEN '7-29'
            WHEN age_days < 90 THEN '30-89'
            ELSE '90+' END AS days_open,
       count(*) AS open_violations
FROM open_ages
GROUP BY 1
ORDER BY min(age_days)""",
    ),
    (
        "TopRules",
        "The ten rules with the most non-compliant results in the latest run",
        """WITH latest AS (
  SELECT max(run_id) AS latest_run FROM rule_results
)
SELECT rule_name,
       sum(non_compliant) AS open_results,
       sum(compliant) AS compliant_results,
       round(100 * CAST(sum(compliant) AS double)
             / nullif(sum(compliant) + sum(non_compliant), 0), 2) AS score
FROM rule_results
JOIN latest ON run_id = latest_run
GROUP BY rule_name
ORDER BY open_results DESC, rule_name
LIMIT 10""",
    ),
)


def database_name() -> Join:
    """Glue names must be lower case for Athena, and CloudFormation has no lower-case function:
    compliance_reports_<the first, lower-case hex, part of the stack's UUID>, unique per stack."""
    stack_uuid = Select(2, Split("/", Ref("AWS::StackId")))
    return Join("_", ["compliance_reports", Select(0, Split("-", stack_uuid))])


def add_report_tables(stack: Stack) -> None:
    database = stack.add(
        glue.Database(
            "ReportsDatabase",
            Condition=CREATE_REPORT_TABLES,
            CatalogId=Ref("AWS::AccountId"),
            DatabaseInput=glue.DatabaseInput(
                Name=database_name(),
                Description=Sub("Compliance report tables of ${AWS::StackName}"),
            ),
        )
    )
    for table in COLUMNS:
        stack.add(_table(stack, database, table))
    workgroup = stack.add(
        athena.WorkGroup(
            "ReportsWorkGroup",
            Condition=CREATE_REPORT_TABLES,
            Name=Sub("${AWS::StackName}-reports"),
            Description="Queries over the compliance report tables",
            # The saved queries and query history go with the workgroup.
            RecursiveDeleteOption=True,
            WorkGroupConfiguration=athena.WorkGroupConfiguration(
                EnforceWorkGroupConfiguration=True,
                PublishCloudWatchMetricsEnabled=True,
                ResultConfiguration=athena.ResultConfiguration(
                    OutputLocation=Sub(
                        f"s3://${{Bucket}}/{ATHENA_RESULTS_PREFIX}/", Bucket=stack.bucket_name
                    ),
                    EncryptionConfiguration=athena.EncryptionConfiguration(
                        EncryptionOption="SSE_KMS", KmsKey=GetAtt(stack.id("key"), "Arn")
                    ),
                ),
            ),
        )
    )
    for name, description, sql in QUERIES:
        stack.add(
            athena.NamedQuery(
                f"ReportsQuery{name}",
                Condition=CREATE_REPORT_TABLES,
                Name=name,
                Description=description,
                Database=database.ref(),
                WorkGroup=workgroup.ref(),
                QueryString=sql,
            )
        )


def _table(stack: Stack, database: glue.Database, table: str) -> glue.Table:
    location = Sub(f"s3://${{Bucket}}/{TABLES_PREFIX}/{table}/", Bucket=stack.bucket_name)
    return glue.Table(
        "ReportsTable" + "".join(part.capitalize() for part in table.split("_")),
        Condition=CREATE_REPORT_TABLES,
        CatalogId=Ref("AWS::AccountId"),
        DatabaseName=database.ref(),
        TableInput=glue.TableInput(
            Name=table,
            TableType="EXTERNAL_TABLE",
            Parameters={
                "classification": "json",
                "compressionType": "gzip",
                "projection.enabled": "true",
                f"projection.{PARTITION_KEY}.type": "date",
                f"projection.{PARTITION_KEY}.format": "yyyy-MM-dd",
                f"projection.{PARTITION_KEY}.range": f"{PROJECTION_START},NOW",
                f"projection.{PARTITION_KEY}.interval": "1",
                f"projection.{PARTITION_KEY}.interval.unit": "DAYS",
                "storage.location.template": Sub(
                    f"s3://${{Bucket}}/{TABLES_PREFIX}/{table}/{PARTITION_KEY}=${{!{PARTITION_KEY}}}/",
                    Bucket=stack.bucket_name,
                ),
            },
            PartitionKeys=[glue.Column(Name=PARTITION_KEY, Type="string")],
            StorageDescriptor=glue.StorageDescriptor(
                Location=location,
                InputFormat=INPUT_FORMAT,
                OutputFormat=OUTPUT_FORMAT,
                SerdeInfo=glue.SerdeInfo(SerializationLibrary=SERDE),
                Columns=[glue.Column(Name=n, Type=t) for n, t in COLUMNS[table]],
            ),
        ),
    )


README_START = "<!-- athena-queries:start -->"
README_END = "<!-- athena-queries:end -->"


def readme_queries() -> str:
    """The README block between README_START and README_END: the saved queries, verbatim."""
    parts = []
    for name, description, sql in QUERIES:
        parts.append(f"**{name}**: {description}.\n\n```sql\n{sql}\n```")
    return "\n\n".join(parts)
