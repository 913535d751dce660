"""The organization report's engine path end to end on the emulator: org-central deployed, an
organization's results recorded in its aggregator (three accounts, two regions, one source
failing), the report state machine run from its deployed definition, each Lambda task answered
by the reporting handler in this process.

Why in process: moto's Step Functions backend could execute the definition, but its Lambda
tasks would run the code in Docker, which the emulator does without (it records Invokes and the
caller runs the handler). So the emulator interprets the deployed definition itself
(compliance_template.local.engine) and hands each task's payload to the real handler.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from e2e_handlers import run_handler
from template_helpers import TEMPLATES

from compliance_template.local.cycle import LocalStack, local_stack

TEMPLATE = TEMPLATES / "org-central.json"
ACCOUNTS = ("111111111111", "222222222222", "333333333333")
REGIONS = ("us-east-1", "eu-west-1")
RULES = ("compliance-s3-bucket-server-side-encryption-enabled", "compliance-ec2-imdsv2-check")
TIME = "2024-05-01T06:00:00Z"


@pytest.fixture(scope="module")
def stack() -> Iterator[LocalStack]:
    with local_stack(TEMPLATE) as running:
        running.deploy_stack({"OrganizationId": "o-a1b2c3d4e5"}, "central")
        emulator = running.emulator
        for a, account in enumerate(ACCOUNTS):
            for g, region in enumerate(REGIONS):
                for r, rule in enumerate(RULES):
                    for n in range(3 + a + g):
                        bad = (n + r) % 3 == 0
                        emulator.record_evaluation(
                            rule,
                            "AWS::S3::Bucket" if r == 0 else "AWS::EC2::Instance",
                            f"{account}-{region}-{n}",
                            "NON_COMPLIANT" if bad else "COMPLIANT",
                            account=account,
                            region=region,
                        )
        emulator.fail_source(ACCOUNTS[2], "eu-west-1", "AccessDeniedException", "role missing")
        yield running


def expected_non_compliant() -> int:
    return sum(
        1
        for a in range(len(ACCOUNTS))
        for g in range(len(REGIONS))
        for r in range(len(RULES))
        for n in range(3 + a + g)
        if (n + r) % 3 == 0
    )


def test_the_state_machine_runs_the_report_in_its_phases(stack):
    phases = []

    def invoke(function: str, payload: dict) -> dict:
        phases.append(payload.get("phase"))
        return run_handler(stack, "reporting", payload)

    arn = stack.outputs["ReportStateMachineArn"]
    result = stack.emulator.start_report_execution(
        arn, {"time": TIME, "source": "aws.events"}, invoke
    )
    assert result["status"] == "SUCCEEDED", result
    assert result["output"] == {"status": "reported"}
    assert phases == ["collect", "report"]
    execution = stack.client("stepfunctions").describe_execution(
        executionArn=result["executionArn"]
    )
    assert execution["status"] == "SUCCEEDED"

    s3 = stack.client("s3")
    bucket = stack.outputs["ReportsBucketName"]
    summary = json.loads(
        s3.get_object(Bucket=bucket, Key="reports/2024-05-01T060000Z/summary.json")["Body"].read()
    )
    assert summary["scope"]["aggregator"]
    assert summary["totals"]["nonCompliant"] == expected_non_compliant()
    coverage = summary["coverage"]
    assert coverage["complete"] is False
    assert coverage["missing"] == [
        {
            "account": ACCOUNTS[2],
            "region": "eu-west-1",
            "reason": "aggregation failed: AccessDeniedException: role missing",
        }
    ]
    assert coverage["fallbackScopes"] == []
    assert coverage["calls"] == coverage["lowerBound"]
    listed = s3.list_objects_v2(Bucket=bucket, Prefix="reports/tables/results/dt=2024-05-01/")
    assert len(listed["Contents"]) == len(ACCOUNTS) * len(REGIONS)
