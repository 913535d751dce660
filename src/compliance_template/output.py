"""Serialising a template, and writing files so that a reader never sees half of one."""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path

from troposphere import Template

from .errors import SettingsError

FORMATS = ("json", "yaml")


def render(template: Template, fmt: str) -> str:
    """Sorted keys and a fixed indent: the same template is always the same bytes."""
    if fmt == "yaml":
        return template.to_yaml(clean_up=False, long_form=False, sort_keys=True)
    return template.to_json(indent=2, sort_keys=True) + "\n"


def write_atomically(path: Path, text: str, field: str = "--out") -> None:
    write_bytes_atomically(path, text.encode("utf-8"), field)


def write_bytes_atomically(path: Path, data: bytes, field: str = "--out") -> None:
    """Write to a temporary file beside the target, then rename it over the target.

    A symlink is followed: the file it points at is replaced, and the link stays a link. Only a
    regular file (or a new path) is replaced: renaming over a FIFO, a device or a socket would
    turn it into a file. Every failure is one `SettingsError` naming `field`; nothing is left
    behind.
    """
    target = check_target(path, field)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(
            dir=target.parent, prefix=f".{target.name}.", suffix=".tmp"
        )
    except OSError as error:
        raise _write_error(field, path, error) from None
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        # A replaced file keeps its permissions (a private 0600 stays private); a new one is 0644.
        os.chmod(temporary, _mode_of(target))
        os.replace(temporary, target)
    except OSError as error:
        Path(temporary).unlink(missing_ok=True)
        raise _write_error(field, path, error) from None
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def check_target(path: Path, field: str = "--out") -> Path:
    """The target `path` resolves to, if a write may replace it (see write_bytes_atomically);
    else one SettingsError. Lets a caller writing several files check them all first."""
    target = resolve(path, field)
    _check_target(target, path, field)
    return target


def resolve(path: Path, field: str = "--out") -> Path:
    """The absolute path with symlinks followed (also to a target that does not exist yet)."""
    try:
        return path.resolve()
    except (OSError, RuntimeError) as error:  # RuntimeError: a symlink loop (Python 3.11)
        raise SettingsError(field, str(path), f"a path that resolves ({error})") from None


def _mode_of(target: Path) -> int:
    try:
        return stat.S_IMODE(target.stat().st_mode)
    except FileNotFoundError:
        return 0o644


def _check_target(target: Path, given: Path, field: str) -> None:
    for parent in reversed(target.parents):
        if parent.exists() and not parent.is_dir():
            raise SettingsError(field, str(given), f"a path inside a folder ({parent} is a file)")
    try:
        mode = target.stat().st_mode
    except FileNotFoundError:
        return
    except OSError as error:
        raise _write_error(field, given, error) from None
    if stat.S_ISDIR(mode):
        raise SettingsError(field, str(given), "a file path (this is a folder)")
    if not stat.S_ISREG(mode):
        raise SettingsError(
            field,
            str(given),
            f"a regular file or a new path (this is a {_kind(mode)}, which a write would replace)",
        )


def _kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "FIFO"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "device"
    if stat.S_ISSOCK(mode):
        return "socket"
    return "special file"


def _write_error(field: str, path: Path, error: OSError) -> SettingsError:
    where = f": {error.filename}" if error.filename else ""
    return SettingsError(field, str(path), f"a path this user can write ({error.strerror}{where})")
