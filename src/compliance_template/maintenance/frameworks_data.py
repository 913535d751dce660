"""Writing generator/data/frameworks.json from a checkout of awslabs/aws-config-rules.

The file records where its packs came from (repository, commit, commit date, the day it was
read) so a reviewer can tell how old the frameworks are; its bytes depend only on the packs
read and those facts, so re-running on the same checkout changes nothing.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..output import write_atomically
from .packs import PACKS_FOLDER, read_folder

FRAMEWORKS_FILE = Path(__file__).resolve().parents[1] / "generator" / "data" / "frameworks.json"
REPOSITORY = "awslabs/aws-config-rules"


def frameworks_document(
    checkout: Path, commit: str, committed_on: str, read_on: str
) -> tuple[dict[str, Any], list[str]]:
    frameworks, notes = read_folder(checkout / PACKS_FOLDER)
    document = {
        "source": {
            "repository": REPOSITORY,
            "folder": PACKS_FOLDER,
            "commit": commit,
            "committedOn": committed_on,
            "readOn": read_on,
        },
        "frameworks": frameworks,
    }
    return document, notes


def render(document: dict[str, Any]) -> str:
    """One space of indent keeps the 8,000 rules reviewable line by line in a diff."""
    return json.dumps(document, indent=1, sort_keys=False, ensure_ascii=False) + "\n"


def write(document: dict[str, Any], path: Path = FRAMEWORKS_FILE) -> Path:
    write_atomically(path, render(document))
    return path
