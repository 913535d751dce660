"""What each catalog rule checks, what a person should do about a finding, the resource types it
evaluates and what remediation does for it.

The facts come from the rule catalog: `make template` writes them to rulebook.json beside this
module (never edit that file), and packaging puts both in every function. JSON rather than a
generated Python module because the zips carry no bytecode: parsing JSON at a cold start is
cheaper than compiling a large literal. It is read on first use, so importing stays cheap.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import NamedTuple

# Beside this module in every function folder (a symlink to the one in _shared) and in the zip.
RULEBOOK_FILE = Path(__file__).with_name("rulebook.json")


class Rule(NamedTuple):
    description: str
    what_to_do: str
    resource_types: tuple[str, ...]
    remediation: str | None  # None: no automatic remediation


_UNKNOWN = Rule(
    "A rule this version of the functions does not describe.",
    "Read the rule's runbook.",
    (),
    None,
)


@cache
def rules() -> dict[str, Rule]:
    document = json.loads(RULEBOOK_FILE.read_text(encoding="utf-8"))
    return {
        identifier: Rule(
            entry["description"],
            entry["whatToDo"],
            tuple(entry["resourceTypes"]),
            entry["remediation"],
        )
        for identifier, entry in document["rules"].items()
    }


def text(identifier: str) -> Rule:
    return rules().get(identifier, _UNKNOWN)


def runbook_url(base_url: str, identifier: str) -> str:
    """``<base>/<IDENTIFIER>.md``; the repository path when no base URL is configured."""
    return f"{base_url.rstrip('/') if base_url else 'docs/runbooks'}/{identifier}.md"
