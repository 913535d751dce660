"""The Config aggregator's read APIs for the local emulator, answered from recorded evaluations.

moto 5.2.5 stores configuration aggregators but has none of the APIs that read through them.
`aggregator_additions(organization)` adds four to moto's Config responses for as long as it is
active, for any aggregator moto's backend holds (else NoSuchConfigurationAggregatorException):

- DescribeConfigurationAggregatorSourcesStatus: one source per recorded account and region;
- DescribeAggregateComplianceByConfigRules: one item per rule, account and region;
- GetAggregateComplianceDetailsByConfigRule: one rule's results in one account and region;
- SelectAggregateResourceConfig: the advanced query over AWS::Config::ResourceCompliance, in
  the subset of the query language the report sends (`parse_query`).

The results are those `Emulator.record_evaluation` stored (moto evaluates nothing), by account
and region (`Organization`); only the latest result of each resource for a rule counts, as in
Config. Limits, defaults and errors follow the Config API reference (read 2026-12-03): sources
status and details pages of at most 100, compliance by rule at most 1000, queries at most 100 with
25 by default, an Expression of at most 4096 characters.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from unittest import mock

from ..extras import extra_of, missing_extra

try:
    from moto.config.exceptions import NoSuchConfigurationAggregatorException
    from moto.config.models import ConfigAggregator, config_backends
    from moto.config.responses import ConfigResponse
    from moto.core.exceptions import JsonRESTError
except ModuleNotFoundError as missing:  # installed without this subpackage's extra
    raise missing_extra(extra_of(__package__), missing) from None

Source = tuple[str, str]  # (account, region)
# Rule name -> evaluation results in GetComplianceDetailsByConfigRule's shape.
Results = dict[str, list[dict]]

SOURCES_MAX = 100
COMPLIANCE_BY_RULE_MAX = 1000
DETAILS_MAX = 100
QUERY_MAX, QUERY_DEFAULT = 100, 25
EXPRESSION_MAX = 4096
# ComplianceContributorCount stops counting here (CapExceeded).
CONTRIBUTOR_CAP = 100
RESOURCE_COMPLIANCE = "AWS::Config::ResourceCompliance"
# Config lists a resource's compliance item only for the rules that found it in or out of
# compliance, not those it does not apply to.
COUNTED = ("COMPLIANT", "NON_COMPLIANT")


class AggregatorError(JsonRESTError):
    code = 400


@dataclass
class Organization:
    """Recorded evaluation results by account and region, and the sources marked failed."""

    results: dict[Source, Results] = field(default_factory=dict)
    failed: dict[Source, dict[str, Any]] = field(default_factory=dict)

    def of(self, account: str, region: str) -> Results:
        return self.results.setdefault((account, region), {})

    def fail(self, account: str, region: str, code: str, message: str) -> None:
        self.failed[(account, region)] = {
            "LastUpdateStatus": "FAILED",
            "LastErrorCode": code,
            "LastErrorMessage": message,
            "LastUpdateTime": time.time(),
        }

    def sources(self) -> list[Source]:
        """Every account and region with a result or a failure, sorted."""
        recorded = {where for where, results in self.results.items() if any(results.values())}
        return sorted(recorded | self.failed.keys())


def latest(results: Iterable[dict]) -> list[dict]:
    """The last result recorded for each resource, in the order resources were first seen."""
    by_resource: dict[tuple[str, str], dict] = {}
    for result in results:
        qualifier = result["EvaluationResultIdentifier"]["EvaluationResultQualifier"]
        by_resource[(qualifier["ResourceType"], qualifier["ResourceId"])] = result
    return list(by_resource.values())


# --- paging -------------------------------------------------------------------------------------


def _limit(value: Any, most: int, default: int) -> int:
    """Config's limits: 0 or none means the default; above `most` is refused, not capped."""
    limit = int(value or 0)
    if not 0 <= limit <= most:
        raise AggregatorError(
            "InvalidLimitException",
            f"Value '{limit}' at 'limit' failed to satisfy constraint: "
            f"Member must have value between 0 and {most}",
        )
    return limit or default


