"""Systems Manager OpsCenter OpsItems for the local emulator (and moto in the tests).

moto 5.2.5 answers no OpsItem API. `ops_items()` adds CreateOpsItem, UpdateOpsItem, GetOpsItem
and DescribeOpsItems to moto's SSM responses for as long as it is active, storing the OpsItems on
moto's own SSM backend object (one per account and region, as moto keeps them), so a moto reset
clears them like everything else.

CreateOpsItem follows OpsCenter's documented de-duplication: a request whose ``/aws/dedup``
string (with the resources of ``/aws/resources``) matches an OpsItem that is Open or InProgress
creates nothing and fails with OpsItemAlreadyExistsException naming that OpsItem; once it is
Resolved, the same string creates a new one. docs/deploy.md lists what is not emulated.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import Any
from unittest import mock

from ..extras import extra_of, missing_extra

try:
    from moto.core.exceptions import JsonRESTError
    from moto.ssm.models import SimpleSystemManagerBackend, ssm_backends
    from moto.ssm.responses import SimpleSystemManagerResponse
except ModuleNotFoundError as missing:  # installed without this subpackage's extra
    raise missing_extra(extra_of(__package__), missing) from None

DEDUP_KEY = "/aws/dedup"
RESOURCES_KEY = "/aws/resources"
# Keys OpsCenter reserves for itself that callers may set; others with these prefixes are refused.
SETTABLE_RESERVED = (DEDUP_KEY, RESOURCES_KEY, "/aws/automations")
RESERVED_PREFIXES = ("amazon", "aws", "amzn", "ssm", "/amazon", "/aws", "/amzn", "/ssm")
STILL_OPEN = ("Open", "InProgress")
MAX_PAGE = 50
_STORE = "_emulated_ops_items"


class OpsItemError(JsonRESTError):
    def __init__(self, code: str, message: str, **fields: str) -> None:
        super().__init__(code, message)
        # Modeled error fields (OpsItemAlreadyExistsException carries OpsItemId) sit next to
        # the message in the JSON body, where botocore reads them.
        self.description = json.dumps({"__type": code, "message": message, **fields})


def _store(response: SimpleSystemManagerResponse) -> dict[str, dict[str, Any]]:
    backend: SimpleSystemManagerBackend = ssm_backends[response.current_account][response.region]
    return backend.__dict__.setdefault(_STORE, {})


def _params(response: SimpleSystemManagerResponse) -> dict[str, Any]:
    """The request's JSON body (SSM speaks the JSON protocol)."""
    body = json.loads(response.body or "{}")
    return body if isinstance(body, dict) else {}


def _invalid(message: str) -> OpsItemError:
    return OpsItemError("OpsItemInvalidParameterException", message)


def _dedup_hash(data: dict[str, Any]) -> str | None:
    entry = data.get(DEDUP_KEY)
    if not entry:
        return None
    try:
        dedup = json.loads(entry["Value"])["dedupString"]
    except (KeyError, TypeError, ValueError):
        raise _invalid(f"{DEDUP_KEY} must be a JSON object with a dedupString") from None
    resources = (data.get(RESOURCES_KEY) or {}).get("Value", "")
    return json.dumps([dedup, resources])


def _check_operational_data(data: dict[str, Any]) -> None:
    for key in data:
        if key.lower().startswith(RESERVED_PREFIXES) and key not in SETTABLE_RESERVED:
            raise _invalid(f"operational data key {key} uses a reserved prefix")


def create_ops_item(response: SimpleSystemManagerResponse) -> str:
    params = _params(response)
    for name in ("Title", "Description", "Source"):
        if not str(params.get(name) or "").strip():
            raise _invalid(f"{name} is required")
    data = params.get("OperationalData") or {}
    _check_operational_data(data)
    items = _store(response)
    dedup = _dedup_hash(data)
    for existing in items.values():
        if dedup and existing["_dedup"] == dedup and existing["Status"] in STILL_OPEN:
            raise OpsItemError(
                "OpsItemAlreadyExistsException",
                f"The OpsItem already exists: {existing['OpsItemId']}",
                OpsItemId=existing["OpsItemId"],
            )
    ops_item_id = f"oi-{secrets.token_hex(6)}"
    now = time.time()
    arn = f"arn:aws:ssm:{response.region}:{response.current_account}:opsitem/{ops_item_id}"
    items[ops_item_id] = {
        "OpsItemId": ops_item_id,
        "OpsItemArn": arn,
        "Title": params["Title"],
        "Description": params["Description"],
        "Source": params["Source"],
        "Status": "Open",
        "Category": params.get("Category"),
        "Severity": params.get("Severity"),
        "Priority": params.get("Priority"),
        "OperationalData": data,
        "OpsItemType": params.get("OpsItemType") or "/aws/issue",
        "CreatedTime": now,
        "LastModifiedTime": now,
        "Version": "1",
        "_dedup": dedup,
        "_tags": params.get("Tags") or [],
    }
    return json.dumps({"OpsItemId": ops_item_id, "OpsItemArn": arn})


