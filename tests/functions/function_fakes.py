"""In-memory stand-ins for AWS APIs that moto lacks or that a benchmark must not store.

They answer through botocore's ``before-call`` hook, so the functions use real boto3 clients,
real paginators and real parameter validation; only the HTTP exchange is replaced.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import threading
from collections import Counter
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

from botocore.response import StreamingBody

RECORDED = datetime(2024, 5, 1, 6, 0, tzinfo=UTC)


def _ok(parsed: dict[str, Any]) -> tuple[SimpleNamespace, dict[str, Any]]:
    parsed.setdefault("ResponseMetadata", {"HTTPStatusCode": 200})
    return SimpleNamespace(status_code=200, headers={}, content=b""), parsed


def _error(code: str, status: int = 400) -> tuple[SimpleNamespace, dict[str, Any]]:
    return SimpleNamespace(status_code=status, headers={}, content=b""), {
        "Error": {"Code": code, "Message": code},
        "ResponseMetadata": {"HTTPStatusCode": status},
    }


class FakeConfig:
    """Config's compliance APIs over generated results: nothing is stored per result."""

    def __init__(self) -> None:
        # rule -> [(account, region, compliant, non_compliant)]
        self.rules: dict[str, list[tuple[str, str, int, int]]] = {}
        self.calls: Counter[str] = Counter()
        self.limits: list[int] = []
        self.failures: list[str] = []  # error codes the next calls answer with
        # Deployed rules Config lists besides those with results (another stack's, say).
        self.other_rules: list[str] = []
        # (account, region) -> (error code, message): aggregator sources that failed.
        self.failed_sources: dict[tuple[str, str], tuple[str, str]] = {}
        # Scopes whose recorder does not record AWS::Config::ResourceCompliance.
        self.unrecorded: set[tuple[str, str]] = set()

    def add(
        self,
        rule: str,
        compliant: int,
        non_compliant: int,
        account: str = "123456789012",
        region: str = "us-east-1",
    ) -> None:
        self.rules.setdefault(rule, []).append((account, region, compliant, non_compliant))

    def attach(self, client: Any) -> None:
        client.meta.events.register("before-call.config-service.*", self._answer)

    def _answer(self, model: Any, params: dict[str, Any], **_: Any) -> Any:
        self.calls[model.name] += 1
        if self.failures:
            return _error(self.failures.pop(0))
        body = json.loads(params.get("body") or b"{}")
        handler = getattr(self, f"_{model.name}", None)
        if handler is None:
            raise AssertionError(f"FakeConfig does not answer {model.name}")
        return handler(body)

    @staticmethod
    def _item(rule: str, source: tuple[str, str, int, int], index: int) -> dict[str, Any]:
        account, region, compliant, non_compliant = source
        total = compliant + non_compliant
        # Spread the non-compliant results evenly, so every page mixes both kinds.
        bad = (index + 1) * non_compliant // total != index * non_compliant // total
        kinds = ("AWS::S3::Bucket", "AWS::EC2::Volume", "AWS::RDS::DBInstance")
        return {
            "EvaluationResultIdentifier": {
                "EvaluationResultQualifier": {
                    "ConfigRuleName": rule,
                    "ResourceType": kinds[index % 3],
                    "ResourceId": f"{account}-{region}-resource-{index:07d}",
                },
                "OrderingTimestamp": RECORDED,
            },
            "ComplianceType": "NON_COMPLIANT" if bad else "COMPLIANT",
            "ResultRecordedTime": RECORDED,
            "ConfigRuleInvokedTime": RECORDED,
            "Annotation": "Found <b>&</b> flagged." if bad else None,
            "AccountId": account,
            "AwsRegion": region,
        }

    def _page(self, rule: str, source: tuple[str, str, int, int], body: dict[str, Any], key: str):
        limit = body.get("Limit") or 50
        self.limits.append(limit)
        start = int(body.get("NextToken") or 0)
        total = source[2] + source[3]
        end = min(total, start + limit)
        items = [self._item(rule, source, i) for i in range(start, end)]
        for item in items:
            if key == "EvaluationResults":
                item.pop("AccountId")
                item.pop("AwsRegion")
        parsed: dict[str, Any] = {key: items}
        if end < total:
            parsed["NextToken"] = str(end)
        return _ok(parsed)

    def _DescribeConfigRules(self, body: dict[str, Any]):
        # Config answers in pages of 25 and takes no page size.
        assert "ConfigRuleNames" not in body
        names = sorted({*self.rules, *self.other_rules})
        start = int(body.get("NextToken") or 0)
        parsed: dict[str, Any] = {
            "ConfigRules": [
                {"ConfigRuleName": name, "Source": {"Owner": "AWS", "SourceIdentifier": "X"}}
                for name in names[start : start + 25]
            ]
        }
        if start + 25 < len(names):
            parsed["NextToken"] = str(start + 25)
        return _ok(parsed)

    def _GetComplianceDetailsByConfigRule(self, body: dict[str, Any]):
        rule = body["ConfigRuleName"]
        if rule not in self.rules:
            return _error("NoSuchConfigRuleException")
        assert body.get("ComplianceTypes") == ["COMPLIANT", "NON_COMPLIANT"]
        return self._page(rule, self.rules[rule][0], body, "EvaluationResults")

    # --- the aggregator: sources, rule states, the advanced query, per-rule details -----------
    # A scope's resource i is evaluated by every rule of the scope with more than i results,
    # with the state _item gives it, so the query and the per-rule reads agree.

    def _scopes(self) -> list[tuple[str, str]]:
        return sorted({(a, r) for sources in self.rules.values() for a, r, _, _ in sources})

    def _DescribeConfigurationAggregatorSourcesStatus(self, body: dict[str, Any]):
        assert (body.get("Limit") or 100) <= 100
        items = []
        for account, region in self._scopes():
            item = {"SourceId": account, "SourceType": "ORGANIZATION", "AwsRegion": region}
            failed = self.failed_sources.get((account, region))
            item["LastUpdateStatus"] = "FAILED" if failed else "SUCCEEDED"
            if failed:
                item.update(LastErrorCode=failed[0], LastErrorMessage=failed[1])
            items.append(item)
        return _paged(items, body, "AggregatedSourceStatusList", 100)

    def _DescribeAggregateComplianceByConfigRules(self, body: dict[str, Any]):
        assert (body.get("Limit") or 1000) <= 1000
        filters = body.get("Filters") or {}
        items = []
        for rule, sources in sorted(self.rules.items()):
            for account, region, _, nc in sources:
                if filters.get("AccountId", account) != account:
                    continue
                if filters.get("AwsRegion", region) != region:
                    continue
                compliance: dict[str, Any] = {
                    "ComplianceType": "NON_COMPLIANT" if nc else "COMPLIANT"
                }
                if nc:
                    compliance["ComplianceContributorCount"] = {
                        "CappedCount": min(nc, 100),
                        "CapExceeded": nc > 100,
                    }
                items.append(
                    {
                        "ConfigRuleName": rule,
                        "Compliance": compliance,
                        "AccountId": account,
                        "AwsRegion": region,
                    }
                )
        if not filters:
            items.append(
                {
                    "ConfigRuleName": "not-ours",
                    "Compliance": {"ComplianceType": "COMPLIANT"},
                    "AccountId": "999999999999",
                    "AwsRegion": "eu-west-1",
                }
            )
        return _paged(items, body, "AggregateComplianceByConfigRules", 1000)

    def _SelectAggregateResourceConfig(self, body: dict[str, Any]):
        assert (body.get("Limit") or 25) <= 100
        text = body["Expression"]
        assert len(text) <= 4096 and text.endswith("ORDER BY accountId, awsRegion"), text
        listed = re.search(r"accountId IN \(([^)]*)\)", text)
        accounts = {a.strip().strip("'") for a in listed.group(1).split(",")} if listed else None
        rows = []
        for scope in self._scopes():
            if (accounts is not None and scope[0] not in accounts) or scope in self.unrecorded:
                continue
            sources = [
                (rule, source)
                for rule, found in sorted(self.rules.items())
                for source in found
                if source[:2] == scope
            ]
            for index in range(max(c + n for _, (_, _, c, n) in sources)):
                rows.append((scope, index, sources))
        start = int(body.get("NextToken") or 0)
        end = min(len(rows), start + (body.get("Limit") or 25))
        parsed: dict[str, Any] = {"Results": [self._query_row(*row) for row in rows[start:end]]}
        if end < len(rows):
            parsed["NextToken"] = str(end)
        return _ok(parsed)

    def _query_row(self, scope, index, sources) -> str:
        listed = []
        for rule, source in sources:
            if index < source[2] + source[3]:
                item = self._item(rule, source, index)
                listed.append({"configRuleName": rule, "complianceType": item["ComplianceType"]})
        kind = self._item(*sources[0], index)["EvaluationResultIdentifier"]
        qualifier = kind["EvaluationResultQualifier"]
        return json.dumps(
            {
                "accountId": scope[0],
                "awsRegion": scope[1],
                "configurationItemCaptureTime": RECORDED.isoformat(),
                "configuration": {
                    "targetResourceType": qualifier["ResourceType"],
                    "targetResourceId": qualifier["ResourceId"],
                    "configRuleList": listed,
                },
            }
        )

    def _GetAggregateComplianceDetailsByConfigRule(self, body: dict[str, Any]):
        rule = body["ConfigRuleName"]
        for source in self.rules.get(rule, []):
            if source[:2] == (body["AccountId"], body["AwsRegion"]):
                return self._page(rule, source, body, "AggregateEvaluationResults")
        return _ok({"AggregateEvaluationResults": []})


