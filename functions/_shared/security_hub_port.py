"""The Security Hub calls: find a rule and resource's finding, import ours, annotate it.

The payloads come from ``security_hub`` (pure); this module only talks to the API. Every call
raises on a failure, partial ones included (a finding Security Hub did not import or update),
so the caller can retry: an import of the same finding id and a note already there change
nothing, so a retry never duplicates either.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import security_hub
from security_hub import FindingNotFound, FindingUpdate

# A rule and resource has one finding of AWS Config's (and one of ours); more pages than this
# mean the filters matched far more than they should.
MAX_PAGES = 5
PAGE_SIZE = 100  # GetFindings' maximum


class SecurityHubPort:
    def __init__(self, client: Any) -> None:
        self._client = client

    def find(self, filters: Mapping[str, Any]) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        token: str | None = None
        for _ in range(MAX_PAGES):
            extra = {"NextToken": token} if token else {}
            response = self._client.get_findings(
                Filters=dict(filters), MaxResults=PAGE_SIZE, **extra
            )
            found.extend(response.get("Findings", []))
            token = response.get("NextToken")
            if not token:
                break
        return found

    def import_finding(self, finding: Mapping[str, Any]) -> None:
        response = self._client.batch_import_findings(Findings=[dict(finding)])
        if response.get("FailedCount", 0):
            failed = response.get("FailedFindings") or [{}]
            raise RuntimeError(
                f"Security Hub did not import finding {finding['Id']}: "
                f"{failed[0].get('ErrorCode')}: {failed[0].get('ErrorMessage')}"
            )

    def update(self, request: Mapping[str, Any]) -> None:
        response = self._client.batch_update_findings(**request)
        unprocessed = response.get("UnprocessedFindings") or []
        if unprocessed:
            first = unprocessed[0]
            identifier = first.get("FindingIdentifier", {}).get("Id")
            raise RuntimeError(
                f"Security Hub did not update finding {identifier}: "
                f"{first.get('ErrorCode')}: {first.get('ErrorMessage')}"
            )


def apply(port: SecurityHubPort, update: FindingUpdate) -> int:
    """Import (mode ``import``), then annotate; the number of update requests sent."""
    if update.finding is not None:
        port.import_finding(update.finding)
    found = port.find(update.filters)
    if update.mode == "config":
        found = security_hub.of_resource(found, update.target.resource_id)
        if not found:
            raise FindingNotFound(
                f"Security Hub has no active AWS Config finding for rule "
                f"{update.target.rule_name} and {update.target.resource_type} "
                f"{update.target.resource_id} yet (AWS Config sends it within minutes, and only "
                "where its integration is enabled); the retry looks again"
            )
    elif not found:
        # Just imported and not listed yet: annotate it by its id.
        found = [security_hub.new_finding(update)]
    requests = security_hub.annotation_requests(update, found)
    for request in requests:
        port.update(request)
    return len(requests)
