"""Audit records and notifications of remediation decisions, written once per decision.

The record key is per finding and invocation. An ``enforce`` action is preceded by an
``in-progress`` record (a write-ahead claim): when Lambda retries the invocation (same request
id) after a failure, the retry finds the earlier decision and notifies that one instead of
deciding again, and a crash in the middle of an action still leaves a trace in the bucket.
"""

from __future__ import annotations

from typing import Any

import aws
import rulebook
from decide import Action, Plan
from findings import Finding, RemediationSettings

IN_PROGRESS = "in-progress"


def decision_record(
    finding: Finding,
    plan: Plan,
    outcome: str,
    reason: str,
    config: RemediationSettings,
    request_id: str,
    decided_at: str,
) -> dict[str, Any]:
    return {
        "schemaVersion": 1,
        "kind": "remediation-decision",
        "outcome": outcome,
        "reason": reason,
        "mode": config.mode,
        "action": _action(plan.action),
        "observed": dict(plan.observed),
        "finding": finding.summary(),
        "runbook": rulebook.runbook_url(config.common.runbook_base_url, finding.identifier),
        "decidedAt": decided_at,
        "requestId": request_id,
    }


def _action(action: Action | None) -> dict[str, Any] | None:
    if action is None:
        return None
    return {"api": action.api, "parameters": dict(action.params), "description": action.description}


def _security_hub_line(record: dict[str, Any]) -> list[str]:
    note = record.get("securityHubNote")
    if not isinstance(note, dict):
        return []
    if note.get("status") == "missing":
        return [f"Security Hub: the decision's note is missing ({note.get('error')})"]
    return ["Security Hub: the decision is the finding's note"]


def _is_final(record: Any) -> bool:
    return isinstance(record, dict) and record.get("outcome") not in (None, IN_PROGRESS)


class Auditor:
    def __init__(self, s3: Any, sns: Any, config: RemediationSettings) -> None:
        self._s3, self._sns, self._config = s3, sns, config

    def claim(self, key: str, record: dict[str, Any]) -> dict[str, Any] | None:
        """Write the in-progress record; return the earlier final decision if there is one."""
        if aws.put_json(self._s3, self._config.common.bucket, key, record, only_if_absent=True):
            return None
        return self._earlier_final(key)

    def finish(self, key: str, record: dict[str, Any], *, claimed: bool) -> dict[str, Any]:
        """Store the final decision; return the one to notify (an earlier final one wins)."""
        bucket = self._config.common.bucket
        if claimed:
            aws.put_json(self._s3, bucket, key, record)
            return record
        if aws.put_json(self._s3, bucket, key, record, only_if_absent=True):
            return record
        earlier = aws.get_json(self._s3, bucket, key)
        if _is_final(earlier):
            return earlier
        if isinstance(earlier, dict):
            # A crashed attempt claimed the key before acting: keep what it meant to do, since
            # its action is the likely reason the resource now looks fixed.
            record = {**record, "interruptedAttempt": {"action": earlier.get("action")}}
        aws.put_json(self._s3, bucket, key, record)
        return record

    def save(self, key: str, record: dict[str, Any]) -> None:
        aws.put_json(self._s3, self._config.common.bucket, key, record)

    def _earlier_final(self, key: str) -> dict[str, Any] | None:
        earlier = aws.get_json(self._s3, self._config.common.bucket, key)
        return earlier if _is_final(earlier) else None

    def notify(self, key: str, record: dict[str, Any]) -> str:
        finding = record.get("finding", {})
        outcome = record.get("outcome", "")
        action = record.get("action") or {}
        lines = [
            f"Remediation decision: {outcome.upper()} ({record.get('mode')} mode)",
            "",
            f"Rule:        {finding.get('ruleName')} ({finding.get('ruleIdentifier')})",
            f"Resource:    {finding.get('resourceType')} {finding.get('resourceId')}",
            f"Account:     {finding.get('account')}",
            f"Region:      {finding.get('region')}",
            f"Why:         {record.get('reason')}",
            f"Action:      {action.get('description', 'none')}",
            f"Annotation:  {finding.get('annotation') or '(none given by the rule)'}",
            f"Runbook:     {record.get('runbook')}",
            f"Audit:       s3://{self._config.common.bucket}/{key}",
            *_security_hub_line(record),
        ]
        return aws.publish(
            self._sns,
            self._config.common.topic_arn,
            f"Remediation {outcome}: {finding.get('ruleName')} - {finding.get('resourceId')}",
            "\n".join(lines) + "\n",
            {
                "notificationType": "remediation",
                "outcome": outcome,
                "mode": str(record.get("mode", "")),
                "ruleName": str(finding.get("ruleName", "")),
                "ruleIdentifier": str(finding.get("ruleIdentifier", "")),
                "resourceType": str(finding.get("resourceType", "")),
                "account": str(finding.get("account", "")),
                "region": str(finding.get("region", "")),
            },
        )