def _page(key: str, found: list[Any], limit: int, token: Any) -> dict[str, Any]:
    """One page of `found` under `key`; the NextToken is the offset of the next page."""
    if token is not None and not (str(token).isdigit() and int(token) <= len(found)):
        raise AggregatorError("InvalidNextTokenException", "The nextToken provided is invalid")
    start = int(token or 0)
    body: dict[str, Any] = {key: found[start : start + limit]}
    if start + limit < len(found):
        body["NextToken"] = str(start + limit)
    return body


# --- which sources an aggregator covers ----------------------------------------------------------


def _aggregator(response: ConfigResponse) -> ConfigAggregator:
    name = response._get_param("ConfigurationAggregatorName")
    backend = config_backends[response.current_account][response.region]
    aggregator = backend.config_aggregators.get(name)
    if aggregator is None:
        raise NoSuchConfigurationAggregatorException()
    return aggregator


def _source_type(aggregator: ConfigAggregator) -> str:
    return "ORGANIZATION" if aggregator.organization_aggregation_source else "ACCOUNT"


def _covers(aggregator: ConfigAggregator, account: str, region: str) -> bool:
    """Whether the aggregator's sources include the account and region: an organization source
    takes every account of the organization (here: every recorded one)."""

    def in_regions(source: Any) -> bool:
        return bool(source.all_aws_regions) or region in (source.aws_regions or [])

    organization = aggregator.organization_aggregation_source
    if organization is not None:
        return in_regions(organization)
    return any(
        account in source.account_ids and in_regions(source)
        for source in aggregator.account_aggregation_sources or []
    )


def _covered(organization: Organization, aggregator: ConfigAggregator) -> Iterator[Source]:
    for account, region in organization.sources():
        if _covers(aggregator, account, region):
            yield account, region


# --- the operations ------------------------------------------------------------------------------


def _aggregate_result(result: dict, account: str, region: str) -> dict:
    return {**result, "AccountId": account, "AwsRegion": region}


def _rule_compliance(results: list[dict]) -> dict[str, Any]:
    non_compliant = sum(r["ComplianceType"] == "NON_COMPLIANT" for r in results)
    if non_compliant:
        return {
            "ComplianceType": "NON_COMPLIANT",
            "ComplianceContributorCount": {
                "CappedCount": min(non_compliant, CONTRIBUTOR_CAP),
                "CapExceeded": non_compliant > CONTRIBUTOR_CAP,
            },
        }
    if any(r["ComplianceType"] == "COMPLIANT" for r in results):
        return {"ComplianceType": "COMPLIANT"}
    return {"ComplianceType": "INSUFFICIENT_DATA"}  # only results a rule cannot have


