"""The functions' rulebook, generated from the catalog: what each rule checks, what a person
should do about a finding, the resource types it evaluates and what remediation does.

The functions run without this package, so `make template` writes these facts to
functions/_shared/rulebook.json (read by functions/_shared/rulebook.py, packaged with every
function); a test fails when the committed file differs from what the catalog gives.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..output import write_atomically
from ..paths import FUNCTIONS_DIR
from .catalog import CATALOG

RULEBOOK_FILE = FUNCTIONS_DIR / "_shared" / "rulebook.json"
GENERATED_NOTE = (
    "Generated from src/compliance_template/generator/catalog.py by `make template`; "
    "edit the catalog, not this file."
)


def rulebook() -> dict[str, Any]:
    return {
        "generated": GENERATED_NOTE,
        "rules": {
            rule.identifier: {
                "description": rule.description,
                "whatToDo": rule.what_to_do,
                "resourceTypes": list(rule.resource_types),
                # None: the rule has no automatic remediation (and no remediation rule module).
                "remediation": rule.remediation,
            }
            for rule in CATALOG
        },
    }


def render_rulebook() -> str:
    """Sorted keys, a fixed indent and a final newline: the same catalog gives the same bytes."""
    return json.dumps(rulebook(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def write_rulebook(path: Path = RULEBOOK_FILE) -> Path:
    write_atomically(path, render_rulebook())
    return path
