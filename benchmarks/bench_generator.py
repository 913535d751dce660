"""Generation time and template size for the largest frameworks (`make bench`).

Target (docs/benchmarks.md): a 130-rule framework generates in under 0.5 s. Figures are printed,
never asserted: a timed test would fail on a slow machine for no fault of the code.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from compliance_template.generator.cli import KINDS  # noqa: E402
from compliance_template.generator.limits import build_within_limits  # noqa: E402
from compliance_template.generator.settings import Settings, load_settings  # noqa: E402
from compliance_template.output import render  # noqa: E402

RUNS = 5
CASES = (
    ("default stack (4 rules)", "stack", lambda: Settings()),
    (
        "nist-800-53-rev-5 (130 rules)",
        "stack",
        lambda: Settings.from_mapping({"frameworks": ["nist-800-53-rev-5"]}),
    ),
    (
        "nist-800-53-rev-5, conformance pack",
        "conformance-pack",
        lambda: Settings.from_mapping({"frameworks": ["nist-800-53-rev-5"]}),
    ),
    (
        "CIS v1.4 L2 + NIST 800-53 r5 + PCI DSS 4.0 (union)",
        "stack",
        lambda: load_settings(ROOT / "examples" / "frameworks-cis-nist-pci.json"),
    ),
)


def measure(kind: str, settings_of: Callable[[], Settings]) -> tuple[float, int, int, int]:
    """Median seconds from settings to rendered JSON (limits checked), size, resources, rules."""
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        settings = settings_of()
        template = build_within_limits(lambda s=settings: KINDS[kind](s), kind)
        text = render(template, "json")
        times.append(time.perf_counter() - start)
    document = json.loads(text)
    return (
        statistics.median(times),
        len(text.encode()),
        len(document["Resources"]),
        len(settings.enabled_rules),
    )


def main() -> None:
    print(f"{'template':55} {'rules':>5} {'resources':>9} {'bytes':>9} {'seconds':>8}")
    for label, kind, settings_of in CASES:
        seconds, size, resources, rules = measure(kind, settings_of)
        print(f"{label:55} {rules:5} {resources:9} {size:9} {seconds:8.3f}")


if __name__ == "__main__":
    main()