class _Operations:
    def __init__(self, organization: Organization) -> None:
        self.organization = organization

    def describe_configuration_aggregator_sources_status(self, response: ConfigResponse) -> str:
        aggregator = _aggregator(response)
        wanted = set(response._get_param("UpdateStatus") or [])
        statuses = []
        for account, region in _covered(self.organization, aggregator):
            status = self.organization.failed.get((account, region)) or {
                "LastUpdateStatus": "SUCCEEDED",
                "LastUpdateTime": time.time(),  # the emulator's aggregator is always current
            }
            if wanted and status["LastUpdateStatus"] not in wanted:
                continue
            statuses.append(
                {
                    "SourceId": account,
                    "SourceType": _source_type(aggregator),
                    "AwsRegion": region,
                    **status,
                }
            )
        limit = _limit(response._get_param("Limit"), SOURCES_MAX, SOURCES_MAX)
        token = response._get_param("NextToken")
        return json.dumps(_page("AggregatedSourceStatusList", statuses, limit, token))

    def describe_aggregate_compliance_by_config_rules(self, response: ConfigResponse) -> str:
        aggregator = _aggregator(response)
        filters = response._get_param("Filters") or {}
        items = []
        for account, region in _covered(self.organization, aggregator):
            for rule, results in sorted(self.organization.of(account, region).items()):
                if not results:
                    continue
                item = {
                    "ConfigRuleName": rule,
                    "Compliance": _rule_compliance(latest(results)),
                    "AccountId": account,
                    "AwsRegion": region,
                }
                if _matches(filters, item):
                    items.append(item)
        items.sort(key=lambda i: (i["ConfigRuleName"], i["AccountId"], i["AwsRegion"]))
        limit = _limit(response._get_param("Limit"), COMPLIANCE_BY_RULE_MAX, COMPLIANCE_BY_RULE_MAX)
        token = response._get_param("NextToken")
        return json.dumps(_page("AggregateComplianceByConfigRules", items, limit, token))

    def get_aggregate_compliance_details_by_config_rule(self, response: ConfigResponse) -> str:
        aggregator = _aggregator(response)
        account, region = response._get_param("AccountId"), response._get_param("AwsRegion")
        rule = response._get_param("ConfigRuleName")
        wanted = response._get_param("ComplianceType")
        found = []
        if _covers(aggregator, account, region):
            results = latest(self.organization.of(account, region).get(rule, []))
            found = [
                _aggregate_result(r, account, region)
                for r in results
                if not wanted or r["ComplianceType"] == wanted
            ]
        limit = _limit(response._get_param("Limit"), DETAILS_MAX, DETAILS_MAX)
        token = response._get_param("NextToken")
        return json.dumps(_page("AggregateEvaluationResults", found, limit, token))

    def select_aggregate_resource_config(self, response: ConfigResponse) -> str:
        aggregator = _aggregator(response)
        query = parse_query(response._get_param("Expression") or "")
        given = [response._get_param(n) for n in ("Limit", "MaxResults")]
        limit = _limit(next((v for v in given if v), 0), QUERY_MAX, QUERY_DEFAULT)
        rows = [
            row
            for row in compliance_items(self.organization, _covered(self.organization, aggregator))
            if query.matches(row)
        ]
        for key in reversed(query.order_by):  # stable sorts, last key first: ORDER BY a, b
            rows.sort(key=lambda row, key=key: str(row[key]))
        selected = [json.dumps({k: row[k] for k in query.fields}) for row in rows]
        body = _page("Results", selected, limit, response._get_param("NextToken"))
        body["QueryInfo"] = {"SelectFields": [{"Name": name} for name in query.fields]}
        return json.dumps(body)


def _matches(filters: dict[str, str], item: dict[str, Any]) -> bool:
    """DescribeAggregateComplianceByConfigRules' filters: each given one must equal."""
    values = {
        "ConfigRuleName": item["ConfigRuleName"],
        "ComplianceType": item["Compliance"]["ComplianceType"],
        "AccountId": item["AccountId"],
        "AwsRegion": item["AwsRegion"],
    }
    return all(values.get(name) == wanted for name, wanted in filters.items() if wanted)


# --- AWS::Config::ResourceCompliance configuration items -----------------------------------------


def _iso(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).isoformat(timespec="milliseconds")[:-6] + "Z"


def compliance_items(organization: Organization, sources: Iterable[Source]) -> Iterator[dict]:
    """One configuration item per evaluated resource of each source, with every rule's state, in
    the order the sources come and resources were first recorded."""
    for account, region in sources:
        resources: dict[tuple[str, str], dict[str, dict]] = {}
        for rule, results in organization.of(account, region).items():
            for result in latest(results):
                if result["ComplianceType"] not in COUNTED:
                    continue
                qualifier = result["EvaluationResultIdentifier"]["EvaluationResultQualifier"]
                key = (qualifier["ResourceType"], qualifier["ResourceId"])
                resources.setdefault(key, {})[rule] = result
        for (kind, resource), by_rule in resources.items():
            yield _compliance_item(account, region, kind, resource, by_rule)


def _compliance_item(
    account: str, region: str, kind: str, resource: str, by_rule: dict[str, dict]
) -> dict:
    states = [r["ComplianceType"] for r in by_rule.values()]
    newest = max(float(r.get("ResultRecordedTime") or 0) for r in by_rule.values())
    return {
        "accountId": account,
        "awsRegion": region,
        "resourceType": RESOURCE_COMPLIANCE,
        "resourceId": f"{kind}/{resource}",
        "configurationItemCaptureTime": _iso(newest),
        "configuration": {
            "complianceType": "NON_COMPLIANT" if "NON_COMPLIANT" in states else "COMPLIANT",
            "targetResourceType": kind,
            "targetResourceId": resource,
            "configRuleList": [
                {
                    "configRuleName": rule,
                    "complianceType": result["ComplianceType"],
                    "configRuleArn": "",
                    "configRuleId": "",
                }
                for rule, result in by_rule.items()
            ],
        },
    }


