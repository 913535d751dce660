"""The pure core of the processing function: from a compliance-change event to what must happen.

Nothing here talks to AWS, so every rule about events, record keys, notifications and hand-offs is
tested without mocks.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import chat
import digest
import exemptions as exempt
import keys
import rulebook
import security_hub
import settings as env_settings
import ssm_remediation as ssm
import subjects
import tickets
import validation as v
from messages import Notification, evaluation
from security_hub import FindingUpdate

EVENT_SOURCE = "aws.config"
DETAIL_TYPE = "Config Rules Compliance Change"
MESSAGE_TYPE = "ComplianceChangeNotification"
COMPLIANCE_TYPES = ("COMPLIANT", "NON_COMPLIANT", "NOT_APPLICABLE", "INSUFFICIENT_DATA")
RECORD_PREFIX = "compliance-changes/"
LATEST_PREFIX = "compliance-latest/"
LATEST_KIND = "latest-evaluation"
FINDING_KIND = "compliance-finding"
SCHEMA_VERSION = 1

_STACK_NAME = re.compile(r"[A-Za-z][A-Za-z0-9-]{0,127}")
_FUNCTION = re.compile(
    r"(arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:function:)?[A-Za-z0-9_-]{1,64}(:[A-Za-z0-9$_-]{1,128})?"
)


@dataclass(frozen=True)
class ProcessingSettings:
    common: env_settings.CommonSettings
    remediation_function: str
    remediate_rules: frozenset[str]
    security_hub_mode: str = "off"
    ops_items: bool = False
    stack_name: str = ""
    digest_rules: frozenset[str] = frozenset()
    # Rules with AWS-native remediation: identifier -> who starts it (ssm_remediation.py).
    ssm_remediation: Mapping[str, str] = field(default_factory=dict)
    remediation_mode: str = "off"


def load_settings(env: Mapping[str, str]) -> ProcessingSettings:
    common = env_settings.common(env)
    function = env_settings.optional(env, "REMEDIATION_FUNCTION", "")
    if function and not _FUNCTION.fullmatch(function):
        raise env_settings.invalid(
            "REMEDIATION_FUNCTION", function, "empty or a Lambda function ARN or name"
        )
    remediate = env_settings.identifier_list(env, "REMEDIATE_RULES")
    # Any stack may hand off any rule that has automatic remediation: the rulebook is the same
    # for every stack, and a rule the stack does not deploy simply never sends an event.
    remediable = sorted(i for i, rule in rulebook.rules().items() if rule.remediation is not None)
    for identifier in remediate:
        if identifier not in remediable:
            raise env_settings.invalid(
                "REMEDIATE_RULES",
                identifier,
                "identifiers of rules with automatic remediation: " + ", ".join(remediable),
            )
    ops_items = env_settings.boolean(env, "OPS_ITEMS", False)
    # The value of the tag the OpsItems policy requires: only needed when OpsItems are opened.
    stack_name = env_settings.optional(env, "STACK_NAME", "")
    if ops_items and not _STACK_NAME.fullmatch(stack_name):
        raise env_settings.invalid(
            "STACK_NAME",
            stack_name,
            "the stack's name (1 to 128 letters, digits or -, starting with a letter), "
            "required when OPS_ITEMS is true",
        )
    digest = frozenset(env_settings.identifier_list(env, "DIGEST_RULES"))
    return ProcessingSettings(
        common,
        function,
        frozenset(remediate),
        security_hub.mode(env),
        ops_items,
        stack_name,
        digest,
        ssm.rules(env),
        ssm.mode(env),
    )


@dataclass(frozen=True)
class ComplianceChange:
    account: str
    region: str
    rule_name: str
    rule_arn: str | None
    resource_type: str
    resource_id: str
    compliance_type: str
    previous_type: str | None  # None on a resource's first evaluation
    annotation: str | None
    ordering: datetime
    recorded_at: str | None
    event_id: str | None
    event_time: str | None
    # Orders evaluations of one rule and resource; see `evaluation_rank`.
    rank: tuple[str, str, str]

    @property
    def ordering_text(self) -> str:
        return keys.iso_time(self.ordering)


def parse_event(event: Any) -> ComplianceChange:
    """Validate an EventBridge ``Config Rules Compliance Change`` event; ValidationError if not."""
    event = v.require_object(event, "event")
    v.choice(event, "source", "", (EVENT_SOURCE,))
    v.choice(event, "detail-type", "", (DETAIL_TYPE,))
    detail = v.require_object(event.get("detail"), "detail")
    if detail.get("messageType") is not None:
        v.choice(detail, "messageType", "detail", (MESSAGE_TYPE,))
    new = v.require_object(detail.get("newEvaluationResult"), "detail.newEvaluationResult")
    new_path = "detail.newEvaluationResult"
    identifier = v.optional_object(new, "evaluationResultIdentifier", new_path) or {}
    qualifier = (
        v.optional_object(
            identifier, "evaluationResultQualifier", f"{new_path}.evaluationResultIdentifier"
        )
        or {}
    )
    old = v.optional_object(detail, "oldEvaluationResult", "detail")
    ordering = _ordering(new, identifier)
    return ComplianceChange(
        account=v.string(
            detail,
            "awsAccountId",
            "detail",
            pattern=v.ACCOUNT_ID,
            description="a 12-digit AWS account id",
        ),
        region=v.string(
            detail,
            "awsRegion",
            "detail",
            pattern=v.REGION_CODE,
            description="an AWS region code such as eu-west-1",
        ),
        rule_name=v.string(detail, "configRuleName", "detail", max_length=128),
        rule_arn=v.optional_string(detail, "configRuleARN", "detail", max_length=512),
        resource_type=_with_fallback(
            detail,
            qualifier,
            "resourceType",
            v.RESOURCE_TYPE,
            "a resource type such as AWS::S3::Bucket",
        ),
        resource_id=_with_fallback(detail, qualifier, "resourceId", None, "a resource id"),
        compliance_type=v.choice(new, "complianceType", new_path, COMPLIANCE_TYPES),
        previous_type=(
            v.choice(old, "complianceType", "detail.oldEvaluationResult", COMPLIANCE_TYPES)
            if old is not None
            else None
        ),
        annotation=v.optional_string(new, "annotation", new_path),
        ordering=ordering,
        recorded_at=v.optional_string(new, "resultRecordedTime", new_path, max_length=64),
        event_id=v.optional_string(event, "id", "", max_length=128),
        event_time=v.optional_string(event, "time", "", max_length=64),
        rank=evaluation_rank(new, ordering),
    )


def event_of_result(item: Mapping[str, Any], account: str, region: str) -> dict[str, Any]:
    """The compliance-change event Config would send for one of its current evaluation results
    (``GetComplianceDetailsByConfigRule``), without an old result: what the exemption review
    replays for a failure an exemption hid. Parsed by ``parse_event`` like any other."""
    identifier = item.get("EvaluationResultIdentifier") or {}
    qualifier = identifier.get("EvaluationResultQualifier") or {}

    def text(moment: Any) -> Any:
        return keys.iso_time(moment) if isinstance(moment, datetime) else moment

    result = {
        "evaluationResultIdentifier": {
            "evaluationResultQualifier": dict(qualifier),
            "orderingTimestamp": text(identifier.get("OrderingTimestamp")),
        },
        "complianceType": item.get("ComplianceType"),
        "resultRecordedTime": text(item.get("ResultRecordedTime")),
        "configRuleInvokedTime": text(item.get("ConfigRuleInvokedTime")),
        "annotation": item.get("Annotation"),
    }
    return {
        "source": EVENT_SOURCE,
        "detail-type": DETAIL_TYPE,
        "detail": {
            "awsAccountId": account,
            "awsRegion": region,
            "configRuleName": qualifier.get("ConfigRuleName"),
            "resourceType": qualifier.get("ResourceType"),
            "resourceId": qualifier.get("ResourceId"),
            "messageType": MESSAGE_TYPE,
            "newEvaluationResult": {k: v for k, v in result.items() if v is not None},
        },
    }


def evaluation_rank(new: Mapping[str, Any], ordering: datetime) -> tuple[str, str, str]:
    """Which of two evaluations of the same rule and resource is newer: the later
    ``resultRecordedTime`` (when Config recorded the result), then the later
    ``configRuleInvokedTime`` (when the rule ran), then the later ``orderingTimestamp`` (the
    change that triggered it). An absent time counts as the ordering timestamp. Fixed-width UTC
    text, so ranks compare as tuples of strings, also when read back from S3."""
    path = "detail.newEvaluationResult"
    times = [
        v.timestamp(new, key, path) if new.get(key) is not None else ordering
        for key in ("resultRecordedTime", "configRuleInvokedTime")
    ]
    recorded, invoked = (_rank_text(moment) for moment in times)
    return recorded, invoked, _rank_text(ordering)


def _rank_text(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _with_fallback(
    detail: Mapping[str, Any],
    qualifier: Mapping[str, Any],
    key: str,
    pattern: re.Pattern[str] | None,
    description: str,
) -> str:
    # The qualifier repeats the resource; some producers only fill one of the two places.
    source, path = (
        (detail, "detail")
        if key in detail or key not in qualifier
        else (
            qualifier,
            "detail.newEvaluationResult.evaluationResultIdentifier.evaluationResultQualifier",
        )
    )
    return v.string(source, key, path, pattern=pattern, description=description, max_length=768)


def _ordering(new: Mapping[str, Any], identifier: Mapping[str, Any]) -> datetime:
    """When the evaluation happened: the identity of the evaluation and the record's date."""
    if "orderingTimestamp" in identifier or "resultRecordedTime" not in new:
        return v.timestamp(
            identifier, "orderingTimestamp", "detail.newEvaluationResult.evaluationResultIdentifier"
        )
    return v.timestamp(new, "resultRecordedTime", "detail.newEvaluationResult")


