"""What the local emulator adds to moto's Security Hub, on moto's own backend objects.

moto 5.2.5 stores findings (BatchImportFindings) and lists them (GetFindings), but ignores
GetFindings' filters, lets an import overwrite any field, and has no BatchUpdateFindings and no
product subscriptions. `security_hub_additions()` closes the gaps the functions and preflight
meet, for as long as it is active: the findings stay moto's `Finding` objects in moto's
`SecurityHubBackend`, so every other moto call sees the same state. `send_config_evaluation`
plays AWS Config's integration: it turns one evaluation into the finding AWS Config would send.
Security Hub's behaviour follows docs/aws-facts.md ("Security Hub"); docs/deploy.md lists each
addition and what it does not emulate.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime
from typing import Any
from unittest import mock
from urllib.parse import unquote

from ..extras import extra_of, missing_extra

try:
    from moto.securityhub import urls as securityhub_urls
    from moto.securityhub.exceptions import SecurityHubClientError
    from moto.securityhub.models import Finding, SecurityHubBackend, securityhub_backends
    from moto.securityhub.responses import SecurityHubResponse
except ModuleNotFoundError as missing:  # installed without this subpackage's extra
    raise missing_extra(extra_of(__package__), missing) from None

# The operations moto routes nowhere (botocore's request URIs), all answered by moto's dispatcher.
EXTRA_PATHS = {
    "{0}/findings/batchupdate$": SecurityHubResponse.dispatch,
    "{0}/productSubscriptions$": SecurityHubResponse.dispatch,
    "{0}/productSubscriptions/(?P<subscription_arn>.+)$": SecurityHubResponse.dispatch,
}
# Fields a finding provider cannot change on an existing finding with BatchImportFindings.
CUSTOMER_FIELDS = ("Note", "UserDefinedFields", "VerificationState", "Workflow")
# Workflow statuses Security Hub sets back to NEW when a finding fails again or is reactivated.
REOPENED = ("NOTIFIED", "RESOLVED")
STRING_FILTERS = {
    "Id": ("Id",),
    "ProductArn": ("ProductArn",),
    "ProductName": ("ProductName",),
    "GeneratorId": ("GeneratorId",),
    "AwsAccountId": ("AwsAccountId",),
    "RecordState": ("RecordState",),
    "ComplianceStatus": ("Compliance", "Status"),
    "WorkflowStatus": ("Workflow", "Status"),
}
PAGE_DEFAULT = 100
NOTE_MAX = 512
COMPLIANCE_OF = {
    "COMPLIANT": "PASSED",
    "NON_COMPLIANT": "FAILED",
    "NOT_APPLICABLE": "NOT_AVAILABLE",
    "INSUFFICIENT_DATA": "WARNING",
}


class InvalidAccess(SecurityHubClientError):
    def __init__(self) -> None:
        super().__init__("InvalidAccessException", "Account is not subscribed to AWS Security Hub")


class InvalidInput(SecurityHubClientError):
    def __init__(self, message: str) -> None:
        super().__init__("InvalidInputException", message)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _partition(region: str) -> str:
    return "aws-cn" if region.startswith("cn-") else "aws-us-gov" if "gov" in region else "aws"


def config_product_arn(region: str) -> str:
    return f"arn:{_partition(region)}:securityhub:{region}::product/aws/config"


def _subscriptions(backend: SecurityHubBackend) -> dict[str, str]:
    """Product ARN -> subscription ARN. AWS services' integrations are on once Security Hub is
    enabled (AWS Config's among them), until someone turns one off."""
    if "product_subscriptions" not in backend.__dict__:
        prefix = f"arn:{_partition(backend.region_name)}:securityhub:{backend.region_name}:"
        backend.__dict__["product_subscriptions"] = {
            config_product_arn(backend.region_name): (
                f"{prefix}{backend.account_id}:product-subscription/aws/config"
            )
        }
    subscriptions: dict[str, str] = backend.__dict__["product_subscriptions"]
    return subscriptions


def _enabled(backend: SecurityHubBackend) -> None:
    if not backend.enabled:
        raise InvalidAccess()


def _field(finding: Mapping[str, Any], path: tuple[str, ...]) -> Any:
    value: Any = finding
    for part in path:
        value = value.get(part) if isinstance(value, Mapping) else None
    return value


def _string_matches(value: Any, condition: Mapping[str, Any]) -> bool:
    text, wanted = str(value or ""), str(condition.get("Value", ""))
    comparison = condition.get("Comparison", "EQUALS")
    if comparison == "EQUALS":
        return text == wanted
    if comparison == "NOT_EQUALS":
        return text != wanted
    if comparison == "PREFIX":
        return text.startswith(wanted)
    if comparison == "CONTAINS":
        return wanted in text
    raise InvalidInput(f"the emulator does not evaluate the comparison {comparison}")


def _any_of(values: list[Any], conditions: list[Mapping[str, Any]]) -> bool:
    """Security Hub ORs the conditions of one filter whose comparisons are positive."""
    return any(_string_matches(value, c) for value in values for c in conditions)


def matches(finding: Mapping[str, Any], filters: Mapping[str, Any]) -> bool:
    """Whether a finding passes GetFindings filters; a filter the emulator cannot evaluate is
    refused rather than ignored, so a test never passes on a filter nobody applied."""
    for name, conditions in (filters or {}).items():
        if name in STRING_FILTERS:
            values = [_field(finding, STRING_FILTERS[name])]
        elif name == "ResourceId":
            values = [r.get("Id") for r in finding.get("Resources") or []]
        elif name == "ProductFields":
            fields = finding.get("ProductFields") or {}
            if not all(_string_matches(fields.get(c.get("Key")), c) for c in conditions):
                return False
            continue
        else:
            raise InvalidInput(f"the emulator does not evaluate the filter {name}")
        if not _any_of(values, conditions):
            return False
    return True


def _get_findings(
    self: SecurityHubBackend,
    filters: dict[str, Any] | None = None,
    sort_criteria: list[dict[str, str]] | None = None,
    max_results: int | None = None,
    next_token: str | None = None,
) -> tuple[list[dict[str, Any]], str | None]:
    _enabled(self)
    limit = int(max_results or PAGE_DEFAULT)
    if not 1 <= limit <= 100:
        raise InvalidInput("MaxResults must be a number between 1 and 100")
    found = [f.as_dict() for f in self.findings if matches(f.as_dict(), filters or {})]
    start = int(next_token or 0)
    page = found[start : start + limit]
    return page, (str(start + limit) if start + limit < len(found) else None)


def _lifecycle(old: Mapping[str, Any], new: dict[str, Any]) -> None:
    """Security Hub's own workflow rules: a passed finding is resolved; one that fails again or
    is reactivated goes back to NEW from NOTIFIED or RESOLVED; SUPPRESSED stays."""
    status = (new.get("Workflow") or {}).get("Status", "NEW")
    old_compliance = _field(old, ("Compliance", "Status"))
    compliance = _field(new, ("Compliance", "Status"))
    if compliance == "PASSED" and status != "SUPPRESSED":
        status = "RESOLVED"
    elif status in REOPENED and (
        (old_compliance == "PASSED" and compliance in ("FAILED", "WARNING", "NOT_AVAILABLE"))
        or (old.get("RecordState") == "ARCHIVED" and new.get("RecordState") == "ACTIVE")
    ):
        status = "NEW"
    new["Workflow"] = {"Status": status}


def _store(backend: SecurityHubBackend, data: dict[str, Any]) -> None:
    """Create the finding, or update it when this import is not older than what is stored."""
    existing = next((f for f in backend.findings if f.id == data["Id"]), None)
    if existing is None:
        finding = {"RecordState": "ACTIVE", **data}
        _lifecycle({}, finding)
        backend.findings.append(Finding(data["Id"], finding))
        return
    if str(data.get("UpdatedAt", "")) < str(existing.data.get("UpdatedAt", "")):
        return  # Security Hub ignores an update older than the finding
    merged = {k: v for k, v in data.items() if k not in CUSTOMER_FIELDS}
    for name in CUSTOMER_FIELDS:
        if name in existing.data:
            merged[name] = existing.data[name]
    _lifecycle(existing.data, merged)
    existing.data.clear()
    existing.data.update(merged)


def _batch_import_findings(
    self: SecurityHubBackend, findings: list[dict[str, Any]]
) -> tuple[int, int, list[dict[str, Any]]]:
    failed: list[dict[str, Any]] = []
    own_product = (
        f"arn:{_partition(self.region_name)}:securityhub:{self.region_name}:{self.account_id}:"
        f"product/{self.account_id}/default"
    )
    for data in findings:
        problem = None
        if not self.enabled:
            problem = ("InvalidAccess", "Security Hub is not enabled")
        elif data.get("ProductArn") != own_product or data.get("AwsAccountId") != self.account_id:
            problem = ("InvalidAccess", "only this account's default product may import")
        elif not data.get("Resources"):
            problem = ("InvalidInput", "Finding must contain at least one resource")
        if problem is not None:
            code, message = problem
            failed.append({"Id": data.get("Id", ""), "ErrorCode": code, "ErrorMessage": message})
            continue
        _store(self, dict(data))
    return len(failed), len(findings) - len(failed), failed


def _batch_update_findings(response: SecurityHubResponse) -> str:
    backend = response.securityhub_backend
    _enabled(backend)
    body = json.loads(response.body or "{}")
    identifiers = body.get("FindingIdentifiers") or []
    if not 1 <= len(identifiers) <= 100:
        raise InvalidInput("FindingIdentifiers must hold 1 to 100 findings")
    note = body.get("Note")
    valid_note = note is None or (
        1 <= len(note.get("Text", "")) <= NOTE_MAX and note.get("UpdatedBy")
    )
    if not valid_note:
        raise InvalidInput(f"Note needs Text of 1 to {NOTE_MAX} characters and UpdatedBy")
    processed, unprocessed = [], []
    for identifier in identifiers:
        finding = next(
            (
                f
                for f in backend.findings
                if f.id == identifier.get("Id")
                and f.data.get("ProductArn") == identifier.get("ProductArn")
            ),
            None,
        )
        if finding is None:
            unprocessed.append(
                {
                    "FindingIdentifier": identifier,
                    "ErrorCode": "FindingNotFound",
                    "ErrorMessage": "no such finding",
                }
            )
            continue
        if note is not None:
            finding.data["Note"] = {**note, "UpdatedAt": _now()}
        if body.get("Workflow"):
            finding.data["Workflow"] = {"Status": body["Workflow"]["Status"]}
        processed.append(identifier)
    return json.dumps({"ProcessedFindings": processed, "UnprocessedFindings": unprocessed})


def _product_subscriptions(response: SecurityHubResponse) -> str:
    """GET lists, POST enables (EnableImportFindingsForProduct)."""
    backend = response.securityhub_backend
    _enabled(backend)
    subscriptions = _subscriptions(backend)
    if response.method == "POST":
        product = json.loads(response.body or "{}").get("ProductArn", "")
        owner_and_name = product.split(":product/", 1)[-1]
        arn = (
            f"arn:{_partition(backend.region_name)}:securityhub:{backend.region_name}:"
            f"{backend.account_id}:product-subscription/{owner_and_name}"
        )
        subscriptions[product] = arn
        return json.dumps({"ProductSubscriptionArn": arn})
    return json.dumps({"ProductSubscriptions": sorted(subscriptions.values())})


def _disable_import_findings_for_product(response: SecurityHubResponse) -> str:
    backend = response.securityhub_backend
    _enabled(backend)
    arn = unquote(response.path.split("/productSubscriptions/", 1)[-1])
    subscriptions = _subscriptions(backend)
    products = [product for product, subscription in subscriptions.items() if subscription == arn]
    if not products:
        raise SecurityHubClientError("ResourceNotFoundException", f"no subscription {arn}")
    for product in products:
        del subscriptions[product]
    return "{}"


@contextmanager
def security_hub_additions() -> Iterator[None]:
    with ExitStack() as stack:
        stack.enter_context(mock.patch.dict(securityhub_urls.url_paths, EXTRA_PATHS))
        stack.enter_context(mock.patch.object(SecurityHubBackend, "get_findings", _get_findings))
        stack.enter_context(
            mock.patch.object(SecurityHubBackend, "batch_import_findings", _batch_import_findings)
        )
        for name, method in (
            ("batch_update_findings", _batch_update_findings),
            ("list_enabled_products_for_import", _product_subscriptions),
            ("enable_import_findings_for_product", _product_subscriptions),
            ("disable_import_findings_for_product", _disable_import_findings_for_product),
        ):
            stack.enter_context(mock.patch.object(SecurityHubResponse, name, method, create=True))
        yield


def _resource_arn(partition: str, region: str, account: str, kind: str, resource_id: str) -> str:
    """What Security Hub names the resource: its ARN where it is derived from the id alone (an
    S3 bucket), otherwise an ARN of the same shape the emulator makes up."""
    if kind == "AWS::S3::Bucket":
        return f"arn:{partition}:s3:::{resource_id}"
    _, service, name = kind.split("::")
    return f"arn:{partition}:{service.lower()}:{region}:{account}:{name.lower()}/{resource_id}"


def send_config_evaluation(
    account: str,
    region: str,
    rule_name: str,
    resource_type: str,
    resource_id: str,
    compliance_type: str,
    recorded_at: str,
    rule_arn: str | None = None,
    resource_arn: str | None = None,
    details: dict[str, Any] | None = None,
) -> dict[str, Any] | None:
    """The finding AWS Config's integration makes of one evaluation (ASFF as docs/aws-facts.md
    shows it), stored or updated; None where Security Hub or the integration is off.
    `resource_arn` and `details` stand for what Security Hub takes from the configuration item
    (an RDS instance's ARN names it by identifier, its details hold the `db-...` resource id)."""
    backend = securityhub_backends[account][region]
    if not backend.enabled or config_product_arn(region) not in _subscriptions(backend):
        return None
    partition = _partition(region)
    rule_arn = rule_arn or f"arn:{partition}:config:{region}:{account}:config-rule/{rule_name}"
    digest = hashlib.sha256(f"{resource_type}/{resource_id}".encode()).hexdigest()[:40]
    finding = {
        "SchemaVersion": "2018-10-08",
        "Id": f"{rule_arn}/finding/{digest}",
        "ProductArn": config_product_arn(region),
        "ProductName": "Config",
        "CompanyName": "AWS",
        "Region": region,
        "GeneratorId": rule_arn,
        "AwsAccountId": account,
        "Types": ["Software and Configuration Checks"],
        "CreatedAt": recorded_at,
        "UpdatedAt": recorded_at,
        "Severity": {"Label": "MEDIUM", "Normalized": 40},
        "Title": rule_name,
        "Description": "This finding is created for a resource compliance change for config "
        f"rule: {rule_name}",
        "ProductFields": {
            "aws/config/ConfigRuleArn": rule_arn,
            "aws/config/ConfigRuleName": rule_name,
            "aws/config/ConfigComplianceType": compliance_type,
        },
        "Resources": [
            {
                "Type": "Other",
                "Id": resource_arn
                or _resource_arn(partition, region, account, resource_type, resource_id),
                "Partition": partition,
                "Region": region,
                **({"Details": details} if details else {}),
            }
        ],
        "Compliance": {"Status": COMPLIANCE_OF[compliance_type]},
        "RecordState": "ACTIVE",
    }
    _store(backend, finding)
    return next(f.data for f in backend.findings if f.id == finding["Id"])
