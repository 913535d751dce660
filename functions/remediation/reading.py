"""What the rule modules share to read a resource's current state.

Reads use paginators (one page for one resource) and take tags from the describe responses, so
checking a resource costs one or two calls.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping
from typing import Any

from aws import error_code
from botocore.exceptions import ClientError


def tag_map(items: Iterable[dict[str, str]] | None) -> dict[str, str]:
    return {item["Key"]: item.get("Value", "") for item in items or ()}


def missing(error: ClientError, not_found: Collection[str]) -> bool:
    """True when the error says the resource is gone (one of the service's ``not_found`` codes)."""
    return error_code(error) in not_found


def first_described(
    client: Any,
    operation: str,
    items: Callable[[Mapping[str, Any]], Iterable[dict[str, Any]]],
    not_found: Collection[str],
    **query: Any,
) -> dict[str, Any] | None:
    """The first item a paginated describe call returns (``items`` picks them from a page);
    None when there is none or the error says the resource is gone. Stops at the first page
    that has one."""
    pages = client.get_paginator(operation).paginate(**query)
    try:
        return next((item for page in pages for item in items(page)), None)
    except ClientError as error:
        if missing(error, not_found):
            return None
        raise