def _paged(items: list[Any], body: dict[str, Any], key: str, default: int) -> Any:
    limit = body.get("Limit") or default
    start = int(body.get("NextToken") or 0)
    parsed: dict[str, Any] = {key: items[start : start + limit]}
    if start + limit < len(items):
        parsed["NextToken"] = str(start + limit)
    return _ok(parsed)


def _etag(body: bytes) -> str:
    return f'"{hashlib.md5(body).hexdigest()}"'  # what S3 answers for a single-part upload


class StubStorage:
    """S3, SNS, Lambda and Config's remediation calls answering success at once; keeps object
    sizes, not their bytes. Safe for a client shared by threads (the report uploads in
    parallel): the request being answered is kept per thread."""

    @property
    def _request(self) -> tuple[Any, ...]:
        return self._local.request

    @_request.setter
    def _request(self, value: tuple[Any, ...]) -> None:
        self._local.request = value

    def __init__(self) -> None:
        self._local = threading.local()
        self.calls: Counter[str] = Counter()
        self.sizes: dict[str, int] = {}
        self.objects: dict[str, bytes] = {}  # small JSON documents only, for conditional writes

    def attach(self, client: Any) -> None:
        service = client.meta.service_model.service_id.hyphenize()
        client.meta.events.register(f"before-parameter-build.{service}.*", self._params)
        client.meta.events.register(f"before-call.{service}.*", self._answer)

    def _params(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        # Runs before serialisation: the only place the API parameters are still plain values.
        self._request = (params.get("Key"), params.get("IfNoneMatch"), None, params.get("IfMatch"))
        if model.name != "PutObject":
            return
        body = params.get("Body")
        if hasattr(body, "read"):
            size = 0
            while chunk := body.read(1 << 20):
                size += len(chunk)
            body.seek(0)
            kept = None
        else:
            size = len(body or b"")
            kept = bytes(body) if params["Key"].endswith(".json") and size < 1 << 20 else None
        self.sizes[params["Key"]] = size
        self._request = (params["Key"], params.get("IfNoneMatch"), kept, params.get("IfMatch"))

    def _answer(self, model: Any, **_: Any) -> Any:
        self.calls[model.name] += 1
        key, if_none_match, body, if_match = self._request
        name = model.name
        if name == "PutObject":
            if if_none_match == "*" and key in self.objects:
                return _error("PreconditionFailed", 412)
            if if_match is not None and key not in self.objects:
                return _error("NoSuchKey", 404)
            if if_match is not None and if_match != _etag(self.objects[key]):
                return _error("PreconditionFailed", 412)
            if body is not None:
                self.objects[key] = body
            return _ok({"ETag": _etag(body or b"")})
        if name == "GetObject":
            if key not in self.objects:
                return _error("NoSuchKey", 404)
            stored = self.objects[key]
            return _ok(
                {"Body": StreamingBody(io.BytesIO(stored), len(stored)), "ETag": _etag(stored)}
            )
        if name == "ListObjectsV2":
            return _ok({"CommonPrefixes": [], "KeyCount": 0, "IsTruncated": False})
        if name == "Publish":
            return _ok({"MessageId": "message-id"})
        if name == "Invoke":
            return _ok({"StatusCode": 202})
        if name == "StartRemediationExecution":
            return _ok({"FailedItems": []})
        if name == "PutRemediationExceptions":
            return _ok({"FailedBatches": []})
        raise AssertionError(f"StubStorage does not answer {name}")
