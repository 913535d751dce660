"""Reports for the browser tests, written by the real reporting handler: in-process moto and
Config's compliance APIs from tests/functions/function_fakes.py, several runs each whose results
change between runs, so the trend, the changes and the tables have something to show."""

from __future__ import annotations

import importlib.util
import json
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

FUNCTION_TESTS = Path(__file__).resolve().parents[1] / "functions"
if str(FUNCTION_TESTS) not in sys.path:
    sys.path.insert(0, str(FUNCTION_TESTS))

from exemption_helpers import exemption, store  # noqa: E402
from function_fakes import FakeConfig  # noqa: E402


def _function_fixtures() -> Any:
    """tests/functions/conftest.py as a module of its own name (its World, load_app and
    constants), without taking the name `conftest` other folders' fixtures use."""
    spec = importlib.util.spec_from_file_location(
        "browser_function_fixtures", FUNCTION_TESTS / "conftest.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


fixtures = _function_fixtures()
VOLUMES = "compliance-encrypted-volumes"
# The trend's highest point in the large report: the chart's axis label is five digits wide.
LARGE_PEAK = 76_188
LARGE_RESULTS = 100_000


class LongIdConfig(FakeConfig):
    """Resource ids as long as S3 object ARNs get: one unbroken 120-character word."""

    @staticmethod
    def _item(rule: str, source: tuple[str, str, int, int], index: int) -> dict[str, Any]:
        item = FakeConfig._item(rule, source, index)
        qualifier = item["EvaluationResultIdentifier"]["EvaluationResultQualifier"]
        qualifier["ResourceId"] = (
            "arn:aws:s3:::" + "data-lake-raw-zone-ingest-partition-" * 2 + qualifier["ResourceId"]
        )[:120]
        return item


@dataclass(frozen=True)
class Run:
    time: str  # the scheduled event's time
    results: Callable[[FakeConfig], None]  # adds this run's results


@dataclass(frozen=True)
class Report:
    name: str
    folder: Path  # report.html, details.csv, summary.json (and manifest.json when written)
    summary: dict[str, Any]

    @property
    def html(self) -> Path:
        return self.folder / "report.html"


@contextmanager
def _account(env: dict[str, str]) -> Iterator[Any]:
    """The functions' moto account of tests/functions/conftest.py, for one report's runs."""
    from moto import mock_aws

    with pytest.MonkeyPatch.context() as patch:
        for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_CONFIG_FILE", "AWS_ENDPOINT_URL"):
            patch.delenv(name, raising=False)
        for name, value in {
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": fixtures.REGION,
            "AWS_REGION": fixtures.REGION,
            "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
            "LOG_LEVEL": "WARNING",
            **env,
        }.items():
            patch.setenv(name, value)
        import aws

        aws.reset_clients()
        config = {"lambda": {"use_docker": False}, "core": {"reset_boto3_session": False}}
        try:
            with mock_aws(config=config):
                yield fixtures.World(patch)
        finally:
            aws.reset_clients()


def build(
    name: str,
    runs: Sequence[Run],
    out: Path,
    env: dict[str, str] | None = None,
    fake: type[FakeConfig] = FakeConfig,
    exemptions: Sequence[dict[str, Any]] = (),
) -> Report:
    """Run the reporting handler once per run; the last run's files copied to ``out/name``."""
    reporting = fixtures.load_app("reporting")
    with _account(env or {}) as world:
        if exemptions:
            store(world, *exemptions)
        prefix = ""
        for index, run in enumerate(runs):
            config = fake()
            run.results(config)
            config.attach(world.aws.client("config"))
            event = {"time": run.time, "detail-type": "Scheduled Event"}
            context = fixtures.lambda_context(f"{name}-{index}", "reporting")
            result = reporting.handler(event, context)
            assert result.get("status") == "reported", result
            world.aws.reset_clients()  # the next run's Config answers from its own fake
            prefix = result["prefix"]
        folder = out / name
        folder.mkdir(parents=True)
        for key in world.keys(prefix):
            (folder / key.rsplit("/", 1)[1]).write_bytes(world.read(key))
    summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    return Report(name, folder, summary)


def _day(day: int) -> str:
    return f"2026-11-{day:02d}T06:00:00Z"


def small_account(out: Path) -> Report:
    """One account and region, three rules, four daily runs: a violation appears, one is fixed."""
    rules = list(fixtures.RULES)[:3]
    counts = [(40, 2), (39, 3), (41, 1), (38, 4)]

    def results(compliant: int, non_compliant: int) -> Callable[[FakeConfig], None]:
        def add(config: FakeConfig) -> None:
            for n, rule in enumerate(rules):
                config.add(rule, compliant + n, non_compliant if n != 1 else 0)

        return add

    runs = [Run(_day(20 + n), results(*c)) for n, c in enumerate(counts)]
    return build("small", runs, out)


ACCOUNTS = [f"{100000000000 + 7919 * n:012d}" for n in range(12)]
REGIONS = ["us-east-1", "eu-west-1", "ap-southeast-2"]


def aggregator(out: Path) -> Report:
    """An aggregator over 12 accounts in 3 regions, five rules, an exemption expiring soon and
    one expired; six runs with the violations rising, falling and rising again."""

    def results(level: int) -> Callable[[FakeConfig], None]:
        def add(config: FakeConfig) -> None:
            for r, rule in enumerate(fixtures.RULES):
                for a, account in enumerate(ACCOUNTS):
                    for g, region in enumerate(REGIONS):
                        bad = (level * (a + 1) + r + g) % 4
                        config.add(rule, 5 + (a + g) % 7, bad, account, region)

        return add

    account, region = ACCOUNTS[3], REGIONS[1]
    exempt = [
        exemption(
            id="build-volumes",
            resources=[f"{account}-{region}-resource-*"],
            accounts=[account],
            granted="2026-01-01",
            expires="2026-12-05",
        ),
        exemption(id="old-scratch", granted="2025-01-01", expires="2025-06-30"),
    ]
    runs = [Run(_day(20 + n), results(level)) for n, level in enumerate([0, 1, 2, 1, 3, 2])]
    return build("aggregator", runs, out, {"AGGREGATOR_NAME": "org-compliance"}, exemptions=exempt)


def large(out: Path) -> Report:
    """100,000 results with 120-character ids: the table is cut at its row limit, and the
    trend's peak is LARGE_PEAK compliant results."""
    rules = [rule for rule in fixtures.RULES if rule != VOLUMES]
    per_rule = LARGE_RESULTS // len(rules)
    compliant = LARGE_PEAK // len(rules)

    def results(share: float) -> Callable[[FakeConfig], None]:
        def add(config: FakeConfig) -> None:
            for rule in rules:
                good = round(compliant * share)
                config.add(rule, good, per_rule - good)

        return add

    runs = [Run(_day(28), results(0.9)), Run(_day(29), results(0.95)), Run(_day(30), results(1))]
    return build("large", runs, out, fake=LongIdConfig)


BUILDERS = {"small": small_account, "aggregator": aggregator, "large": large}
