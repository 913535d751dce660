"""Figures for the Lambda functions: AWS calls per event, handler time, import cost, reporting.

Prints figures, asserts nothing. Import times are measured from the zips `make package` builds
(`make bench` builds them first). No AWS and no network: every client is a real boto3 client whose
HTTP exchange is answered in memory (tests/functions/function_fakes.py). Run from the repository
root with the project's virtual environment:

    .venv/bin/python benchmarks/bench_functions.py [--quick]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import statistics
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Any

from compliance_template.function_loader import import_app
from compliance_template.generator.naming import FUNCTION_NAMES as NAMES

ROOT = Path(__file__).resolve().parents[1]
FUNCTIONS = ROOT / "functions"
REGION, ACCOUNT = "us-east-1", "123456789012"
RULES = {
    "compliance-desired-instance-type": "DESIRED_INSTANCE_TYPE",
    "compliance-s3-bucket-server-side-encryption-enabled": (
        "S3_BUCKET_SERVER_SIDE_ENCRYPTION_ENABLED"
    ),
    "compliance-db-instance-backup-enabled": "DB_INSTANCE_BACKUP_ENABLED",
    "compliance-encrypted-volumes": "ENCRYPTED_VOLUMES",
}

BUILD = ROOT / "build"
# Run in a fresh interpreter: times `import boto3` (the runtime's, with its bytecode) and then the
# function's app module, and reports which of the function's modules came from cached bytecode.
_IMPORT_PROBE = """
import json, sys, time
sys.path.insert(0, {folder!r})
t0 = time.perf_counter()
import boto3
t1 = time.perf_counter()
import importlib.util
spec = importlib.util.spec_from_file_location("app", {folder!r} + "/app.py")
module = sys.modules["app"] = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
t2 = time.perf_counter()
from_bytecode = sorted(
    name for name, m in list(sys.modules.items())
    if (getattr(m, "__file__", None) or "").startswith({folder!r})
    and getattr(m, "__cached__", None)
    and __import__("os").path.exists(m.__cached__)
)
print(json.dumps({{"boto3": t1 - t0, "app": t2 - t1, "from_bytecode": from_bytecode}}))
"""


def extracted_read_only(archive: Path, into: Path) -> Path:
    """The zip unpacked as Lambda holds it: no bytecode, nothing writable."""
    import zipfile

    with zipfile.ZipFile(archive) as zf:
        zf.extractall(into)
    for path in sorted(into.rglob("*"), reverse=True):
        path.chmod(0o555 if path.is_dir() else 0o444)
    into.chmod(0o555)
    return into


def import_probe(folder: Path, write_bytecode: bool = False) -> dict[str, Any]:
    """Import times in seconds and the function modules loaded from cached bytecode."""
    env = {"PATH": os.environ["PATH"]}
    if not write_bytecode:
        env["PYTHONDONTWRITEBYTECODE"] = "1"
    out = subprocess.run(
        [sys.executable, "-c", _IMPORT_PROBE.format(folder=str(folder))],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    ).stdout
    return json.loads(out)


def environment() -> None:
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL"):
        os.environ.pop(name, None)
    os.environ.update(
        AWS_ACCESS_KEY_ID="bench",
        AWS_SECRET_ACCESS_KEY="bench",
        AWS_DEFAULT_REGION=REGION,
        AWS_REGION=REGION,
        AWS_SHARED_CREDENTIALS_FILE=os.devnull,
        AWS_CONFIG_FILE=os.devnull,
        REPORTS_BUCKET="bench-reports",
        TOPIC_ARN=f"arn:aws:sns:{REGION}:{ACCOUNT}:compliance",
        RULE_NAME_PREFIX="compliance",
        FRAMEWORKS="",
        REMEDIATION_FUNCTION=f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:remediation",
        REMEDIATE_RULES='["ENCRYPTED_VOLUMES"]',
        LOG_LEVEL="WARNING",
    )
    for name in NAMES:
        sys.path.insert(0, str(FUNCTIONS / name))
    sys.path.insert(0, str(ROOT / "tests" / "functions"))


def load(name: str) -> ModuleType:
    return import_app(FUNCTIONS / name, f"{name}_app")


def context(request_id: str, function: str) -> SimpleNamespace:
    return SimpleNamespace(
        aws_request_id=request_id,
        invoked_function_arn=f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{function}",
    )


def quiet(call: Callable[[], Any]) -> Any:
    """Run with stdout discarded: the functions print a log line and EMF per event."""
    saved = sys.stdout
    sys.stdout = open(os.devnull, "w")  # noqa: SIM115
    try:
        return call()
    finally:
        sys.stdout.close()
        sys.stdout = saved


def stub_clients(storage: Any, services: tuple[str, ...] = ("s3", "sns", "lambda")) -> None:
    import aws

    aws.reset_clients()
    for service in services:
        storage.attach(aws.client(service))


def import_times(runs: int) -> None:
    """From build/<function>.zip, as Lambda runs it: extracted to a read-only folder, without
    bytecode (the zips carry none, and Lambda cannot write any there), so every module of the
    function is compiled from source at each cold start. For comparison, the source folder with
    its bytecode cached by an earlier run."""
    import tempfile

    missing = [name for name in NAMES if not (BUILD / f"{name}.zip").is_file()]
    if missing:
        sys.exit(f"bench: no build/{missing[0]}.zip: run `make package` (or `make bench`)")
    print(f"\n== Cold import (fresh interpreter, median of {runs}) ==")
    print(f"{'module':<14}{'import boto3 ms':>18}{'app from zip ms':>18}{'cached bytecode ms':>20}")
    for name in NAMES:
        with tempfile.TemporaryDirectory(prefix=f"bench-{name}-") as work:
            folder = extracted_read_only(BUILD / f"{name}.zip", Path(work) / name)
            try:
                cold = [import_probe(folder) for _ in range(runs)]
            finally:
                for path in [folder, *folder.rglob("*")]:
                    path.chmod(0o755 if path.is_dir() else 0o644)  # let the cleanup delete it
        assert not any(run["from_bytecode"] for run in cold), "bytecode in the zip"
        source = FUNCTIONS / name
        import_probe(source, write_bytecode=True)  # leaves __pycache__ for the cached runs
        cached = [import_probe(source) for _ in range(runs)]
        shutil.rmtree(source / "__pycache__", ignore_errors=True)
        print(
            f"{name:<14}{statistics.median(r['boto3'] * 1000 for r in cold):>18.1f}"
            f"{statistics.median(r['app'] * 1000 for r in cold):>18.1f}"
            f"{statistics.median(r['app'] * 1000 for r in cached):>20.1f}"
        )


def processing_calls(events: int) -> None:
    from function_events import change_event
    from function_fakes import StubStorage

    processing = load("processing")
    print("\n== processing: AWS calls per event (stubbed clients) ==")
    print(f"{'new <- old':<62}{'calls':>6}  {'operations':<32}{'ms/event':>9}")
    cases = [
        ("NON_COMPLIANT", "COMPLIANT", "AWS::EC2::Volume"),
        ("NON_COMPLIANT", None, "AWS::S3::Bucket"),
        ("NON_COMPLIANT", "NON_COMPLIANT", "AWS::S3::Bucket"),
        ("COMPLIANT", "NON_COMPLIANT", "AWS::S3::Bucket"),
        ("COMPLIANT", None, "AWS::S3::Bucket"),
        ("NOT_APPLICABLE", "COMPLIANT", "AWS::S3::Bucket"),
        ("INSUFFICIENT_DATA", None, "AWS::S3::Bucket"),
    ]
    for new, old, resource_type in cases:
        label = f"{new} <- {old or 'none'}" + (
            " (hand-off)" if resource_type == "AWS::EC2::Volume" else ""
        )
        _processing_case(processing, events, label, change_event, new, old, resource_type)
    # The AWS-native engine (SSM_REMEDIATION): Config starts the remediation itself ("config"),
    # or processing does in enforce mode for a rule with settings exemptions ("processing").
    bucket_rule = '{"S3_BUCKET_SERVER_SIDE_ENCRYPTION_ENABLED": "%s"}'
    for start, label in (
        ("config", "ssm engine, Config starts it"),
        ("processing", "ssm engine, processing starts it"),
    ):
        os.environ.update(SSM_REMEDIATION=bucket_rule % start, REMEDIATION_MODE="enforce")
        try:
            _processing_case(
                processing,
                events,
                f"NON_COMPLIANT <- COMPLIANT ({label})",
                change_event,
                "NON_COMPLIANT",
                "COMPLIANT",
                "AWS::S3::Bucket",
            )
        finally:
            os.environ.pop("SSM_REMEDIATION")
            os.environ.pop("REMEDIATION_MODE")
    storage = StubStorage()
    stub_clients(storage)
    event = change_event("NON_COMPLIANT", "COMPLIANT", resource_type="AWS::S3::Bucket")
    quiet(lambda: processing.handler(event, context("first", "processing")))
    storage.calls.clear()
    quiet(lambda: processing.handler(event, context("duplicate", "processing")))
    print(
        f"{'duplicate delivery':<62}{sum(storage.calls.values()):>6.2f}  "
        f"{'+'.join(sorted(storage.calls)):<32}"
    )
    malformed = StubStorage()
    stub_clients(malformed)
    quiet(lambda: processing.handler({"source": "aws.config"}, context("bad", "processing")))
    print(f"{'malformed event':<62}{sum(malformed.calls.values()):>6.2f}")


def _processing_case(
    processing: ModuleType,
    events: int,
    label: str,
    change_event: Callable[..., dict[str, Any]],
    new: str,
    old: str | None,
    resource_type: str,
) -> None:
    """Handle ``events`` evaluations of one resource in time order; print calls and time."""
    from function_fakes import StubStorage

    storage = StubStorage()
    # Config answers only processing's remediation calls here; reporting has its own fake.
    stub_clients(storage, ("s3", "sns", "lambda", "config"))
    start = time.perf_counter()
    for i in range(events):
        second = f"{i // 1000:02d}:{i // 60 % 60:02d}:{i % 60:02d}"[-8:]
        event = change_event(
            new, old, resource_type=resource_type, ordering=f"2024-05-01T{second}.000Z"
        )
        quiet(lambda e=event, i=i: processing.handler(e, context(f"r{i}", "processing")))
    elapsed = (time.perf_counter() - start) * 1000 / events
    per_event = sum(storage.calls.values()) / events
    operations = "+".join(sorted(storage.calls))
    print(f"{label:<62}{per_event:>6.2f}  {operations:<32}{elapsed:>9.2f}")


def reporting_scale(sizes: list[int]) -> None:
    import aws
    from function_fakes import FakeConfig, StubStorage

    reporting = load("reporting")
    print("\n== reporting: Config calls vs lower bound, time, peak memory ==")
    print(
        f"{'results':>9}{'calls':>8}{'bound':>8}{'ratio':>7}{'seconds':>9}{'peak MB':>9}"
        f"{'csv MB':>8}{'html MB':>8}"
    )
    for total in sizes:
        figures = {}
        for traced in (False, True):
            fake, storage = FakeConfig(), StubStorage()
            per_rule = total // len(RULES)
            for rule in RULES:
                fake.add(rule, per_rule - per_rule // 10, per_rule // 10)
            stub_clients(storage)
            fake.attach(aws.client("config"))
            if traced:
                tracemalloc.start()
            start = time.perf_counter()
            quiet(
                lambda: reporting.handler(
                    {"time": "2024-05-01T06:00:00Z"}, context("report", "reporting")
                )
            )
            seconds = time.perf_counter() - start
            if traced:
                figures["peak"] = tracemalloc.get_traced_memory()[1] / 2**20
                tracemalloc.stop()
            else:
                figures["seconds"] = seconds
            figures["calls"] = sum(fake.calls.values())
            figures["sizes"] = storage.sizes
        bound = sum(math.ceil(per_rule / 100) for _ in RULES)
        sizes_mb = {key.rsplit("/", 1)[-1]: size / 2**20 for key, size in figures["sizes"].items()}
        print(
            f"{total:>9}{figures['calls']:>8}{bound:>8}{figures['calls'] / bound:>7.3f}"
            f"{figures['seconds']:>9.2f}{figures['peak']:>9.1f}"
            f"{sizes_mb.get('details.csv', 0):>8.2f}{sizes_mb.get('report.html', 0):>8.2f}"
        )
    print("(peak memory: Python allocations traced by tracemalloc during the handler call)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions, up to 10,000")
    options = parser.parse_args()
    environment()
    import_times(3 if options.quick else 7)
    processing_calls(50 if options.quick else 300)
    reporting_scale([1_000, 10_000] if options.quick else [1_000, 10_000, 100_000])


if __name__ == "__main__":
    main()