def record_key(change: ComplianceChange) -> str:
    """One key per evaluation (rule, resource, evaluation time): a duplicate finds the same key.

    The date partitions come from the evaluation time, not the processing time, so a retry after
    midnight still lands on the same key.
    """
    day = change.ordering
    return (
        f"{RECORD_PREFIX}{keys.date_partitions(day)}/"
        f"account={change.account}/region={change.region}/rule={keys.key_part(change.rule_name)}/"
        f"{keys.key_part(change.resource_type)}/{keys.key_part(change.resource_id)}/"
        f"{keys.compact_time(change.ordering)}.json"
    )


def latest_key(change: ComplianceChange) -> str:
    """One object per account, region, rule and resource: the newest evaluation seen."""
    return (
        f"{LATEST_PREFIX}account={change.account}/region={change.region}/"
        f"rule={keys.key_part(change.rule_name)}/{keys.key_part(change.resource_type)}/"
        f"{keys.key_part(change.resource_id)}.json"
    )


def latest_document(plan: Plan) -> dict[str, Any]:
    change = plan.change
    return {
        "schemaVersion": SCHEMA_VERSION,
        "kind": LATEST_KIND,
        "account": change.account,
        "region": change.region,
        "ruleName": change.rule_name,
        "resourceType": change.resource_type,
        "resourceId": change.resource_id,
        "complianceType": change.compliance_type,
        "orderingTimestamp": change.ordering_text,
        "resultRecordedTime": change.recorded_at,
        "rank": list(change.rank),
        "recordKey": plan.key,
    }


