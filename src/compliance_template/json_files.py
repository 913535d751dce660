"""Reading a JSON file the user gives (settings, deploy parameters) without a traceback.

Whatever the file holds (binary data, UTF-16, a directory, JSON nested thousands of levels
deep), the result is the parsed value or one `SettingsError` naming the option and the file.
"""

from __future__ import annotations

import codecs
import json
import sys
from pathlib import Path

from .errors import SettingsError

# Settings and parameter files are two or three levels deep, our templates 15; anything near
# Python's recursion limit is none of them, and would fail later in code that walks the value.
MAX_DEPTH = 20
TEMPLATE_MAX_DEPTH = 100
_UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE, codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)


def read_json_file(path: Path, field: str, max_depth: int = MAX_DEPTH) -> object:
    """The parsed JSON of `path`; `field` is how the user named the file (e.g. `--settings`)."""
    try:
        data = path.read_bytes()
    except OSError as error:
        raise SettingsError(field, str(path), f"a readable file ({error.strerror})") from None
    if data.startswith(_UTF16_BOMS):
        raise SettingsError(field, str(path), "a UTF-8 text file (this one is UTF-16 or UTF-32)")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise SettingsError(
            field, str(path), f"a UTF-8 text file (byte {error.start} is not UTF-8)"
        ) from None
    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        raise SettingsError(
            field, str(path), f"valid JSON (line {error.lineno}: {error.msg})"
        ) from None
    except RecursionError:  # the parser's own limit, far deeper than MAX_DEPTH
        raise _too_deep(field, path, max_depth) from None
    except ValueError:  # the only other one: an integer longer than Python converts
        raise SettingsError(
            field,
            str(path),
            f"valid JSON (numbers of at most {sys.get_int_max_str_digits()} digits)",
        ) from None
    if depth(value, max_depth) > max_depth:
        raise _too_deep(field, path, max_depth)
    return value


def _too_deep(field: str, path: Path, max_depth: int) -> SettingsError:
    return SettingsError(field, str(path), f"JSON nested at most {max_depth} levels deep")


def depth(value: object, limit: int) -> int:
    """How deeply lists and objects nest in `value` (a scalar is 0), without recursion; counting
    stops one level past `limit`."""
    deepest = 0
    pending = [(value, 0)]
    while pending:
        item, level = pending.pop()
        if isinstance(item, dict):
            item = list(item.values())
        if not isinstance(item, list):
            continue
        deepest = max(deepest, level + 1)
        if level < limit:
            pending.extend((child, level + 1) for child in item)
    return deepest
