"""Serialising a template, and writing files so that a reader never sees half of one."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from troposphere import Template

FORMATS = ("json", "yaml")


def render(template: Template, fmt: str) -> str:
    """Sorted keys and a fixed indent: the same template is always the same bytes."""
    if fmt == "yaml":
        return template.to_yaml(clean_up=False, long_form=False, sort_keys=True)
    return template.to_json(indent=2, sort_keys=True) + "\n"


def write_atomically(path: Path, text: str) -> None:
    write_bytes_atomically(path, text.encode("utf-8"))


def write_bytes_atomically(path: Path, data: bytes) -> None:
    """Write to a temporary file in the same folder, then rename it over the target."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