def stored_rank(document: Any) -> tuple[str, ...] | None:
    """The rank of a stored latest evaluation; None when the object is not one we wrote."""
    rank = document.get("rank") if isinstance(document, dict) else None
    if isinstance(rank, list) and len(rank) == 3 and all(isinstance(t, str) for t in rank):
        return tuple(rank)
    return None


def stale_record(record: dict[str, Any], newer: Mapping[str, Any]) -> dict[str, Any]:
    """The record of a stale evaluation: marked, with the newer evaluation that superseded it."""
    delivery = {
        name: value
        for name, value in (record.get("delivery") or {}).items()
        if name not in ("incomplete", "lastError")
    }
    return {
        **record,
        "stale": True,
        "supersededBy": {
            name: newer.get(name)
            for name in ("complianceType", "orderingTimestamp", "resultRecordedTime", "recordKey")
        },
        "delivery": {**delivery, "planned": [], "skipped": delivery.get("planned", [])},
    }


def notification_kind(change: ComplianceChange) -> str | None:
    """``violation`` for a change to NON_COMPLIANT, ``resolved`` for NON_COMPLIANT -> COMPLIANT."""
    if change.compliance_type == "NON_COMPLIANT" and change.previous_type != "NON_COMPLIANT":
        return "violation"
    if change.compliance_type == "COMPLIANT" and change.previous_type == "NON_COMPLIANT":
        return "resolved"
    return None


