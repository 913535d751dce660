"""An organization in a fake Config aggregator: accounts x regions x rules x resources, computed
on demand (nothing is stored per result), answering with the page limits AWS documents and,
when asked, the throttling and latency of a rate-limited service on a virtual clock.

Its resources: scope (account, region) holds ``resources`` resources; resource ``i`` is
evaluated by ``rules_per_resource`` rules spread over the rule list, and is non-compliant with
rule ``r`` when ``(i + r) % non_compliant_every == 0``. The same organization answers the
advanced query (one row per resource with every rule's state), the rule states and the per-rule
details, so the report's figures can be checked against exact expected counts.
"""

from __future__ import annotations

import io
import json
import re
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from botocore.response import StreamingBody
from function_fakes import RECORDED, StubStorage, _error, _ok

# AWS's documented page limits (docs/organization.md, "Reading at organization scale").
LIMITS = {
    "DescribeConfigurationAggregatorSourcesStatus": 100,
    "DescribeAggregateComplianceByConfigRules": 1000,
    "SelectAggregateResourceConfig": 100,
    "GetAggregateComplianceDetailsByConfigRule": 100,
}
KINDS = ("AWS::S3::Bucket", "AWS::EC2::Volume", "AWS::RDS::DBInstance")
_IN = re.compile(r"accountId IN \(([^)]*)\)")


class VirtualClock:
    """Real CPU time plus the virtual time of calls and waits: what a run would take."""

    def __init__(self) -> None:
        self._start = time.perf_counter()
        self.virtual = 0.0

    def monotonic(self) -> float:
        return self.virtual + (time.perf_counter() - self._start)

    def sleep(self, seconds: float) -> None:
        self.virtual += seconds


@dataclass
class Bucket:
    """A token bucket per API: ``rate`` calls a second, ``burst`` at once."""

    rate: float
    burst: float
    tokens: float = 0.0
    at: float | None = None

    def take(self, now: float) -> bool:
        if self.at is None:
            self.tokens, self.at = self.burst, now
        self.tokens = min(self.burst, self.tokens + (now - self.at) * self.rate)
        self.at = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False


