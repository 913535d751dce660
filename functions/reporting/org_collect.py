"""Reading an aggregator's compliance with a call count that follows the results, not the
organization's shape.

Three sources, each paged at the most Config returns (docs/organization.md, "Reading at
organization scale", has the limits and where they were read):

- ``DescribeConfigurationAggregatorSourcesStatus`` (100 a page): the accounts and regions the
  aggregator should hold, and which of them failed to aggregate and why.
- ``DescribeAggregateComplianceByConfigRules`` (1,000 a page): each rule's state in each account
  and region, with its capped count of non-compliant resources: which of our rules exist, and a
  per-scope check of what the query returns.
- ``SelectAggregateResourceConfig`` over ``AWS::Config::ResourceCompliance`` (100 a page): one
  row per evaluated resource with every rule's state on it, ordered by account and region so a
  scope's rows arrive together.

A scope (account and region) whose query rows disagree with the rule states (its recorder does
not record ``AWS::Config::ResourceCompliance``, say) is read again with one
``GetAggregateComplianceDetailsByConfigRule`` pagination per rule there: per-rule detail only
where it is needed.

Every call goes through ``Caller``, which backs off on throttling with full jitter and gives up
(``OutOfTime``) when the time budget would run out, so the run checkpoints instead of dying.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from aws import error_code
from botocore.exceptions import ClientError
from collect import COUNTED, PAGE_SIZE, Result, result_of

SOURCES_PAGE = 100
STATES_PAGE = 1000
QUERY_PAGE = 100
# A non-compliant count past this is reported as capped (ComplianceContributorCount).
CONTRIBUTOR_CAP = 100
EXPRESSION_MAX = 4096
RESOURCE_COMPLIANCE = "AWS::Config::ResourceCompliance"
_FIELDS = "accountId, awsRegion, configuration, configurationItemCaptureTime"
# Throttling and transient errors worth waiting for; anything else is a real failure.
RETRIED = frozenset(
    {
        "ThrottlingException",
        "Throttling",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "ServiceUnavailable",
        "ServiceUnavailableException",
        "InternalFailure",
        "InternalServerError",
    }
)
BACKOFF_BASE = 0.5
BACKOFF_CAP = 20.0


class Clock(Protocol):
    def monotonic(self) -> float: ...

    def sleep(self, seconds: float) -> None: ...


class SystemClock:
    def monotonic(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


class OutOfTime(Exception):
    """The time budget ends before the next call could be made (or waited for)."""


@dataclass
class Caller:
    """Config calls with backoff: throttled calls wait ``BACKOFF_BASE * 2**n`` (full jitter, at
    most ``BACKOFF_CAP``) and retry while the budget lasts. ``deadline`` is on ``clock``."""

    clock: Clock
    deadline: float
    rng: random.Random = field(default_factory=lambda: random.Random(0))
    calls: int = 0
    throttled: int = 0
    waited: float = 0.0

    def __call__(self, operation: Callable[..., dict[str, Any]], **params: Any) -> dict[str, Any]:
        attempt = 0
        while True:
            if self.clock.monotonic() >= self.deadline:
                raise OutOfTime()
            self.calls += 1
            try:
                return operation(**params)
            except ClientError as error:
                if error_code(error) not in RETRIED:
                    raise
                self.throttled += 1
            pause = self.rng.uniform(0, min(BACKOFF_CAP, BACKOFF_BASE * 2**attempt))
            attempt += 1
            if self.clock.monotonic() + pause >= self.deadline:
                raise OutOfTime()
            self.waited += pause
            self.clock.sleep(pause)


def _pages(
    call: Caller,
    operation: Callable[..., dict[str, Any]],
    key: str,
    token: str | None = None,
    **params: Any,
) -> Iterator[tuple[list[Any], str | None]]:
    """Each page's items with the token of the page after it (None: the last)."""
    while True:
        page = call(operation, **params, **({"NextToken": token} if token else {}))
        token = page.get("NextToken") or None
        yield page.get(key, []), token
        if token is None:
            return


@dataclass(frozen=True)
class Missing:
    account: str
    region: str
    reason: str


def sources(
    call: Caller, config: Any, aggregator: str
) -> tuple[list[tuple[str, str]], list[Missing]]:
    """The (account, region) sources the aggregator reports on, and those that failed to
    aggregate (their data is missing or not current), each with Config's reason."""
    found: set[tuple[str, str]] = set()
    failed: dict[tuple[str, str], Missing] = {}
    pages = _pages(
        call,
        config.describe_configuration_aggregator_sources_status,
        "AggregatedSourceStatusList",
        ConfigurationAggregatorName=aggregator,
        Limit=SOURCES_PAGE,
    )
    for items, _ in pages:
        for item in items:
            scope = (str(item.get("SourceId", "")), str(item.get("AwsRegion", "")))
            status = item.get("LastUpdateStatus")
            if status == "FAILED":
                code = item.get("LastErrorCode") or "Unknown"
                message = item.get("LastErrorMessage") or "no message"
                failed[scope] = Missing(*scope, f"aggregation failed: {code}: {message}")
            found.add(scope)
    return sorted(found), [failed[scope] for scope in sorted(failed)]


@dataclass
class ScopeStates:
    """What the rule states say one scope must show: how many of our rules have results there
    and the sum of their non-compliant counts (``capped`` when a count hit Config's cap)."""

    rules: int = 0
    non_compliant: int = 0
    capped: bool = False