@dataclass(frozen=True)
class Plan:
    change: ComplianceChange
    identifier: str
    key: str
    record: dict[str, Any]
    notification: Notification | None = None
    hand_off: dict[str, Any] | None = None
    # The active exemption covering a NON_COMPLIANT change ({"id", "reason", "owner", "granted",
    # "expires"}): no violation notice, no hand-off, recorded as EXEMPT.
    exemption: dict[str, str] | None = None
    security_hub: FindingUpdate | None = None
    ticket: tickets.Ticket | None = None
    # Set instead of `notification` for a rule in DIGEST_RULES: (key, entry) for digest-pending/.
    digest_entry: tuple[str, dict[str, Any]] | None = None
    # AWS-native remediation (ssm_remediation.py): the PutRemediationExceptions request for an
    # exempt failure, the StartRemediationExecution request for one processing starts.
    remediation_exception: dict[str, Any] | None = None
    remediation_execution: dict[str, Any] | None = None

    @property
    def status(self) -> str:
        """The record's status: EXEMPT for an exempt NON_COMPLIANT change, else its type."""
        return "EXEMPT" if self.exemption is not None else self.change.compliance_type

    @property
    def side_effects(self) -> tuple[str, ...]:
        """In the order they run: people hear first (now or in the digest), Security Hub's
        finding says what this stack knows, then remediation may act (and adds its decision to
        that finding), then the ticket queue is brought up to date."""
        return _side_effects(
            self.notification,
            self.hand_off,
            self.security_hub,
            self.ticket,
            self.digest_entry,
            self.remediation_exception,
            self.remediation_execution,
        )


def plan(
    change: ComplianceChange,
    raw_event: Mapping[str, Any],
    config: ProcessingSettings,
    request_id: str,
    exemptions: exempt.Exemptions = exempt.NONE,
    *,
    matched_on: date | None = None,
    key: str | None = None,
) -> Plan:
    """Decide the record, the notification and the hand-off for a change of a managed rule.

    Exemptions are matched on the evaluation's day (UTC), not the day it is processed, so a
    retry after midnight decides the same; the exemption review replays a failure its expired
    exemption hid on the review's day (``matched_on``) under a record key of its own (``key``)."""
    suffix = rulebook.suffix(config.common.rule_name_prefix, change.rule_name)
    if suffix is None:
        raise ValueError(f"{change.rule_name} is not a rule of this stack")
    identifier = rulebook.names()[suffix]
    frameworks = rulebook.frameworks_of(suffix, config.common.frameworks)
    key = key or record_key(change)
    record_uri = f"s3://{config.common.bucket}/{key}"
    covering = exemptions.match(
        change.account,
        change.region,
        identifier,
        change.resource_type,
        change.resource_id,
        matched_on or change.ordering.astimezone(UTC).date(),
    )
    exempt_failure = covering is not None and change.compliance_type == "NON_COMPLIANT"
    hands_off = (
        change.compliance_type == "NON_COMPLIANT"
        and not exempt_failure
        and bool(config.remediation_function)
        and identifier in config.remediate_rules
    )
    # While an exemption covers the resource its failure is never notified, so neither is its
    # return to COMPLIANT: nobody was told of a violation to see resolved.
    kind = None if covering is not None else notification_kind(change)
    notification = (
        _notification(kind, change, identifier, frameworks, config, record_uri, hands_off)
        if kind
        else None
    )
    hand_off = _hand_off(change, identifier, record_uri) if hands_off else None
    exemption = covering.summary() if covering is not None else None
    ssm_start = config.ssm_remediation.get(identifier)
    where = (change.rule_name, change.resource_type, change.resource_id)
    remediation_exception = (
        ssm.exception_request(*where, exemption)
        if exempt_failure and ssm_start is not None and exemption is not None
        else None
    )
    remediation_execution = (
        ssm.execution_request(*where)
        if change.compliance_type == "NON_COMPLIANT"
        and not exempt_failure
        and ssm.starts_execution(ssm_start, config.remediation_mode)
        else None
    )
    finding_update = _security_hub(
        change, identifier, config, exemption if exempt_failure else None, hands_off
    )
    # Tickets follow the change itself: an exempt failure opens none, but a return to COMPLIANT
    # resolves a ticket opened before the exemption was granted.
    ticket = (
        tickets.plan_ticket(
            kind=notification_kind(change),
            change=change,
            identifier=identifier,
            frameworks=frameworks,
            checks=rulebook.text(identifier).description,
            runbook=rulebook.runbook_url(config.common.runbook_base_url, identifier),
            record_uri=record_uri,
            stack_name=config.stack_name,
            exemption=exemption if exempt_failure else None,
        )
        if config.ops_items
        else None
    )
    entry = None
    if notification is not None and kind and identifier in config.digest_rules:
        entry = digest.pending_entry(change, identifier, kind, key, record_uri)
        notification = None
    side_effects = _side_effects(
        notification,
        hand_off,
        finding_update,
        ticket,
        entry,
        remediation_exception,
        remediation_execution,
    )
    record = _record(change, identifier, frameworks, raw_event, side_effects, request_id)
    if exempt_failure:
        record["status"] = "EXEMPT"
    if exemption is not None:
        record["exemption"] = exemption
    return Plan(
        change,
        identifier,
        key,
        record,
        notification,
        hand_off,
        exemption if exempt_failure else None,
        finding_update,
        ticket,
        entry,
        remediation_exception,
        remediation_execution,
    )


