"""The facts of AWS-owned remediation runbooks (generator/data/remediations.json) hold together.

The checker is deliberately written here, apart from the generator's loader
(generator/ssm_documents.py), so a loader bug cannot hide a data bug and the other way round.
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest

DATA = Path(__file__).resolve().parents[1] / "src/compliance_template/generator/data"
REMEDIATIONS = json.loads((DATA / "remediations.json").read_text())
CATALOG_RULES = json.loads((DATA / "managed_rules.json").read_text())["rules"]

PARAMETER_TYPES = {"String", "StringList", "Boolean", "Integer", "MapList", "StringMap"}
RUNBOOK_PAGE = "https://docs.aws.amazon.com/systems-manager-automation-runbooks/latest/userguide/"
DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
ACTION = re.compile(r"^[a-z0-9-]+:[A-Za-z0-9]+$")
# Config names the account itself AWS::::Account; catalog rules about the account list either
# that or no resource type at all, and their remediation must say AWS::::Account.
ACCOUNT = "AWS::::Account"
FILLS = {"resourceId", "static", "stackParameter"}


def _document_problems(name: str, document: dict[str, Any]) -> list[str]:
    problems = []
    if not name.startswith(("AWS-", "AWSConfigRemediation-")):
        problems.append(f"{name}: not an AWS-owned document name")
    if not str(document.get("url", "")).startswith(RUNBOOK_PAGE):
        problems.append(f"{name}: url is not a runbook reference page")
    if not DAY.match(str(document.get("readOn", ""))):
        problems.append(f"{name}: readOn is not a date")
    if not document.get("effect"):
        problems.append(f"{name}: effect is empty")
    if not document.get("family"):
        problems.append(f"{name}: family is empty")
    if not isinstance(document.get("disruptive"), bool):
        problems.append(f"{name}: disruptive is not true or false")
    elif document["disruptive"] != bool(document.get("disruption")):
        problems.append(f"{name}: a disruptive document needs a disruption text, and only it")
    permissions = document.get("permissions") or []
    if not permissions or not all(ACTION.match(str(p)) for p in permissions):
        problems.append(f"{name}: permissions empty or not IAM actions")
    parameters = document.get("parameters") or {}
    if document.get("assumeRoleParameter") not in parameters:
        problems.append(f"{name}: the assume role parameter is not a parameter of the document")
    for parameter, spec in parameters.items():
        if spec.get("type") not in PARAMETER_TYPES or not isinstance(spec.get("required"), bool):
            problems.append(f"{name}.{parameter}: type or required missing")
        allowed = spec.get("allowed")
        if allowed is not None and "default" in spec and spec["default"] not in allowed:
            problems.append(f"{name}.{parameter}: default is not an allowed value")
    return problems


def _fill_problems(where: str, spec: dict[str, Any], fill: Any) -> list[str]:
    if not isinstance(fill, dict) or len(fill) != 1 or set(fill) - FILLS:
        return [f"{where}: a fill is exactly one of {sorted(FILLS)}"]
    kind, value = next(iter(fill.items()))
    if kind == "resourceId" and value is not True:
        return [f"{where}: resourceId must be true"]
    if kind == "static":
        if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
            return [f"{where}: static values are a non-empty list of strings"]
        allowed = spec.get("allowed")
        if allowed and any(v not in allowed for v in value):
            return [f"{where}: static value not among {allowed}"]
    if kind == "stackParameter" and not (isinstance(value, str) and value.isalnum()):
        return [f"{where}: stackParameter names a CloudFormation parameter"]
    return []


def _rule_problems(identifier: str, rule: dict[str, Any], documents: dict[str, Any]) -> list[str]:
    if identifier not in CATALOG_RULES:
        return [f"{identifier}: not a catalog identifier"]
    document = documents.get(rule.get("document"))
    if document is None:
        return [f"{identifier}: document {rule.get('document')!r} is not in documents"]
    problems = []
    catalog_types = CATALOG_RULES[identifier]["resourceTypes"]
    account_level = not catalog_types or catalog_types == [ACCOUNT]
    expected = [ACCOUNT] if account_level else catalog_types
    if rule.get("resourceType") not in expected:
        problems.append(
            f"{identifier}: resourceType {rule.get('resourceType')!r} not in {expected}"
        )
    parameters = document["parameters"]
    fills = rule.get("parameters", {})
    assume_role = document["assumeRoleParameter"]
    if assume_role in fills:
        problems.append(f"{identifier}: the assume role is filled by the generator, not here")
    for name, fill in fills.items():
        if name not in parameters:
            problems.append(f"{identifier}: {name} is not a parameter of {rule['document']}")
        else:
            problems += _fill_problems(f"{identifier}.{name}", parameters[name], fill)
    for name, spec in parameters.items():
        if spec.get("required") and name != assume_role and name not in fills:
            problems.append(f"{identifier}: required parameter {name} is not filled")
    resource_ids = [n for n, f in fills.items() if isinstance(f, dict) and "resourceId" in f]
    if len(resource_ids) > 1:
        problems.append(f"{identifier}: RESOURCE_ID fills {resource_ids}; at most one")
    return problems


def problems_in(data: dict[str, Any]) -> list[str]:
    """Every way the data file breaks its schema or disagrees with the catalog."""
    problems = []
    if not DAY.match(str(data.get("about", {}).get("readOn", ""))):
        problems.append("about.readOn is not a date")
    documents = data.get("documents", {})
    rules = data.get("rules", {})
    for key in ("documents", "rules"):
        if list(data.get(key, {})) != sorted(data.get(key, {})):
            problems.append(f"{key} are not sorted by name")
    for name, document in documents.items():
        problems += _document_problems(name, document)
    for identifier, rule in rules.items():
        problems += _rule_problems(identifier, rule, documents)
    return problems


def test_the_data_file_is_consistent_with_its_schema_and_the_catalog() -> None:
    assert problems_in(REMEDIATIONS) == []


def test_every_document_is_used_by_a_rule() -> None:
    used = {rule["document"] for rule in REMEDIATIONS["rules"].values()}
    assert sorted(set(REMEDIATIONS["documents"]) - used) == []


def test_rds_instance_documents_take_the_resource_id_config_passes() -> None:
    # Config's resource id of AWS::RDS::DBInstance is the DbiResourceId (db-...), which is
    # why every RDS instance runbook takes a resource identifier, never the instance name.
    for identifier, rule in REMEDIATIONS["rules"].items():
        if rule["resourceType"] == "AWS::RDS::DBInstance":
            (filled,) = [n for n, f in rule["parameters"].items() if "resourceId" in f]
            assert filled in {"DbiResourceId", "DbInstanceResourceId"}, identifier


def _broken(change: Any) -> dict[str, Any]:
    data = copy.deepcopy(REMEDIATIONS)
    change(data)
    return data


def _rule(
    data: dict[str, Any], identifier: str = "S3_BUCKET_SERVER_SIDE_ENCRYPTION_ENABLED"
) -> Any:
    return data["rules"][identifier]


def _document(data: dict[str, Any], name: str = "AWS-EnableS3BucketEncryption") -> Any:
    return data["documents"][name]


BROKEN = {
    "unknown identifier": lambda d: d["rules"].update({"NOT_A_RULE": _rule(d)}),
    "unknown document": lambda d: _rule(d).update({"document": "AWS-Nothing"}),
    "required parameter unfilled": lambda d: _rule(d)["parameters"].pop("BucketName"),
    "fill of no parameter": lambda d: _rule(d)["parameters"].update(
        {"Bucket": {"resourceId": True}}
    ),
    "static value not a list": lambda d: _rule(d)["parameters"].update(
        {"SSEAlgorithm": {"static": "AES256"}}
    ),
    "static value not strings": lambda d: _rule(d)["parameters"].update(
        {"SSEAlgorithm": {"static": [1]}}
    ),
    "resource id twice": lambda d: _rule(d)["parameters"].update(
        {"SSEAlgorithm": {"resourceId": True}}
    ),
    "two fills at once": lambda d: _rule(d)["parameters"].update(
        {"SSEAlgorithm": {"static": ["AES256"], "stackParameter": "X"}}
    ),
    "assume role filled": lambda d: _rule(d)["parameters"].update(
        {"AutomationAssumeRole": {"static": ["r"]}}
    ),
    "wrong resource type": lambda d: _rule(d).update({"resourceType": "AWS::EC2::Instance"}),
    "account rule with a resource type": lambda d: _rule(d, "EC2_EBS_ENCRYPTION_BY_DEFAULT").update(
        {"resourceType": "AWS::EC2::Volume"}
    ),
    "no url": lambda d: _document(d).pop("url"),
    "no readOn": lambda d: _document(d).update({"readOn": "soon"}),
    "no permissions": lambda d: _document(d).update({"permissions": []}),
    "no family": lambda d: _document(d).update({"family": ""}),
    "disruptive without reason": lambda d: _document(d).update({"disruptive": True}),
    "reason without disruptive": lambda d: _document(
        d, "AWS-DisableS3BucketPublicReadWrite"
    ).update({"disruptive": False}),
    "bad parameter type": lambda d: _document(d)["parameters"]["BucketName"].update(
        {"type": "Text"}
    ),
    "unsorted rules": lambda d: d.update({"rules": dict(reversed(list(d["rules"].items())))}),
}


@pytest.mark.parametrize("breakage", sorted(BROKEN))
def test_the_checker_rejects_a_broken_entry(breakage: str) -> None:
    assert problems_in(_broken(BROKEN[breakage])) != []
