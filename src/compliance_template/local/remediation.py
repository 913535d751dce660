"""AWS Config remediation for the local emulator (and moto in the tests).

moto 5.2.5 has no Config remediation at all: no API and no CloudFormation type.
`remediation_additions(results)` adds, for as long as it is active, the eight remediation
operations to moto's Config responses and `RemediationConfiguration` (the CloudFormation type
AWS::Config::RemediationConfiguration, registered in emulator.EMULATED_TYPES). Everything is kept
on moto's own Config backend object (one per account and region), so a moto reset clears it.

What AWS does that the emulator does too (Config API reference, read 2026-12-02,
https://docs.aws.amazon.com/config/latest/APIReference/API_PutRemediationExceptions.html and the
pages of the other operations): a remediation belongs to an existing rule; starting one on a rule
without a configuration fails with NoSuchRemediationConfigurationException; an exception is only
placed on a resource whose latest evaluation for the rule is NON_COMPLIANT (else a failed batch);
an exception past its ExpirationTime is gone. `results` are the evaluation results the caller
recorded (emulator.Emulator.record_evaluation): moto evaluates nothing. An execution is recorded
QUEUED and reported SUCCEEDED from the second status read on; no document runs. docs/deploy.md
lists what is not emulated.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from typing import Any, ClassVar
from unittest import mock

from ..extras import extra_of, missing_extra
from .emulated import EmulatedResource

try:
    from moto.config.exceptions import NoSuchConfigRuleException
    from moto.config.models import config_backends
    from moto.config.responses import ConfigResponse
    from moto.core.exceptions import JsonRESTError
except ModuleNotFoundError as missing:  # installed without this subpackage's extra
    raise missing_extra(extra_of(__package__), missing) from None

_STORE = "_emulated_remediation"
PAGE_MAX = 100
# DescribeRemediationConfigurations takes at most this many rule names (API reference).
DESCRIBE_MAX = 25
OPERATIONS = (
    "put_remediation_configurations",
    "describe_remediation_configurations",
    "delete_remediation_configuration",
    "put_remediation_exceptions",
    "describe_remediation_exceptions",
    "delete_remediation_exceptions",
    "start_remediation_execution",
    "describe_remediation_execution_status",
)


class RemediationError(JsonRESTError):
    code = 400


def _no_configuration(rule: str) -> RemediationError:
    return RemediationError(
        "NoSuchRemediationConfigurationException",
        f"No RemediationConfiguration for rule exists: {rule}",
    )


def store(account: str, region: str) -> dict[str, dict[str, Any]]:
    """configurations: rule -> configuration; exceptions: (rule, type, id) -> exception;
    executions: (rule, type, id) -> status. For tests and inspection too."""
    backend = config_backends[account][region]
    found: dict[str, dict[str, Any]] = backend.__dict__.setdefault(
        _STORE, {"configurations": {}, "exceptions": {}, "executions": {}}
    )
    return found


def _existing_rule(account: str, region: str, rule: str) -> None:
    if rule not in config_backends[account][region].config_rules:
        raise NoSuchConfigRuleException(rule)


def put_configuration(account: str, region: str, configuration: Mapping[str, Any]) -> str:
    """Store (or replace) the rule's configuration; its ARN. Shared by the API and the
    CloudFormation type."""
    rule = str(configuration.get("ConfigRuleName") or "")
    _existing_rule(account, region, rule)
    configurations = store(account, region)["configurations"]
    arn = (configurations.get(rule) or {}).get("Arn") or (
        f"arn:aws:config:{region}:{account}:remediation-configuration/{rule}/{uuid.uuid4()}"
    )
    configurations[rule] = {**configuration, "Arn": arn}
    return arn


def delete_configuration(account: str, region: str, rule: str) -> None:
    if store(account, region)["configurations"].pop(rule, None) is None:
        raise _no_configuration(rule)


def _key(rule: str, key: Mapping[str, Any]) -> tuple[str, str, str]:
    # Exceptions name ResourceType/ResourceId, executions resourceType/resourceId.
    kind = key.get("ResourceType") or key.get("resourceType") or ""
    resource = key.get("ResourceId") or key.get("resourceId") or ""
    return rule, str(kind), str(resource)


def _non_compliant(results: Mapping[str, list[dict]], rule: str, kind: str, resource: str) -> bool:
    """Whether the latest result recorded for the resource is NON_COMPLIANT."""
    latest = None
    for result in results.get(rule, []):
        qualifier = result["EvaluationResultIdentifier"]["EvaluationResultQualifier"]
        if (qualifier["ResourceType"], qualifier["ResourceId"]) == (kind, resource):
            latest = result["ComplianceType"]
    return latest == "NON_COMPLIANT"


class _Operations:
    """The handlers, bound to the evaluation results they check exceptions against."""

    def __init__(self, results: Mapping[str, list[dict]]) -> None:
        self.results = results

    @staticmethod
    def _where(response: ConfigResponse) -> tuple[str, str]:
        return response.current_account, response.region

    def put_remediation_configurations(self, response: ConfigResponse) -> str:
        account, region = self._where(response)
        for configuration in response._get_param("RemediationConfigurations") or []:
            put_configuration(account, region, configuration)
        return json.dumps({"FailedBatches": []})

    def describe_remediation_configurations(self, response: ConfigResponse) -> str:
        configurations = store(*self._where(response))["configurations"]
        names = response._get_param("ConfigRuleNames") or []
        if len(names) > DESCRIBE_MAX:
            raise RemediationError(
                "ValidationException", f"ConfigRuleNames holds at most {DESCRIBE_MAX} names"
            )
        found = [configurations[name] for name in names if name in configurations]
        return json.dumps({"RemediationConfigurations": found})

    def delete_remediation_configuration(self, response: ConfigResponse) -> str:
        delete_configuration(*self._where(response), response._get_param("ConfigRuleName"))
        return "{}"

    def put_remediation_exceptions(self, response: ConfigResponse) -> str:
        account, region = self._where(response)
        rule = response._get_param("ConfigRuleName")
        _existing_rule(account, region, rule)
        exceptions = store(account, region)["exceptions"]
        refused = []
        for key in response._get_param("ResourceKeys") or []:
            where = _key(rule, key)
            if not _non_compliant(self.results, *where):
                refused.append(key)
                continue
            exceptions[where] = {
                "ConfigRuleName": rule,
                "ResourceType": where[1],
                "ResourceId": where[2],
                **{
                    name: response._get_param(name)
                    for name in ("Message", "ExpirationTime")
                    if response._get_param(name) is not None
                },
            }
        batches = (
            [
                {
                    "FailureMessage": "a remediation exception can only be placed on a "
                    "NON_COMPLIANT resource",
                    "FailedItems": refused,
                }
            ]
            if refused
            else []
        )
        return json.dumps({"FailedBatches": batches})

    def describe_remediation_exceptions(self, response: ConfigResponse) -> str:
        account, region = self._where(response)
        rule = response._get_param("ConfigRuleName")
        wanted = {_key(rule, key) for key in response._get_param("ResourceKeys") or []}
        exceptions = store(account, region)["exceptions"]
        now = time.time()
        for where in [w for w, e in exceptions.items() if _expired(e, now)]:
            del exceptions[where]  # AWS deletes an exception once it expires
        found = [
            exception
            for where, exception in sorted(exceptions.items())
            if where[0] == rule and (not wanted or where in wanted)
        ]
        return json.dumps(page(response, "RemediationExceptions", found, PAGE_MAX))

    def delete_remediation_exceptions(self, response: ConfigResponse) -> str:
        rule = response._get_param("ConfigRuleName")
        exceptions = store(*self._where(response))["exceptions"]
        missing = [
            key
            for key in response._get_param("ResourceKeys") or []
            if exceptions.pop(_key(rule, key), None) is None
        ]
        batches = (
            [{"FailureMessage": "no such remediation exception", "FailedItems": missing}]
            if missing
            else []
        )
        return json.dumps({"FailedBatches": batches})

    def start_remediation_execution(self, response: ConfigResponse) -> str:
        account, region = self._where(response)
        rule = response._get_param("ConfigRuleName")
        _existing_rule(account, region, rule)
        state = store(account, region)
        if rule not in state["configurations"]:
            raise _no_configuration(rule)
        now = time.time()
        for key in response._get_param("ResourceKeys") or []:
            where = _key(rule, key)
            state["executions"][where] = {
                "ResourceKey": {"resourceType": where[1], "resourceId": where[2]},
                "State": "QUEUED",
                "StepDetails": [],
                "InvocationTime": now,
                "LastUpdatedTime": now,
            }
        return json.dumps({"FailedItems": []})

    def describe_remediation_execution_status(self, response: ConfigResponse) -> str:
        rule = response._get_param("ConfigRuleName")
        executions = store(*self._where(response))["executions"]
        wanted = {_key(rule, key) for key in response._get_param("ResourceKeys") or []}
        found = []
        for where, status in sorted(executions.items()):
            if where[0] != rule or (wanted and where not in wanted):
                continue
            found.append(dict(status))
            # No document runs: the next read finds the execution done.
            status["State"], status["LastUpdatedTime"] = "SUCCEEDED", time.time()
        return json.dumps({"RemediationExecutionStatuses": found})


def page(response: Any, key: str, found: list[Any], most: int) -> dict[str, Any]:
    """One page of `found` under `key`, as Config pages (Limit, at most `most`; NextToken)."""
    limit = min(int(response._get_param("Limit") or most), most)
    start = int(response._get_param("NextToken") or 0)
    body: dict[str, Any] = {key: found[start : start + limit]}
    if start + limit < len(found):
        body["NextToken"] = str(start + limit)
    return body


def _expired(exception: Mapping[str, Any], now: float) -> bool:
    expires = exception.get("ExpirationTime")
    return isinstance(expires, int | float) and expires <= now


@contextmanager
def remediation_additions(results: Mapping[str, list[dict]] | None = None) -> Iterator[None]:
    """moto's Config answers the remediation operations while the block runs; exceptions are
    checked against `results` (rule name -> evaluation results, as the emulator records them)."""
    operations = _Operations(results if results is not None else {})
    with ExitStack() as stack:
        for name in OPERATIONS:
            stack.enter_context(
                mock.patch.object(ConfigResponse, name, _handler(operations, name), create=True)
            )
        yield


def _handler(operations: _Operations, name: str) -> Any:
    """A plain function, as moto dispatches only to functions of the response class."""
    bound = getattr(operations, name)

    def handle(response: ConfigResponse) -> str:
        result: str = bound(response)
        return result

    return handle


def _boolean(value: Any) -> bool:
    # A template may give a literal or the string an intrinsic resolves to.
    return value is True or str(value).lower() == "true"


class RemediationConfiguration(EmulatedResource):
    """AWS::Config::RemediationConfiguration, stored per account, region and rule (moto has no
    Config remediation); Ref is the physical id, as the rule's name is one per rule."""

    TYPE = "AWS::Config::RemediationConfiguration"
    ATTRIBUTES: ClassVar[dict[str, str]] = {}
    INTEGERS = ("MaximumAutomaticAttempts", "RetryAttemptSeconds")

    def apply(self) -> None:
        previous = getattr(self, "rule", None)
        configuration = dict(self.properties)
        if "Automatic" in configuration:
            configuration["Automatic"] = _boolean(configuration["Automatic"])
        for name in self.INTEGERS:
            if configuration.get(name) is not None:
                configuration[name] = int(configuration[name])
        put_configuration(self.account_id, self.region, configuration)
        self.rule = str(configuration.get("ConfigRuleName") or "")
        if previous is not None and previous != self.rule:  # updated onto another rule
            store(self.account_id, self.region)["configurations"].pop(previous, None)

    def delete(self, account_id: str, region_name: str) -> None:
        rule = str(self.properties.get("ConfigRuleName") or "")
        store(account_id, region_name)["configurations"].pop(rule, None)