def _side_effects(
    notification: Notification | None,
    hand_off: dict[str, Any] | None,
    finding_update: FindingUpdate | None = None,
    ticket: tickets.Ticket | None = None,
    digest_entry: tuple[str, dict[str, Any]] | None = None,
    remediation_exception: dict[str, Any] | None = None,
    remediation_execution: dict[str, Any] | None = None,
) -> tuple[str, ...]:
    # The exception goes with the other remediation decision, before the ticket: once the
    # record says EXEMPT, Config must not remediate the resource either.
    return tuple(
        name
        for name, item in (
            ("notification", notification),
            ("digest", digest_entry),
            ("securityhub", finding_update),
            ("remediation", hand_off),
            (ssm.EXCEPTION, remediation_exception),
            (ssm.EXECUTION, remediation_execution),
            ("ticket", ticket),
        )
        if item is not None
    )


def _security_hub(
    change: ComplianceChange,
    identifier: str,
    config: ProcessingSettings,
    exemption: Mapping[str, Any] | None,
    hands_off: bool,
) -> FindingUpdate | None:
    rule = rulebook.text(identifier)
    return security_hub.plan_update(
        config.security_hub_mode,
        security_hub.Target(
            change.account,
            change.region,
            change.rule_name,
            change.resource_type,
            change.resource_id,
        ),
        compliance_type=change.compliance_type,
        previous_type=change.previous_type,
        exemption=exemption,
        runbook=rulebook.runbook_url(config.common.runbook_base_url, identifier),
        hands_off=hands_off,
        # When Config recorded the result: the newest evaluation has the latest one.
        evaluated_at=change.rank[0],
        severity=rule.severity,
        description=rule.description,
        what_to_do=rule.what_to_do,
        annotation=change.annotation,
    )


def _record(
    change: ComplianceChange,
    identifier: str,
    frameworks: tuple[str, ...],
    raw_event: Mapping[str, Any],
    side_effects: tuple[str, ...],
    request_id: str,
) -> dict[str, Any]:
    return {
        "schemaVersion": SCHEMA_VERSION,
        "kind": "compliance-change",
        "account": change.account,
        "region": change.region,
        "ruleName": change.rule_name,
        "ruleIdentifier": identifier,
        "frameworks": list(frameworks),
        "ruleArn": change.rule_arn,
        "resourceType": change.resource_type,
        "resourceId": change.resource_id,
        "complianceType": change.compliance_type,
        # EXEMPT for a NON_COMPLIANT change an active exemption covers (set by `plan`).
        "status": change.compliance_type,
        "previousComplianceType": change.previous_type,
        "annotation": change.annotation,
        "orderingTimestamp": change.ordering_text,
        "resultRecordedTime": change.recorded_at,
        "eventId": change.event_id,
        "eventTime": change.event_time,
        "delivery": {"requestId": request_id, "planned": list(side_effects)},
        "event": raw_event,
    }


