"""Exemptions: read from the stack's SSM parameters, matched against evaluations.

The generator writes one JSON document (``{"schemaVersion": 1, "exemptions": [...]}``) cut into
the parameters EXEMPTIONS_PARAMETERS names, in order. An exemption is *active* on a day when
``granted <= day < expires`` (UTC dates): it applies up to and including the day before
``expires``, so "expires 2027-03-01" stops applying at 2027-03-01T00:00Z.

Reading fails loudly: a parameter that cannot be read, is missing or holds a document that is not
ours raises, so the invocation fails and is retried. "Could not read" is never "no exemptions".
The document is kept for ``CACHE_SECONDS`` per execution environment: a change takes effect within
that long after the deploy.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Any

import observability
import settings

logger = observability.get_logger("exemptions")
CACHE_SECONDS = 300
SCHEMA_VERSION = 1
STATUSES = ("pending", "active", "expired")
_NAME = re.compile(r"[A-Za-z0-9_.\-/]{1,1011}")
# GetParameters takes at most 10 names: the generator never makes more parameters than that.
MAX_PARAMETERS = 10


class ExemptionsError(ValueError):
    """The exemptions could not be read, or are not the document the generator writes."""


@dataclass(frozen=True)
class Exemption:
    id: str
    rules: frozenset[str]
    resources: tuple[str, ...]
    resource_type: str | None
    accounts: frozenset[str]  # empty: every account
    regions: frozenset[str]  # empty: every region
    reason: str
    owner: str
    granted: date
    expires: date

    def status_on(self, day: date) -> str:
        if day < self.granted:
            return "pending"
        return "active" if day < self.expires else "expired"

    def applies_to(self, account: str, region: str) -> bool:
        return (not self.accounts or account in self.accounts) and (
            not self.regions or region in self.regions
        )

    def covers(
        self, account: str, region: str, identifier: str, resource_type: str, resource_id: str
    ) -> bool:
        """Whether the exemption names this rule and resource (on any day)."""
        return (
            identifier in self.rules
            and (self.resource_type is None or self.resource_type == resource_type)
            and self.applies_to(account, region)
            and any(_pattern(p).fullmatch(resource_id) for p in self.resources)
        )

    def summary(self) -> dict[str, str]:
        """What a record, a hand-off and a finding carry: the shape every consumer shares."""
        return {
            "id": self.id,
            "reason": self.reason,
            "owner": self.owner,
            "granted": self.granted.isoformat(),
            "expires": self.expires.isoformat(),
        }

    def document(self) -> dict[str, Any]:
        """Everything about the exemption, for the report and the expiry notices."""
        return {
            **self.summary(),
            "rules": sorted(self.rules),
            "resources": list(self.resources),
            "resourceType": self.resource_type,
            "accounts": sorted(self.accounts),
            "regions": sorted(self.regions),
        }


@lru_cache(maxsize=1024)
def _pattern(text: str) -> re.Pattern[str]:
    """`*` any run of characters, `?` one character; everything else literal, case-sensitive."""
    parts = ("." if c == "?" else ".*" if c == "*" else re.escape(c) for c in text)
    return re.compile("".join(parts), re.DOTALL)


@dataclass(frozen=True)
class Exemptions:
    items: tuple[Exemption, ...] = ()

    def match(
        self,
        account: str,
        region: str,
        identifier: str,
        resource_type: str,
        resource_id: str,
        on: date,
    ) -> Exemption | None:
        """The first exemption, in the settings' order, active on ``on`` and covering the
        resource; None when there is none."""
        for exemption in self.items:
            if exemption.status_on(on) == "active" and exemption.covers(
                account, region, identifier, resource_type, resource_id
            ):
                return exemption
        return None

    def __iter__(self) -> Iterator[Exemption]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)


NONE = Exemptions()


def parse(text: str) -> Exemptions:
    """The generator's document; ExemptionsError naming what is wrong if it is not one."""
    try:
        document = json.loads(text)
    except ValueError as error:
        raise ExemptionsError(f"the exemptions document is not JSON ({error})") from None
    if not isinstance(document, dict) or document.get("schemaVersion") != SCHEMA_VERSION:
        raise ExemptionsError(f"the exemptions document is not schema version {SCHEMA_VERSION}")
    items = document.get("exemptions")
    if not isinstance(items, list):
        raise ExemptionsError("the exemptions document has no list of exemptions")
    return Exemptions(tuple(_exemption(item, index) for index, item in enumerate(items)))


