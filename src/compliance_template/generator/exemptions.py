"""Exemptions: declared in the settings file (so they are reviewed in a diff like the rest of the
stack), validated here, and handed to the functions in SSM parameters the stack owns.

An exemption names the rules, the resources (ids or `*`/`?` patterns, optionally one resource
type, accounts and regions), a reason, an owner, the day it was granted and the day it expires.
It applies from `granted` up to and including the day before `expires` (UTC): "expires
2027-03-01" stops applying at 2027-03-01T00:00Z. The generator reads the clock only to refuse an
exemption granted in the future; the template is the same whatever the day.

The exemptions reach the functions as one canonical compact JSON document, cut into pieces of
at most 4,096 characters (a standard-tier String parameter), one `AWS::SSM::Parameter` each,
named in the functions' EXEMPTIONS_PARAMETERS. A change is a stack update, no code change.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from troposphere import AWSHelperFn, Join, Ref, Sub, ssm

from ..errors import SettingsError

if TYPE_CHECKING:  # settings imports this module, and stack imports settings
    from .stack import Stack

FIELDS = (
    "id",
    "rules",
    "resources",
    "resource_type",
    "accounts",
    "regions",
    "reason",
    "owner",
    "granted",
    "expires",
)
REQUIRED = ("id", "rules", "resources", "reason", "owner", "granted", "expires")
DEFAULT_MAX_DAYS = 365
MAX_DAYS_LIMIT = 1095
SCHEMA_VERSION = 1
# SSM standard tier: a String value of at most 4,096 characters (the JSON is ASCII, so characters
# are bytes). Ten parameters: what one GetParameters call returns.
PARAMETER_CHARS = 4096
MAX_PARAMETERS = 10
PARAMETER_TITLE = "ExemptionsParameter{}"

_ID = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?")
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
_ACCOUNT = re.compile(r"\d{12}")
_REGION = re.compile(r"[a-z]{2}(?:-[a-z]+)+-\d{1,2}")
_RESOURCE_TYPE = re.compile(r"AWS::[A-Za-z0-9]+::[A-Za-z0-9]+")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
RESOURCE_MAX = 768  # Config's longest resource id
REASON_MAX = 1000
OWNER_MAX = 256


@dataclass(frozen=True)
class Exemption:
    id: str
    rules: tuple[str, ...]
    resources: tuple[str, ...]
    resource_type: str | None
    accounts: tuple[str, ...]  # empty: every account
    regions: tuple[str, ...]  # empty: every region
    reason: str
    owner: str
    granted: date
    expires: date

    def expired_on(self, day: date) -> bool:
        return day >= self.expires

    def document(self) -> dict[str, Any]:
        """The exemption as the functions read it (camelCase, like their records)."""
        return {
            "id": self.id,
            "rules": list(self.rules),
            "resources": list(self.resources),
            "resourceType": self.resource_type,
            "accounts": list(self.accounts),
            "regions": list(self.regions),
            "reason": self.reason,
            "owner": self.owner,
            "granted": self.granted.isoformat(),
            "expires": self.expires.isoformat(),
        }


def parse_max_days(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_DAYS_LIMIT:
        raise SettingsError(
            "exemption_max_days", value, f"a whole number of days from 1 to {MAX_DAYS_LIMIT}"
        )
    return value


def parse_exemptions(
    value: object, deployed: Sequence[str], max_days: int, today: date
) -> tuple[Exemption, ...]:
    """Every exemption checked; the first mistake is one SettingsError naming its field."""
    if not isinstance(value, list):
        raise SettingsError("exemptions", value, "a list of exemption objects")
    parsed = tuple(
        _exemption(item, f"exemptions[{index}]", deployed, max_days, today)
        for index, item in enumerate(value)
    )
    seen: set[str] = set()
    for index, exemption in enumerate(parsed):
        if exemption.id in seen:
            raise SettingsError(f"exemptions[{index}].id", exemption.id, "an id no other uses")
        seen.add(exemption.id)
    chunks(parsed)  # refused here, with the settings, when they would not fit the parameters
    return parsed


def _exemption(
    raw: object, path: str, deployed: Sequence[str], max_days: int, today: date
) -> Exemption:
    if not isinstance(raw, dict):
        raise SettingsError(path, raw, "an object with fields " + ", ".join(FIELDS))
    for key in raw:
        if key not in FIELDS:
            raise SettingsError(f"{path}.{key}", raw[key], "known fields are " + ", ".join(FIELDS))
    for key in REQUIRED:
        if key not in raw:
            raise SettingsError(f"{path}.{key}", None, f"required: {_WHAT[key]}")
    granted = _day(raw["granted"], f"{path}.granted")
    if granted > today:
        raise SettingsError(
            f"{path}.granted", raw["granted"], f"the day it was approved, not after today ({today})"
        )
    expires = _day(raw["expires"], f"{path}.expires")
    latest = granted + timedelta(days=max_days)
    if not granted < expires <= latest:
        raise SettingsError(
            f"{path}.expires",
            raw["expires"],
            f"a day after granted ({granted}) and at most exemption_max_days ({max_days}) "
            f"after it ({latest})",
        )
    return Exemption(
        id=_matching(raw["id"], f"{path}.id", _ID, "a lower-case slug of 1-64 a-z, 0-9 and -"),
        rules=_rules(raw["rules"], f"{path}.rules", deployed),
        resources=_strings(
            raw["resources"],
            f"{path}.resources",
            f"resource ids or patterns with * and ? (each 1-{RESOURCE_MAX} characters)",
            lambda text: len(text) <= RESOURCE_MAX and not _CONTROL.search(text),
        ),
        resource_type=(
            _matching(
                raw["resource_type"],
                f"{path}.resource_type",
                _RESOURCE_TYPE,
                "a resource type such as AWS::S3::Bucket",
            )
            if raw.get("resource_type") is not None
            else None
        ),
        accounts=_optional_list(raw, "accounts", path, _ACCOUNT, "12-digit account ids"),
        regions=_optional_list(raw, "regions", path, _REGION, "region codes such as eu-west-1"),
        reason=_text(raw["reason"], f"{path}.reason", REASON_MAX, "why it is accepted"),
        owner=_text(raw["owner"], f"{path}.owner", OWNER_MAX, "an e-mail address or a team name"),
        granted=granted,
        expires=expires,
    )


_WHAT = {
    "id": "a lower-case slug of 1-64 a-z, 0-9 and -",
    "rules": "a non-empty list of the stack's rule identifiers",
    "resources": "a non-empty list of resource ids or patterns with * and ?",
    "reason": "a non-empty reason",
    "owner": "an e-mail address or a team name",
    "granted": "the day it was approved, YYYY-MM-DD",
    "expires": "the day it stops applying, YYYY-MM-DD",
}


def _matching(value: object, path: str, pattern: re.Pattern[str], what: str) -> str:
    if not isinstance(value, str) or not pattern.fullmatch(value):
        raise SettingsError(path, value, what)
    return value


def _day(value: object, path: str) -> date:
    if isinstance(value, str) and _DAY.fullmatch(value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise SettingsError(path, value, "a date YYYY-MM-DD")


def _text(value: object, path: str, most: int, what: str) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > most:
        raise SettingsError(path, value, f"{what}: a non-empty string of at most {most} characters")
    if _CONTROL.search(value):
        raise SettingsError(path, value, f"{what} on one line, without control characters")
    return value


def _strings(
    value: object, path: str, what: str, valid: Callable[[str], object]
) -> tuple[str, ...]:
    if not isinstance(value, list) or not value:
        raise SettingsError(path, value, f"a non-empty list of {what}")
    for index, item in enumerate(value):
        if not isinstance(item, str) or not item or not valid(item):
            raise SettingsError(f"{path}[{index}]", item, what)
    if len(set(value)) != len(value):
        raise SettingsError(path, value, "each entry at most once")
    return tuple(value)


def _rules(value: object, path: str, deployed: Sequence[str]) -> tuple[str, ...]:
    allowed = sorted(deployed)
    shown = ", ".join(allowed[:20]) + (
        f" and {len(allowed) - 20} more" if len(allowed) > 20 else ""
    )
    return _strings(
        value, path, f"identifiers of rules this stack deploys ({shown})", lambda r: r in allowed
    )


def _optional_list(
    raw: Mapping[str, Any], key: str, path: str, pattern: re.Pattern[str], what: str
) -> tuple[str, ...]:
    if raw.get(key) is None:
        return ()
    return _strings(raw[key], f"{path}.{key}", what, pattern.fullmatch)


def document_text(exemptions: Sequence[Exemption]) -> str:
    """Canonical compact JSON, ASCII only: the same exemptions always give the same text."""
    body = {"schemaVersion": SCHEMA_VERSION, "exemptions": [e.document() for e in exemptions]}
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def chunks(exemptions: Sequence[Exemption]) -> tuple[str, ...]:
    """The document cut into parameter values, in order; refused past MAX_PARAMETERS."""
    if not exemptions:
        return ()
    text = document_text(exemptions)
    pieces = tuple(text[i : i + PARAMETER_CHARS] for i in range(0, len(text), PARAMETER_CHARS))
    if len(pieces) > MAX_PARAMETERS:
        raise SettingsError(
            "exemptions",
            f"{len(exemptions)} exemptions, {len(text)} characters as JSON",
            f"at most {MAX_PARAMETERS * PARAMETER_CHARS} characters ({MAX_PARAMETERS} SSM "
            f"parameters of {PARAMETER_CHARS}): merge exemptions with patterns or shorten reasons",
        )
    return pieces


def parameter_titles(exemptions: Sequence[Exemption]) -> tuple[str, ...]:
    return tuple(PARAMETER_TITLE.format(n) for n in range(1, len(chunks(exemptions)) + 1))


def add_exemption_parameters(stack: Stack) -> None:
    """One standard-tier String parameter per piece of the document, only with exemptions.
    CloudFormation names them (the name is the parameter's Ref), so two stacks never collide."""
    pieces = chunks(stack.settings.exemptions)
    for number, piece in enumerate(pieces, start=1):
        stack.add(
            ssm.Parameter(
                PARAMETER_TITLE.format(number),
                Description=Sub(
                    f"Exemptions of ${{AWS::StackName}}, part {number} of {len(pieces)} "
                    "(generated from the settings file; edit that, not this)"
                ),
                Type="String",
                Tier="Standard",
                Value=piece,
            )
        )


def parameters_variable(stack: Stack) -> str | AWSHelperFn:
    """EXEMPTIONS_PARAMETERS: the parameter names in document order, or empty."""
    titles = parameter_titles(stack.settings.exemptions)
    return Join(",", [Ref(title) for title in titles]) if titles else ""


def parameter_arns(stack: Stack) -> list[Sub]:
    """The parameters' ARNs: CloudFormation's generated names have no leading slash."""
    return [
        Sub(f"arn:${{AWS::Partition}}:ssm:${{AWS::Region}}:${{AWS::AccountId}}:parameter/${{{t}}}")
        for t in parameter_titles(stack.settings.exemptions)
    ]


def expired(exemptions: Sequence[Exemption], today: date) -> tuple[Exemption, ...]:
    """Already expired at generation: allowed (they do nothing), but the CLI warns."""
    return tuple(e for e in exemptions if e.expired_on(today))
