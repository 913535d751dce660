"""Reading and writing generator/data/frameworks.json, the packs of awslabs/aws-config-rules.

The file records where its packs came from (repository, commit, commit date, the day it was
read) so a reviewer can tell how old the frameworks are; its bytes depend only on the packs
read and those facts, so re-running on the same checkout changes nothing, and `render(load())`
gives back the committed bytes (a test checks it, so a hand edit shows).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..output import write_atomically
from .packs import PACKS_FOLDER

FRAMEWORKS_FILE = Path(__file__).resolve().parents[1] / "generator" / "data" / "frameworks.json"
REPOSITORY = "awslabs/aws-config-rules"


def frameworks_document(
    frameworks: dict[str, dict[str, Any]], commit: str, committed_on: str, read_on: str
) -> dict[str, Any]:
    """The file's content: where the packs came from, then the frameworks read from them."""
    return {
        "source": {
            "repository": REPOSITORY,
            "folder": PACKS_FOLDER,
            "commit": commit,
            "committedOn": committed_on,
            "readOn": read_on,
        },
        "frameworks": frameworks,
    }


def load(path: Path = FRAMEWORKS_FILE) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return document


def render(document: dict[str, Any]) -> str:
    """One space of indent keeps the 8,000 rules reviewable line by line in a diff."""
    return json.dumps(document, indent=1, sort_keys=False, ensure_ascii=False) + "\n"


def write(document: dict[str, Any], path: Path = FRAMEWORKS_FILE) -> Path:
    write_atomically(path, render(document), field="frameworks file")
    return path