@dataclass
class States:
    found: set[str] = field(default_factory=set)  # our rules the aggregator knows, any state
    scopes: dict[tuple[str, str], ScopeStates] = field(default_factory=dict)
    # Per scope, the names of our rules with results, kept only when asked (one scope's).
    names: dict[tuple[str, str], list[str]] = field(default_factory=dict)


@dataclass
class StatesPage(States):
    token: str | None = None


def _take_states(
    states: States, items: list[Any], is_ours: Callable[[str], bool], keep_names: bool
) -> None:
    """Items are one per rule, account and region, so counting them counts a scope's rules
    without keeping their names (``keep_names``: keep them, for one scope)."""
    for item in items:
        name = item.get("ConfigRuleName")
        if not isinstance(name, str) or not is_ours(name):
            continue
        states.found.add(name)
        compliance = item.get("Compliance") or {}
        kind = compliance.get("ComplianceType")
        if kind not in COUNTED:
            continue
        where = (str(item.get("AccountId", "")), str(item.get("AwsRegion", "")))
        state = states.scopes.setdefault(where, ScopeStates())
        state.rules += 1
        if keep_names:
            states.names.setdefault(where, []).append(name)
        if kind == "NON_COMPLIANT":
            count = compliance.get("ComplianceContributorCount") or {}
            state.non_compliant += int(count.get("CappedCount") or 0)
            state.capped = state.capped or bool(count.get("CapExceeded"))


def states_page(
    call: Caller, config: Any, aggregator: str, is_ours: Callable[[str], bool], token: str | None
) -> StatesPage:
    """One page of our rules' states in every scope, with the next page's token."""
    page = StatesPage()
    items, page.token = next(
        _pages(
            call,
            config.describe_aggregate_compliance_by_config_rules,
            "AggregateComplianceByConfigRules",
            token,
            ConfigurationAggregatorName=aggregator,
            Limit=STATES_PAGE,
        )
    )
    _take_states(page, items, is_ours, keep_names=False)
    return page


def scope_states(
    call: Caller,
    config: Any,
    aggregator: str,
    is_ours: Callable[[str], bool],
    scope: tuple[str, str],
) -> States:
    """Our rules' states in one scope, with their names: what the fallback reads there."""
    states = States()
    pages = _pages(
        call,
        config.describe_aggregate_compliance_by_config_rules,
        "AggregateComplianceByConfigRules",
        ConfigurationAggregatorName=aggregator,
        Limit=STATES_PAGE,
        Filters={"AccountId": scope[0], "AwsRegion": scope[1]},
    )
    for items, _ in pages:
        _take_states(states, items, is_ours, keep_names=True)
    return states


def expression(accounts: Sequence[str]) -> str:
    """The query of one batch of accounts, every region, ordered so each scope is contiguous."""
    listed = ", ".join(f"'{account}'" for account in accounts)
    text = (
        f"SELECT {_FIELDS} WHERE resourceType = '{RESOURCE_COMPLIANCE}' "
        f"AND accountId IN ({listed}) ORDER BY accountId, awsRegion"
    )
    if len(text) > EXPRESSION_MAX:
        raise ValueError(f"query of {len(accounts)} accounts is {len(text)} characters")
    return text


# Fits EXPRESSION_MAX with room: each account adds 16 characters ('123456789012', ).
BATCH_ACCOUNTS = 200


@dataclass(frozen=True)
class Row:
    """One evaluated resource: its scope, identity, capture time and each rule's state."""

    account: str
    region: str
    resource_type: str
    resource_id: str
    captured: str
    rules: tuple[tuple[str, str], ...]


def _row(text: str) -> Row:
    item = json.loads(text)
    configuration = item.get("configuration") or {}
    return Row(
        str(item.get("accountId", "")),
        str(item.get("awsRegion", "")),
        str(configuration.get("targetResourceType", "")),
        str(configuration.get("targetResourceId", "")),
        str(item.get("configurationItemCaptureTime", "")),
        tuple(
            (str(entry.get("configRuleName", "")), str(entry.get("complianceType", "")))
            for entry in configuration.get("configRuleList") or ()
        ),
    )


def query_pages(
    call: Caller, config: Any, aggregator: str, accounts: Sequence[str], token: str | None
) -> Iterator[tuple[list[Row], str | None]]:
    """One batch's rows a page at a time, from ``token`` (None: the start)."""
    pages = _pages(
        call,
        config.select_aggregate_resource_config,
        "Results",
        token,
        ConfigurationAggregatorName=aggregator,
        Expression=expression(accounts),
        Limit=QUERY_PAGE,
    )
    for items, next_token in pages:
        yield [_row(text) for text in items], next_token


def scope_results(
    call: Caller, config: Any, aggregator: str, rule_name: str, account: str, region: str
) -> Iterator[Result]:
    """One rule's evaluations in one scope, with annotations: the per-rule fallback."""
    pages = _pages(
        call,
        config.get_aggregate_compliance_details_by_config_rule,
        "AggregateEvaluationResults",
        ConfigurationAggregatorName=aggregator,
        ConfigRuleName=rule_name,
        AccountId=account,
        AwsRegion=region,
        Limit=PAGE_SIZE,
    )
    for items, _ in pages:
        for item in items:
            if item.get("ComplianceType") in COUNTED:
                yield result_of(item, rule_name, account, region)


def lower_bound(resources: int, rule_scopes: int, sources_count: int) -> int:
    """The fewest calls that read every result, the rule states and the source status:
    each at its API's largest page (docs/organization.md, "The lower bound")."""
    return (
        -(-resources // QUERY_PAGE)
        + max(1, -(-rule_scopes // STATES_PAGE))
        + max(1, -(-sources_count // SOURCES_PAGE))
    )