def _notification(
    kind: str,
    change: ComplianceChange,
    identifier: str,
    frameworks: tuple[str, ...],
    config: ProcessingSettings,
    record_uri: str,
    hands_off: bool,
) -> Notification:
    text = rulebook.text(identifier)
    runbook = rulebook.runbook_url(config.common.runbook_base_url, identifier)
    was = change.previous_type or "not evaluated before"
    suffix = rulebook.suffix(config.common.rule_name_prefix, change.rule_name) or identifier
    label = "Non-compliant" if kind == "violation" else "Resolved"
    headline = subjects.short_subject(label, suffix, change.resource_id)
    native = _native_remediation(change, identifier, config)
    if kind == "violation":
        intro = "A resource became non-compliant."
        todo = text.what_to_do
        does = f" What it does for this rule: {text.remediation}" if text.remediation else ""
        remediation = (
            "Handed to the remediation function (its mode decides whether it changes "
            f"anything).{does}"
            if hands_off
            else native or "Not enabled for this rule."
        )
    else:
        intro = "A resource that was non-compliant is compliant again. Nothing to do."
        todo = "Nothing: the finding is resolved."
        remediation = "Not needed."
    lines = [
        intro,
        "",
        f"Rule:        {change.rule_name} ({identifier})",
        f"Checks:      {text.description}",
        *([f"Frameworks:  {', '.join(frameworks)}"] if frameworks else []),
        f"Resource:    {change.resource_type} {change.resource_id}",
        f"Account:     {change.account}",
        f"Region:      {change.region}",
        f"Compliance:  {change.compliance_type} (was {was})",
        f"Evaluated:   {change.ordering_text}",
        f"Annotation:  {change.annotation or '(none given by the rule)'}",
        "",
        f"What to do:  {todo}",
        f"Runbook:     {runbook}",
        f"Automatic remediation: {remediation}",
        f"Record:      {record_uri}",
    ]
    attributes = {
        "notificationType": "compliance-change",
        "changeKind": kind,
        "complianceType": change.compliance_type,
        "ruleName": change.rule_name,
        "ruleIdentifier": identifier,
        "resourceType": change.resource_type,
        "account": change.account,
        "region": change.region,
    }
    card = (
        _card(kind, change, identifier, text.description, todo, runbook, hands_off, native)
        if config.common.chat_notifications
        else None
    )
    return Notification(headline, "\n".join(lines) + "\n", attributes, card)


def _card(
    kind: str,
    change: ComplianceChange,
    identifier: str,
    checks: str,
    todo: str,
    runbook: str,
    hands_off: bool,
    native: str | None = None,
) -> dict[str, Any]:
    was = change.previous_type or "not evaluated before"
    title = (
        f":rotating_light: Non-compliant: {change.rule_name}"
        if kind == "violation"
        else f":white_check_mark: Resolved: {change.rule_name}"
    )
    remediation = (
        "Remediation: handed to the remediation function"
        if hands_off
        else f"Remediation: {native}"
        if native
        else ""
    )
    steps = [todo, remediation] if kind == "violation" else []
    return chat.card(
        title,
        [
            ("Rule", f"{change.rule_name} ({identifier})"),
            ("Checks", checks),
            ("Resource", f"{change.resource_type} {change.resource_id}"),
            ("Account / region", f"{change.account} / {change.region}"),
            ("Compliance", f"{change.compliance_type} (was {was})"),
            ("Runbook", chat.link(runbook, f"{identifier} runbook")),
        ],
        steps,
        [change.compliance_type, identifier, change.account, change.region],
        thread=f"{change.account}/{change.region}/{change.rule_name}/{change.resource_id}",
    )


def _native_remediation(
    change: ComplianceChange, identifier: str, config: ProcessingSettings
) -> str | None:
    """The AWS-native remediation's next step for a failure of an ssm-engine rule; else None."""
    start = config.ssm_remediation.get(identifier)
    if start is None:
        return None
    return ssm.next_step(
        start,
        config.remediation_mode,
        rulebook.text(identifier).ssm_document,
        change.rule_name,
        ssm.resource_argument(change.resource_type, change.resource_id),
    )


def _hand_off(change: ComplianceChange, identifier: str, record_uri: str) -> dict[str, Any]:
    """The message the remediation function accepts (see its ``findings`` module)."""
    return {
        "kind": FINDING_KIND,
        "schemaVersion": SCHEMA_VERSION,
        **evaluation(change, identifier),
        "complianceType": change.compliance_type,
        "annotation": change.annotation,
        "orderingTimestamp": change.ordering_text,
        "changeRecord": record_uri,
    }