@dataclass
class FakeOrganization:
    accounts: Sequence[str]
    regions: Sequence[str]
    rules: Sequence[str]
    resources: int
    rules_per_resource: int = 5
    non_compliant_every: int = 5
    clock: VirtualClock | None = None
    latency: float = 0.0  # virtual seconds each call takes
    rate: float | None = None  # calls a second per API (None: no throttling)
    burst: float = 10.0
    # (account, region) -> (error code, message): sources whose aggregation failed.
    failed: dict[tuple[str, str], tuple[str, str]] = field(default_factory=dict)
    # Scopes whose recorder does not record AWS::Config::ResourceCompliance.
    unrecorded: set[tuple[str, str]] = field(default_factory=set)
    # Error codes the next calls answer with, by API.
    failures: dict[str, list[str]] = field(default_factory=dict)
    other_rules: Sequence[str] = ("another-stack-rule",)
    calls: Counter[str] = field(default_factory=Counter)
    throttled: Counter[str] = field(default_factory=Counter)
    _buckets: dict[str, Bucket] = field(default_factory=dict)
    _per_rule: tuple[tuple[int, int], ...] | None = None

    def attach(self, client: Any) -> None:
        client.meta.events.register("before-call.config-service.*", self._answer)

    def __post_init__(self) -> None:
        self.scopes = [(a, r) for a in sorted(self.accounts) for r in sorted(self.regions)]
        self._queried: dict[str, list[tuple[str, str]]] = {}

    # --- the organization's content ----------------------------------------------------------

    def rules_of(self, resource: int) -> list[int]:
        """Indexes of the rules evaluating a resource (distinct, spread over the list)."""
        count = len(self.rules)
        step = max(1, count // self.rules_per_resource)
        return sorted({(resource + j * step) % count for j in range(self.rules_per_resource)})

    def is_bad(self, resource: int, rule: int) -> bool:
        return (resource + rule) % self.non_compliant_every == 0

    def per_rule(self) -> tuple[tuple[int, int], ...]:
        """Per rule: (evaluated, non-compliant) in any one scope (every scope is alike)."""
        if self._per_rule is None:
            self._per_rule = self._count_per_rule()
        return self._per_rule

    def _count_per_rule(self) -> tuple[tuple[int, int], ...]:
        evaluated = [0] * len(self.rules)
        bad = [0] * len(self.rules)
        for resource in range(self.resources):
            for rule in self.rules_of(resource):
                evaluated[rule] += 1
                bad[rule] += self.is_bad(resource, rule)
        return tuple(zip(evaluated, bad, strict=True))

    def expected(self) -> dict[str, tuple[int, int]]:
        """What a complete report counts per rule: (compliant, non-compliant)."""
        scopes = len(self.scopes)
        return {
            rule: ((evaluated - bad) * scopes, bad * scopes)
            for rule, (evaluated, bad) in zip(self.rules, self.per_rule(), strict=True)
            if evaluated
        }

    # --- the service -------------------------------------------------------------------------

    def _answer(self, model: Any, params: dict[str, Any], **_: Any) -> Any:
        name = model.name
        self.calls[name] += 1
        if self.clock is not None:
            self.clock.sleep(self.latency)
            if self.rate is not None:
                bucket = self._buckets.setdefault(name, Bucket(self.rate, self.burst))
                if not bucket.take(self.clock.monotonic()):
                    self.throttled[name] += 1
                    return _error("ThrottlingException")
        pending = self.failures.get(name)
        if pending:
            return _error(pending.pop(0))
        body = json.loads(params.get("body") or b"{}")
        limit = body.get("Limit") or LIMITS.get(name, 0)
        if name in LIMITS and limit > LIMITS[name]:
            return _error("InvalidLimitException")
        handler = getattr(self, f"_{name}", None)
        if handler is None:
            raise AssertionError(f"FakeOrganization does not answer {name}")
        return handler(body, limit)

    @staticmethod
    def _page(items: list[Any], start: int, total: int, key: str) -> Any:
        parsed: dict[str, Any] = {key: items}
        if start + len(items) < total:
            parsed["NextToken"] = str(start + len(items))
        return _ok(parsed)

    def _DescribeConfigurationAggregatorSourcesStatus(self, body: dict[str, Any], limit: int):
        scopes = self.scopes
        start = int(body.get("NextToken") or 0)
        items = []
        for account, region in scopes[start : start + limit]:
            item = {
                "SourceId": account,
                "SourceType": "ORGANIZATION",
                "AwsRegion": region,
                "LastUpdateStatus": "SUCCEEDED",
                "LastUpdateTime": RECORDED,
            }
            if (account, region) in self.failed:
                code, message = self.failed[(account, region)]
                item.update(LastUpdateStatus="FAILED", LastErrorCode=code, LastErrorMessage=message)
            items.append(item)
        return self._page(items, start, len(scopes), "AggregatedSourceStatusList")

    def _state_item(self, scope: tuple[str, str], rule: int) -> dict[str, Any]:
        bad = self.per_rule()[rule][1]
        compliance: dict[str, Any] = {"ComplianceType": "NON_COMPLIANT" if bad else "COMPLIANT"}
        if bad:
            compliance["ComplianceContributorCount"] = {
                "CappedCount": min(bad, 100),
                "CapExceeded": bad > 100,
            }
        return {
            "ConfigRuleName": self.rules[rule],
            "Compliance": compliance,
            "AccountId": scope[0],
            "AwsRegion": scope[1],
        }

    def _DescribeAggregateComplianceByConfigRules(self, body: dict[str, Any], limit: int):
        """Items by index (scope, then rule): a page costs its own items, not those before it."""
        filters = body.get("Filters") or {}
        scopes = self.scopes
        if filters:
            scopes = [
                s
                for s in scopes
                if filters.get("AccountId", s[0]) == s[0] and filters.get("AwsRegion", s[1]) == s[1]
            ]
        rules = [r for r, (evaluated, _) in enumerate(self.per_rule()) if evaluated]
        others = [] if filters else list(self.other_rules)
        total = len(scopes) * len(rules) + len(others)
        start = int(body.get("NextToken") or 0)
        items = []
        for index in range(start, min(total, start + limit)):
            if index < len(scopes) * len(rules):
                scope, rule = divmod(index, len(rules))
                items.append(self._state_item(scopes[scope], rules[rule]))
            else:
                items.append(
                    {
                        "ConfigRuleName": others[index - len(scopes) * len(rules)],
                        "Compliance": {"ComplianceType": "COMPLIANT"},
                        "AccountId": self.scopes[0][0],
                        "AwsRegion": self.scopes[0][1],
                    }
                )
        return self._page(items, start, total, "AggregateComplianceByConfigRules")

    def _row(self, account: str, region: str, resource: int) -> str:
        listed = [
            {
                "configRuleName": self.rules[rule],
                "complianceType": "NON_COMPLIANT" if self.is_bad(resource, rule) else "COMPLIANT",
                "configRuleArn": "",
                "configRuleId": "",
            }
            for rule in self.rules_of(resource)
        ]
        bad = any(entry["complianceType"] == "NON_COMPLIANT" for entry in listed)
        return json.dumps(
            {
                "accountId": account,
                "awsRegion": region,
                "configurationItemCaptureTime": "2024-05-01T06:00:00.000Z",
                "configuration": {
                    "complianceType": "NON_COMPLIANT" if bad else "COMPLIANT",
                    "targetResourceType": KINDS[resource % 3],
                    "targetResourceId": f"{account}-{region}-resource-{resource:07d}",
                    "configRuleList": listed,
                },
            }
        )

    def _SelectAggregateResourceConfig(self, body: dict[str, Any], limit: int):
        text = body["Expression"]
        if len(text) > 4096:
            return _error("InvalidExpressionException")
        assert "resourceType = 'AWS::Config::ResourceCompliance'" in text, text
        assert text.endswith("ORDER BY accountId, awsRegion"), text
        scopes = self._queried.get(text)
        if scopes is None:
            # Each query's scopes once: a page costs its own rows, not a scan of the organization.
            wanted = _IN.search(text)
            listed = wanted.group(1).split(",") if wanted else None
            accounts = {a.strip().strip("'") for a in listed} if listed is not None else None
            scopes = self._queried[text] = [
                s
                for s in self.scopes
                if (accounts is None or s[0] in accounts) and s not in self.unrecorded
            ]
        total = len(scopes) * self.resources
        start = int(body.get("NextToken") or 0)
        rows = []
        for position in range(start, min(total, start + (limit or 25))):
            account, region = scopes[position // self.resources]
            rows.append(self._row(account, region, position % self.resources))
        return self._page(rows, start, total, "Results")

    def _GetAggregateComplianceDetailsByConfigRule(self, body: dict[str, Any], limit: int):
        rule = self.rules.index(body["ConfigRuleName"])
        account, region = body["AccountId"], body["AwsRegion"]
        evaluated = [r for r in range(self.resources) if rule in self.rules_of(r)]
        start = int(body.get("NextToken") or 0)
        items = [
            {
                "EvaluationResultIdentifier": {
                    "EvaluationResultQualifier": {
                        "ConfigRuleName": body["ConfigRuleName"],
                        "ResourceType": KINDS[r % 3],
                        "ResourceId": f"{account}-{region}-resource-{r:07d}",
                    },
                    "OrderingTimestamp": RECORDED,
                },
                "ComplianceType": "NON_COMPLIANT" if self.is_bad(r, rule) else "COMPLIANT",
                "ResultRecordedTime": RECORDED,
                "ConfigRuleInvokedTime": RECORDED,
                "Annotation": "Found by the per-rule read." if self.is_bad(r, rule) else None,
                "AccountId": account,
                "AwsRegion": region,
            }
            for r in evaluated[start : start + limit]
        ]
        return self._page(items, start, len(evaluated), "AggregateEvaluationResults")


class DiskStorage(StubStorage):
    """StubStorage that keeps every object's bytes, on disk (not in the measured memory)."""

    def __init__(self) -> None:
        super().__init__()
        self._folder = tempfile.TemporaryDirectory()
        self.root = Path(self._folder.name)
        self.keys: set[str] = set()

    def _params(self, params: dict[str, Any], model: Any, **extra: Any) -> None:
        super()._params(params=params, model=model, **extra)
        if model.name != "PutObject":
            return
        body = params.get("Body")
        data = body.read() if hasattr(body, "read") else bytes(body or b"")
        if hasattr(body, "seek"):
            body.seek(0)
        path = self.root / params["Key"]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        self.keys.add(params["Key"])

    def _answer(self, model: Any, **extra: Any) -> Any:
        key = self._request[0]
        # Always the newest bytes: StubStorage keeps a small JSON document only while it is small.
        if model.name == "GetObject" and key in self.keys:
            self.calls[model.name] += 1
            stored = (self.root / key).read_bytes()
            return _ok({"Body": StreamingBody(io.BytesIO(stored), len(stored)), "ETag": '"x"'})
        return super()._answer(model=model, **extra)

    def read(self, key: str) -> bytes:
        return (self.root / key).read_bytes()