# --- the query subset ----------------------------------------------------------------------------

SELECTABLE = (
    "accountId",
    "awsRegion",
    "resourceType",
    "resourceId",
    "configurationItemCaptureTime",
    "configuration",
)
# Properties a WHERE condition may test with `=` or `IN (...)`.
FILTERABLE = ("accountId", "awsRegion", "resourceType")
_QUERY = re.compile(
    r"^\s*SELECT\s+(?P<fields>.+?)\s+WHERE\s+(?P<where>.+?)"
    r"(?:\s+ORDER\s+BY\s+(?P<order>.+?))?\s*$",
    re.IGNORECASE | re.DOTALL,
)
_CONDITION = re.compile(
    r"^(?P<name>\w+)\s*(?:=\s*(?P<one>'[^']*')|IN\s*\((?P<many>\s*'[^']*'(?:\s*,\s*'[^']*')*)\s*\))$",
    re.IGNORECASE,
)
_QUOTED = re.compile(r"'([^']*)'")


@dataclass(frozen=True)
class Query:
    fields: tuple[str, ...]
    conditions: tuple[tuple[str, frozenset[str]], ...]
    order_by: tuple[str, ...]

    def matches(self, row: dict) -> bool:
        return all(row[name] in values for name, values in self.conditions)


def _unsupported(what: str) -> AggregatorError:
    return AggregatorError(
        "InvalidExpressionException", f"not supported by the local emulator's query subset: {what}"
    )


def _names(text: str, allowed: tuple[str, ...], clause: str) -> tuple[str, ...]:
    names = tuple(part.strip() for part in text.split(","))
    for name in names:
        if name not in allowed:
            raise _unsupported(f"{clause} {name!r} (supported: {', '.join(allowed)})")
    return names


def _condition(text: str) -> tuple[str, frozenset[str]]:
    match = _CONDITION.match(text.strip())
    if match is None or match["name"] not in FILTERABLE:
        raise _unsupported(f"the condition {text.strip()!r}")
    return match["name"], frozenset(_QUOTED.findall(match["one"] or match["many"]))


def parse_query(expression: str) -> Query:
    """`SELECT <properties> WHERE resourceType = 'AWS::Config::ResourceCompliance'
    [AND accountId IN (...)] [AND awsRegion IN (...)] [ORDER BY <properties>]`."""
    if len(expression) > EXPRESSION_MAX:
        raise AggregatorError(
            "ValidationException",
            f"Value at 'expression' failed to satisfy constraint: "
            f"Member must have length less than or equal to {EXPRESSION_MAX}",
        )
    match = _QUERY.match(expression)
    if match is None:
        raise _unsupported(f"{expression!r} is not SELECT ... WHERE ... [ORDER BY ...]")
    fields = _names(match["fields"], SELECTABLE, "the property")
    conditions = tuple(
        _condition(part) for part in re.split(r"\s+AND\s+", match["where"], flags=re.IGNORECASE)
    )
    if ("resourceType", frozenset({RESOURCE_COMPLIANCE})) not in conditions:
        raise _unsupported(f"a query without resourceType = '{RESOURCE_COMPLIANCE}'")
    order = match["order"]
    scalar = tuple(name for name in SELECTABLE if name != "configuration")
    return Query(fields, conditions, _names(order, scalar, "ORDER BY") if order else ())


# --- installing ----------------------------------------------------------------------------------

OPERATIONS = (
    "describe_configuration_aggregator_sources_status",
    "describe_aggregate_compliance_by_config_rules",
    "get_aggregate_compliance_details_by_config_rule",
    "select_aggregate_resource_config",
)


def _handler(method: Callable[[ConfigResponse], str]) -> Callable[[ConfigResponse], str]:
    """A plain function, as moto dispatches only to functions of the response class."""

    def handle(response: ConfigResponse) -> str:
        return method(response)

    return handle


@contextmanager
def aggregator_additions(organization: Organization) -> Iterator[None]:
    """moto's Config answers the aggregator read operations while the block runs."""
    operations = _Operations(organization)
    with ExitStack() as stack:
        for name in OPERATIONS:
            stack.enter_context(
                mock.patch.object(
                    ConfigResponse, name, _handler(getattr(operations, name)), create=True
                )
            )
        yield
