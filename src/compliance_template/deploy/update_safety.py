"""Update safety: would deploying this template over the released one replace stateful data?

Compares a template with the last released copy (`templates/released/`). A stateful resource
(bucket, key, log group, queue, topic: `stateful.STATEFUL_TYPES`) is lost or replaced when its
logical id disappears or a property that cannot change in place
(`stateful.create_only_properties`) changes. A changed type under the same logical id is reported
for every resource, stateful or not: CloudFormation refuses such an update outright. Each such
change fails the check unless `templates/released/acknowledged.json` lists it with the reason it
is acceptable.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ..paths import TEMPLATES_DIR
from ..stateful import STATEFUL_TYPES, create_only_properties

RELEASED_DIR = TEMPLATES_DIR / "released"
ACKNOWLEDGED = RELEASED_DIR / "acknowledged.json"


@dataclass(frozen=True, order=True)
class Change:
    logical_id: str
    what: str  # "removed", "type", or the property name

    def describe(self) -> str:
        if self.what == "removed":
            return f"{self.logical_id}: removed or renamed (the resource and its data are deleted)"
        if self.what == "type":
            return (
                f"{self.logical_id}: type changed (CloudFormation refuses to change a resource's "
                "type in an update: give the new resource a new logical id)"
            )
        return f"{self.logical_id}: {self.what} changed (cannot change in place)"


def replacing_changes(released: dict, current: dict) -> list[Change]:
    changes = []
    now = current.get("Resources", {})
    for logical_id, before in released.get("Resources", {}).items():
        after = now.get(logical_id)
        if after is not None and after.get("Type") != before.get("Type"):
            changes.append(Change(logical_id, "type"))
        elif before.get("Type") not in STATEFUL_TYPES:
            continue
        elif after is None:
            changes.append(Change(logical_id, "removed"))
        else:
            old, new = before.get("Properties", {}), after.get("Properties", {})
            changes.extend(
                Change(logical_id, name)
                for name in create_only_properties(before["Type"])
                if old.get(name) != new.get(name)
            )
    return sorted(changes)


def load_acknowledged(path: Path = ACKNOWLEDGED) -> dict[tuple[str, str], str]:
    """{(template file, "LogicalId what"): reason}; every entry needs a reason."""
    if not path.exists():
        return {}
    entries = json.loads(path.read_text(encoding="utf-8"))
    acknowledged = {}
    for index, entry in enumerate(entries):
        reason = entry.get("reason", "").strip()
        if len(reason) < 20:
            raise ValueError(f"{path.name}[{index}]: a replacement needs a reason a reviewer reads")
        acknowledged[(entry["template"], f"{entry['logical_id']} {entry['what']}")] = reason
    return acknowledged


def unacknowledged(
    template_name: str, released: dict, current: dict, acknowledged: dict[tuple[str, str], str]
) -> list[Change]:
    return [
        change
        for change in replacing_changes(released, current)
        if (template_name, f"{change.logical_id} {change.what}") not in acknowledged
    ]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m compliance_template.deploy.update_safety",
        description="Fail when a template would replace stateful resources of the release.",
    )
    parser.add_argument("templates", nargs="*", type=Path)
    args = parser.parse_args(argv)
    acknowledged = load_acknowledged()
    failures = 0
    for path in args.templates or sorted(TEMPLATES_DIR.glob("*.json")):
        released_path = RELEASED_DIR / path.name
        if not released_path.exists():
            print(f"{path.name}: no released copy yet, nothing to compare")
            continue
        released = json.loads(released_path.read_text(encoding="utf-8"))
        current = json.loads(path.read_text(encoding="utf-8"))
        for change in unacknowledged(path.name, released, current, acknowledged):
            print(f"{path.name}: {change.describe()}")
            failures += 1
    if failures:
        print(f"{failures} unacknowledged replacement(s): see {ACKNOWLEDGED.name} in the docs")
        return 1
    print("no stateful resource would be replaced")
    return 0


if __name__ == "__main__":
    sys.exit(main())
