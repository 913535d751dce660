"""`make report-sample`: a real report to look at, from the stack deployed on the local emulator.

The account stack (templates/compliance-monitoring.json) is deployed on moto on 127.0.0.1 as
`make deploy-local` deploys it (compliance_template.local.cycle); Config results are seeded for
its rules over SAMPLE_DAYS daily runs (violations appearing, fixed, one regressing), and the
deployed reporting function's handler runs once per day, in this process, with that day's
scheduled event. The last run's files are copied to build/sample-report/ (replaced as a whole,
never left half written), with a full-page screenshot when Chromium is installed
(scripts/install-browser.sh). Nothing leaves the machine: every AWS call goes to the emulator.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import shutil
import sys
import tempfile
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TextIO

from ..deploy import account as deploy
from ..function_loader import function_module
from ..paths import FUNCTIONS_DIR, PROJECT_ROOT
from .cycle import LocalStack, environment, local_stack

OUT = PROJECT_ROOT / "build" / "sample-report"
SAMPLE_DAYS = 8
FIRST_DAY = datetime(2026, 11, 24, 6, 0, tzinfo=UTC)
RESOURCES_PER_RULE = 12
FILES = ("report.html", "details.csv", "summary.json", "manifest.json")
OVERVIEW_HEIGHT = 2900  # CSS pixels of the page's top that overview.png shows
REPORTING = "ReportingFunction"


def resource_type(rule: str) -> str:
    """A plausible resource type for a rule's name (moto evaluates none, so any is accepted)."""
    for word, kind in (
        ("s3-", "AWS::S3::Bucket"),
        ("volume", "AWS::EC2::Volume"),
        ("db-", "AWS::RDS::DBInstance"),
        ("instance", "AWS::EC2::Instance"),
        ("iam", "AWS::IAM::User"),
    ):
        if word in rule:
            return kind
    return "AWS::EC2::SecurityGroup"


def non_compliant(rule_index: int, resource: int, day: int) -> bool:
    """The story the sample tells, by day (0 to SAMPLE_DAYS - 1): a few resources fail from the
    start; one more fails each of the first days and is fixed three days later; resource 1
    fails on day 2, is fixed on day 4 and fails again on the last day (a regression)."""
    if (resource + rule_index) % 5 == 0:
        return True
    if resource == 1:
        return 2 <= day < 4 or day == SAMPLE_DAYS - 1
    return resource == 6 + day % 4 and rule_index % 2 == 0


def seed(stack: LocalStack, rules: Sequence[str], day: int, at: datetime) -> int:
    """That day's results of every rule on the emulator; the number non-compliant."""
    stack.emulator.compliance.clear()
    failing = 0
    for index, rule in enumerate(rules):
        kind = resource_type(rule)
        for resource in range(RESOURCES_PER_RULE):
            bad = non_compliant(index, resource, day)
            failing += bad
            stack.emulator.record_evaluation(
                rule,
                kind,
                f"sample-{kind.rsplit('::', 1)[1].lower()}-{index:02d}-{resource:03d}",
                "NON_COMPLIANT" if bad else "COMPLIANT",
                "Seeded by make report-sample." if bad else "",
                at.timestamp(),
            )
    return failing


def stack_rules(stack: LocalStack) -> list[str]:
    return sorted(
        stack.physical[logical]
        for logical, kind in stack.types.items()
        if kind == "AWS::Config::ConfigRule" and logical in stack.physical
    )


class _Context:
    """What the handler reads from Lambda's context object."""

    def __init__(self, function_name: str, region: str, account: str) -> None:
        self.function_name = function_name
        self.aws_request_id = str(uuid.uuid4())
        self.invoked_function_arn = f"arn:aws:lambda:{region}:{account}:function:{function_name}"


