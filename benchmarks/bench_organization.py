"""Figures for the organization report: Config calls against the lower bound, wall time at a
stated per-call latency and throttling rate, segments of one function's 15 minutes, peak memory.

The reporting function's organization path (functions/reporting/org_report.py) runs on the fake
aggregator of tests/functions/fake_organization.py, which answers with the page limits AWS
documents, throttles each API with a token bucket on a virtual clock and charges each call a
virtual latency; S3 and SNS are stubs that keep objects on disk. A segment's 15 minutes are
measured on that clock (virtual call time + real CPU time), so a case that does not fit takes
several segments, as the report state machine would run them.

Prints figures, asserts nothing. Run from the repository root with the project's virtual
environment:

    .venv/bin/python benchmarks/bench_organization.py [--quick]
"""

from __future__ import annotations

import argparse
import math
import multiprocessing
import resource
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent
LAMBDA_SECONDS = 900.0
# Stated assumptions (docs/benchmarks.md): AWS publishes no per-API request rate for these
# Config calls on the pages read, so the figures are given at this latency and rate.
LATENCY = 0.15
RATE = 10.0
BURST = 20.0


sys.path.insert(0, str(ROOT))
import bench_functions as bench  # noqa: E402 - the benchmarks folder is not a package


@dataclass(frozen=True)
class Case:
    accounts: int
    regions: int
    rules: int
    resources: int  # per account and region
    rate: float | None = RATE


# The sequential reader makes at most 1 / LATENCY calls a second, under RATE: the 2-a-second
# case shows what throttling costs.
CASES = (
    Case(1_000, 4, 130, 100),
    Case(100, 4, 130, 100, rate=2.0),
    Case(10_000, 4, 130, 25),
)
QUICK = (Case(100, 4, 130, 100), Case(100, 4, 130, 100, rate=2.0))


def _rules(count: int) -> list[str]:
    import rulebook

    return [f"compliance-{suffix}" for suffix in sorted(rulebook.names())[:count]]


def run_case(case: Case) -> dict[str, Any]:
    import aws
    import org_collect
    import org_report
    import org_run
    import settings
    from fake_organization import DiskStorage, FakeOrganization, VirtualClock

    clock = VirtualClock()
    regions = ["us-east-1", "eu-west-1", "ap-southeast-2", "us-west-2", "eu-central-1"]
    fake = FakeOrganization(
        accounts=[f"{100000000000 + n:012d}" for n in range(case.accounts)],
        regions=regions[: case.regions],
        rules=_rules(case.rules),
        resources=case.resources,
        clock=clock,
        latency=LATENCY,
        rate=case.rate,
        burst=BURST,
    )
    storage = DiskStorage()
    bench.stub_clients(storage)
    fake.attach(aws.client("config"))
    common = settings.common(__import__("os").environ)
    store = org_run.Store(aws.client("s3"), common.bucket)
    moment = datetime(2024, 5, 1, 6, tzinfo=UTC)
    segments = 0
    cpu = time.process_time()
    done = False
    while not done:
        segments += 1
        start = clock.monotonic()
        done = bench.quiet(
            lambda: org_report.collect(
                common, "org", moment, store, clock, LAMBDA_SECONDS - org_report.SAFETY_SECONDS
            )
        )
        assert clock.monotonic() - start <= LAMBDA_SECONDS
        assert segments < 1_000
    collected = clock.monotonic()
    collection = store.load("2024-05-01T060000Z")
    result = bench.quiet(lambda: org_report.report(common, "org", moment, collection))
    report_seconds = clock.monotonic() - collected
    cpu = time.process_time() - cpu
    summary_key = f"{result['prefix']}summary.json"
    expected = fake.expected()
    totals = result["totals"]
    assert totals["compliant"] == sum(c for c, _ in expected.values()), "wrong compliant count"
    assert totals["nonCompliant"] == sum(n for _, n in expected.values()), "wrong count"
    rule_scopes = sum(1 for evaluated, _ in fake.per_rule() if evaluated) * len(fake.scopes)
    resources = len(fake.scopes) * case.resources
    bound = org_collect.lower_bound(resources, rule_scopes, len(fake.scopes))
    per_rule_reads = len(fake.scopes) * sum(
        math.ceil(evaluated / 100) for evaluated, _ in fake.per_rule() if evaluated
    )
    successful = sum(fake.calls.values()) - sum(fake.throttled.values())
    return {
        "case": case,
        "resources": resources,
        "rule_scopes": rule_scopes,
        "bound": bound,
        "calls": successful,
        "throttled": sum(fake.throttled.values()),
        "per_rule_reads": per_rule_reads,
        "collect_seconds": collected,
        "report_seconds": report_seconds,
        "virtual": clock.virtual,
        "cpu": cpu,
        "segments": segments,
        "peak": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "summary_kb": storage.sizes[summary_key] / 1024,
        "objects": sum(1 for key in storage.keys if "/tables/results/" in key),
    }


def _setup() -> None:
    bench.environment()
    sys.path.insert(0, str(ROOT.parent / "functions" / "reporting"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="100 accounts only")
    args = parser.parse_args()
    print(
        f"\n== organization report: latency {LATENCY:.2f} s a call, throttling per API at the "
        f"rate column (calls/s, burst {BURST:g}), Lambda {LAMBDA_SECONDS:.0f} s ==",
    )
    header = (
        f"{'accounts':>8}{'rg':>3}{'rules':>6}{'res/scope':>10}{'rate':>6}{'resources':>10}"
        f"{'bound':>8}{'calls':>8}{'ratio':>7}{'thrott':>7}{'per-rule':>10}"
        f"{'collect s':>10}{'report s':>9}{'segs':>5}{'fits':>5}{'peak MB':>8}{'summ KB':>8}"
        f"{'objects':>8}"
    )
    print(header)
    # One process per case (two at a time, one per core): each case's peak resident memory is
    # its own.
    with multiprocessing.get_context("spawn").Pool(2, initializer=_setup) as pool:
        figures = pool.map(run_case, QUICK if args.quick else CASES, chunksize=1)
    for f in figures:
        case = f["case"]
        fits = f["segments"] == 1 and f["collect_seconds"] + f["report_seconds"] <= LAMBDA_SECONDS
        rate = f"{case.rate:g}" if case.rate else "-"
        print(
            f"{case.accounts:>8}{case.regions:>3}{case.rules:>6}{case.resources:>10}{rate:>6}"
            f"{f['resources']:>10}{f['bound']:>8}{f['calls']:>8}{f['calls'] / f['bound']:>7.3f}"
            f"{f['throttled']:>7}{f['per_rule_reads']:>10}{f['collect_seconds']:>10.0f}"
            f"{f['report_seconds']:>9.0f}{f['segments']:>5}{'yes' if fits else 'no':>5}"
            f"{f['peak']:>8.0f}{f['summary_kb']:>8.0f}"
            f"{f['objects']:>8}",
            flush=True,
        )
    print(
        "(calls: successful Config calls; ratio: calls / lower bound; thrott: throttled "
        "attempts, retried after backoff; per-rule: the calls one pagination per rule, account "
        "and region would need; collect s / report s: virtual call time + real CPU time; segs: "
        "15-minute segments the collection took; peak MB: the case's process's peak resident "
        "memory, Python and the fakes included; objects: per-scope result objects)"
    )


if __name__ == "__main__":
    main()