def _exemption(item: Any, index: int) -> Exemption:
    where = f"exemptions[{index}]"
    if not isinstance(item, dict):
        raise ExemptionsError(f"{where} is not an object")
    try:
        resource_type = item.get("resourceType")
        exemption = Exemption(
            id=_text(item, "id"),
            rules=frozenset(_texts(item, "rules", allow_empty=False)),
            resources=tuple(_texts(item, "resources", allow_empty=False)),
            resource_type=resource_type if isinstance(resource_type, str) else None,
            accounts=frozenset(_texts(item, "accounts")),
            regions=frozenset(_texts(item, "regions")),
            reason=_text(item, "reason"),
            owner=_text(item, "owner"),
            granted=date.fromisoformat(_text(item, "granted")),
            expires=date.fromisoformat(_text(item, "expires")),
        )
    except (KeyError, TypeError, ValueError) as error:
        raise ExemptionsError(f"{where} is malformed: {error}") from None
    if exemption.expires <= exemption.granted:
        raise ExemptionsError(f"{where} expires before it is granted")
    return exemption


def _text(item: Mapping[str, Any], key: str) -> str:
    value = item[key]
    if not isinstance(value, str) or not value:
        raise TypeError(f"{key} is not a non-empty string")
    return value


def _texts(item: Mapping[str, Any], key: str, allow_empty: bool = True) -> list[str]:
    value = item[key]
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise TypeError(f"{key} is not a list of strings")
    if not value and not allow_empty:
        raise TypeError(f"{key} is empty")
    return value


def parameter_names(env: Mapping[str, str]) -> tuple[str, ...]:
    """EXEMPTIONS_PARAMETERS: comma-separated parameter names; empty: no exemptions."""
    text = env.get("EXEMPTIONS_PARAMETERS", "").strip()
    names = tuple(name.strip() for name in text.split(",") if name.strip())
    if len(names) > MAX_PARAMETERS or not all(_NAME.fullmatch(name) for name in names):
        raise settings.invalid(
            "EXEMPTIONS_PARAMETERS",
            text,
            f"empty or up to {MAX_PARAMETERS} comma-separated SSM parameter names",
        )
    return names


def read(ssm: Any, names: Sequence[str]) -> Exemptions:
    """One GetParameters call; the values joined in the order of ``names`` (SSM answers in
    alphabetical order). A name SSM does not know fails the read."""
    if not names:
        return NONE
    response = ssm.get_parameters(Names=list(names))
    missing = response.get("InvalidParameters") or []
    values = {p.get("Name"): p.get("Value") for p in response.get("Parameters", [])}
    absent = [name for name in names if not isinstance(values.get(name), str)]
    if missing or absent:
        raise ExemptionsError(
            f"exemption parameters not found: {', '.join(sorted(set(missing) | set(absent)))}"
        )
    return parse("".join(values[name] for name in names))


@dataclass
class _Cached:
    names: tuple[str, ...]
    exemptions: Exemptions
    read_at: float


_cache: dict[str, _Cached] = {}


def load(
    env: Mapping[str, str],
    ssm_client: Callable[[], Any],
    clock: Callable[[], float] = time.monotonic,
) -> Exemptions:
    """The exemptions, from this execution environment's cache when read less than
    CACHE_SECONDS ago with the same parameter names. No parameters: no exemptions, no call."""
    names = parameter_names(env)
    if not names:
        return NONE
    now = clock()
    cached = _cache.get("document")
    if cached is not None and cached.names == names and now - cached.read_at < CACHE_SECONDS:
        return cached.exemptions
    try:
        exemptions = read(ssm_client(), names)
    except Exception as error:
        logger.error(
            "could not read the exemptions: the invocation fails and is retried",
            extra=observability.fields(parameters=list(names), error=str(error)),
        )
        raise
    _cache["document"] = _Cached(names, exemptions, now)
    return exemptions


def reset_cache() -> None:
    _cache.clear()