def run_report(stack: LocalStack, moment: datetime) -> dict[str, Any]:
    """The deployed reporting function's handler, in this process, with its deployed
    environment and the schedule's event for ``moment``."""
    import os

    from .cycle import REGION
    from .emulator import ACCOUNT_ID

    name = stack.physical[REPORTING]
    deployed = stack.client("lambda").get_function_configuration(FunctionName=name)
    schedule = stack.client("events").describe_rule(Name=stack.physical["ReportScheduleRule"])
    event = {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": ACCOUNT_ID,
        "time": moment.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": REGION,
        "resources": [schedule["Arn"]],
        "detail": {},
    }
    env = {**os.environ, **deployed["Environment"]["Variables"], "AWS_LAMBDA_FUNCTION_NAME": name}
    # The function's JSON log lines and metrics would bury the few lines this command prints;
    # they are shown only when the run fails.
    captured = io.StringIO()
    with (
        environment(env),
        function_module(FUNCTIONS_DIR / "reporting") as app,
        contextlib.redirect_stdout(captured),
    ):
        result = app.handler(event, _Context(name, REGION, ACCOUNT_ID))
    if result.get("status") != "reported":
        raise RuntimeError(
            f"report-sample: the reporting run of {event['time']} failed: {result}\n"
            f"{captured.getvalue()[-4000:]}"
        )
    return result


def _replace(folder: Path, out: Path) -> None:
    """``folder`` becomes ``out``; an earlier ``out`` is removed only after the rename."""
    old = out.with_name(out.name + ".old")
    shutil.rmtree(old, ignore_errors=True)
    if out.exists():
        out.rename(old)
    folder.rename(out)
    shutil.rmtree(old, ignore_errors=True)


def build_sample(
    out: Path = OUT,
    template: Path = deploy.DEFAULT_TEMPLATE,
    days: int = SAMPLE_DAYS,
    log: TextIO = sys.stdout,
) -> Path:
    """Deploy, run ``days`` daily reports, copy the last one's files to ``out``."""
    out.parent.mkdir(parents=True, exist_ok=True)
    with local_stack(template, log) as stack:
        stack.account_setup()
        print(stack.create(), file=log)
        rules = stack_rules(stack)
        result: dict[str, Any] = {}
        for day in range(days):
            moment = FIRST_DAY + timedelta(days=day)
            failing = seed(stack, rules, day, moment)
            result = run_report(stack, moment)
            print(f"run {result['prefix']}: {failing} non-compliant", file=log)
        s3, bucket = stack.client("s3"), stack.physical["ReportsBucket"]
        staging = Path(tempfile.mkdtemp(prefix=".sample-report-", dir=out.parent))
        staging.chmod(0o755)  # mkdtemp's 0700 would keep the report from other readers
        try:
            for name in FILES:
                key = f"{result['prefix']}{name}"
                listed = s3.list_objects_v2(Bucket=bucket, Prefix=key).get("KeyCount", 0)
                if listed:
                    body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
                    (staging / name).write_bytes(body)
            _screenshot(staging, log)
            _replace(staging, out)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
    return out


def _screenshot(folder: Path, log: TextIO) -> None:
    from . import browser

    try:
        browser.find()
    except browser.BrowserMissing as missing:
        print(f"no screenshot: {missing}", file=log)
        return
    browser.screenshot(folder / "report.html", folder / "screenshot.png")
    # The top of the page (headline, what changed, the trend charts): the picture the README shows.
    browser.screenshot(folder / "report.html", folder / "overview.png", height=OVERVIEW_HEIGHT)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m compliance_template.local.report_sample",
        description="A sample report from the stack on the local emulator (build/sample-report/).",
    )
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--template", type=Path, default=deploy.DEFAULT_TEMPLATE)
    parser.add_argument("--days", type=int, default=SAMPLE_DAYS)
    args = parser.parse_args(argv)
    if args.days < 1:
        parser.error(f"--days: {args.days} is not allowed: a whole number of days, at least 1")
    if not args.template.is_file():
        print(f"report-sample: error: no template at {args.template}: run `make template`")
        return 2
    out = build_sample(args.out, args.template, args.days)
    print(f"sample report: {out / 'report.html'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