def _existing(response: SimpleSystemManagerResponse) -> dict[str, Any]:
    ops_item_id = _params(response).get("OpsItemId")
    item = _store(response).get(ops_item_id)
    if item is None:
        raise OpsItemError("OpsItemNotFoundException", f"OpsItem {ops_item_id} does not exist")
    return item


def update_ops_item(response: SimpleSystemManagerResponse) -> str:
    item = _existing(response)
    params = _params(response)
    data = params.get("OperationalData") or {}
    _check_operational_data(data)
    item["OperationalData"] = {**item["OperationalData"], **data}
    for name in params.get("OperationalDataToDelete") or []:
        item["OperationalData"].pop(name, None)
    for name in ("Title", "Description", "Status", "Category", "Severity", "Priority"):
        if params.get(name) is not None:
            item[name] = params[name]
    item["LastModifiedTime"] = time.time()
    item["Version"] = str(int(item["Version"]) + 1)
    return "{}"


def _public(item: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in item.items() if not k.startswith("_") and v is not None}


def get_ops_item(response: SimpleSystemManagerResponse) -> str:
    return json.dumps({"OpsItem": _public(_existing(response))})


def _matches(item: dict[str, Any], key: str, operator: str, values: list[str]) -> bool:
    if key == "OperationalDataValue":
        texts = [entry.get("Value", "") for entry in item["OperationalData"].values()]
    elif key in ("Status", "Source", "OpsItemId", "Title", "Category", "Severity"):
        texts = [str(item.get(key) or "")]
    else:
        raise _invalid(f"the emulator does not filter on {key}")
    if operator == "Equal":
        return any(text == value for text in texts for value in values)
    if operator == "Contains":
        return any(value in text for text in texts for value in values)
    raise _invalid(f"operator {operator} is not valid for {key}")


SUMMARY_FIELDS = (
    "OpsItemId",
    "Title",
    "Source",
    "Status",
    "Category",
    "Severity",
    "Priority",
    "OperationalData",
    "OpsItemType",
    "CreatedTime",
    "LastModifiedTime",
)


def describe_ops_items(response: SimpleSystemManagerResponse) -> str:
    params = _params(response)
    filters = params.get("OpsItemFilters") or []
    found = [
        item
        for item in _store(response).values()
        if all(_matches(item, f["Key"], f["Operator"], f["Values"]) for f in filters)
    ]
    found.sort(key=lambda item: (item["CreatedTime"], item["OpsItemId"]))
    limit = min(int(params.get("MaxResults") or MAX_PAGE), MAX_PAGE)
    start = int(params.get("NextToken") or 0)
    page = [
        {k: v for k, v in _public(item).items() if k in SUMMARY_FIELDS}
        for item in found[start : start + limit]
    ]
    body: dict[str, Any] = {"OpsItemSummaries": page}
    if start + limit < len(found):
        body["NextToken"] = str(start + limit)
    return json.dumps(body)


HANDLERS = {
    "create_ops_item": create_ops_item,
    "update_ops_item": update_ops_item,
    "get_ops_item": get_ops_item,
    "describe_ops_items": describe_ops_items,
}


@contextmanager
def ops_items() -> Iterator[None]:
    """moto's SSM answers the four OpsItem APIs while the block runs."""
    with ExitStack() as stack:
        for name, handler in HANDLERS.items():
            stack.enter_context(
                mock.patch.object(SimpleSystemManagerResponse, name, handler, create=True)
            )
        yield


def stored(account: str, region: str) -> dict[str, dict[str, Any]]:
    """The OpsItems kept for one account and region (for tests and inspection)."""
    return ssm_backends[account][region].__dict__.setdefault(_STORE, {})
