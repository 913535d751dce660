"""Summary documents of the shared contract (summary.json as the reporting function writes it)
and non-compliant table rows, built directly so the page and chart tests need no AWS at all."""

from __future__ import annotations

from typing import Any

import tally

RUN = "2026-12-02T060000Z"
PREVIOUS = "2026-12-01T060000Z"
HOSTILE = '<script>alert("x")</script>&"\'<img src=x onerror=alert(1)>'


def score(compliant: int, non_compliant: int) -> float | None:
    total = compliant + non_compliant
    return round(100 * compliant / total, 2) if total else None


def rule(
    name: str,
    compliant: int,
    non_compliant: int,
    *,
    exempt: int = 0,
    previous: int | None = None,
    found: bool = True,
    description: str = "Checks the resource.",
) -> dict[str, Any]:
    identifier = name.upper().replace("-", "_")
    return {
        "ruleName": name,
        "ruleIdentifier": identifier,
        "description": description,
        "found": found,
        "compliant": compliant,
        "nonCompliant": non_compliant,
        "exempt": exempt,
        "evaluated": compliant + non_compliant,
        "score": score(compliant, non_compliant),
        "previousNonCompliant": previous,
        "runbook": f"docs/runbooks/{identifier}.md",
        "byAccountRegion": [],
    }


def point(day: int, compliant: int, non_compliant: int, exempt: int = 0) -> dict[str, Any]:
    run = f"2026-11-{day:02d}T060000Z" if day <= 30 else f"2026-12-{day - 30:02d}T060000Z"
    return {
        "runId": run,
        "generatedAt": run[:10] + "T06:00:05Z",
        "compliant": compliant,
        "nonCompliant": non_compliant,
        "exempt": exempt,
        "score": score(compliant, non_compliant),
    }


def sample(index: int, age: int, fixed: bool = False) -> dict[str, Any]:
    return {
        "ruleName": "compliance-encrypted-volumes",
        "ruleIdentifier": "ENCRYPTED_VOLUMES",
        "account": "123456789012",
        "region": "eu-west-1",
        "resourceType": "AWS::EC2::Volume",
        "resourceId": f"vol-{index:017x}",
        "firstSeen": "2026-10-01T06:00:00Z",
        "ageDays": age,
        "fixedAt": "2026-12-02T06:00:00Z" if fixed else None,
    }


def changes(
    new: int = 2, fixed: int = 1, regressed: int = 1, still_open: int = 3, baseline: bool = False
) -> dict[str, Any]:
    if baseline:
        new = fixed = regressed = 0
    return {
        "previousRunId": None if baseline else PREVIOUS,
        "new": new,
        "fixed": fixed,
        "regressed": regressed,
        "stillOpen": still_open,
        "openByAge": {"0-6": new + regressed, "7-29": 0, "30-89": still_open, "90+": 0},
        "samples": {
            "new": [sample(i, 0) for i in range(min(new, 100))],
            "regressed": [sample(1000 + i, 0) for i in range(min(regressed, 100))],
            "fixed": [sample(2000 + i, 61, fixed=True) for i in range(min(fixed, 100))],
            "stillOpen": [sample(3000 + i, 62 - i) for i in range(min(still_open, 100))],
        },
    }


def document(
    rules: list[dict[str, Any]] | None = None,
    *,
    scope: dict[str, str] | None = None,
    trend: list[dict[str, Any]] | None = None,
    frameworks: list[dict[str, Any]] | None = None,
    accounts: list[dict[str, Any]] | None = None,
    what_changed: dict[str, Any] | None = None,
    previous_score: float | None = 40.0,
    exemptions: list[dict[str, Any]] | None = None,
    expiring: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """A small account's report unless told otherwise."""
    rules = rules if rules is not None else small_rules()
    compliant = sum(r["compliant"] for r in rules)
    non_compliant = sum(r["nonCompliant"] for r in rules)
    current = score(compliant, non_compliant)
    points = trend if trend is not None else [point(29, 3, 4), point(30, 4, 4)]
    points[-1] = {**points[-1], "runId": RUN, "compliant": compliant}
    points[-1].update(nonCompliant=non_compliant, score=current)
    known = current is not None and previous_score is not None
    change = round(current - previous_score, 2) if known else None  # type: ignore[operator]
    return {
        "schemaVersion": 1,
        "kind": "compliance-report",
        "runId": RUN,
        "generatedAt": "2026-12-02T06:00:07Z",
        "scope": scope or {"account": "123456789012", "region": "eu-west-1"},
        "totals": {
            "compliant": compliant,
            "nonCompliant": non_compliant,
            "exempt": sum(r["exempt"] for r in rules),
            "evaluated": compliant + non_compliant,
            "rules": len(rules),
            "rulesNotFound": sum(1 for r in rules if not r["found"]),
            "rulesWithNonCompliant": sum(1 for r in rules if r["nonCompliant"]),
            "score": current,
            "previousScore": previous_score,
            "scoreChange": change,
        },
        "rules": rules,
        "frameworks": frameworks or [],
        "accounts": accounts
        if accounts is not None
        else [
            {
                "account": "123456789012",
                "region": "eu-west-1",
                "compliant": compliant,
                "nonCompliant": non_compliant,
                "exempt": 0,
                "score": current,
            }
        ],
        "exemptions": exemptions or [],
        "expiringSoon": expiring or [],
        "changes": what_changed if what_changed is not None else changes(),
        "trend": points,
        "artifacts": {
            "summary": f"s3://b/reports/{RUN}/summary.json",
            "details": f"s3://b/reports/{RUN}/details.csv",
            "report": f"s3://b/reports/{RUN}/report.html",
        },
    }


def small_rules() -> list[dict[str, Any]]:
    return [
        rule("compliance-encrypted-volumes", 3, 2, previous=1),
        rule("compliance-s3-bucket-versioning-enabled", 1, 3, previous=3),
        rule("compliance-desired-instance-type", 0, 0, found=False),
    ]


def aggregator(accounts: int = 50, regions: int = 4) -> dict[str, Any]:
    names = ("us-east-1", "eu-west-1", "ap-southeast-2", "sa-east-1", "eu-central-1")[:regions]
    scopes = [
        {
            "account": f"{100000000000 + a:012d}",
            "region": region,
            "compliant": 10 + a,
            "nonCompliant": a % 7,
            "exempt": a % 3,
            "score": score(10 + a, a % 7),
        }
        for a in range(accounts)
        for region in names
    ]
    return document(scope={"aggregator": "org-aggregator"}, accounts=scopes)


def framework_rules(count: int = 130) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """``count`` rules and one framework over them, its controls of five rules each."""
    rules = [
        rule(f"compliance-rule-{i:03d}", 20 + i, i % 5, previous=(i % 5) - (i % 3))
        for i in range(count)
    ]
    results = [
        {
            "ruleName": r["ruleName"],
            "ruleIdentifier": r["ruleIdentifier"],
            "status": "non-compliant" if r["nonCompliant"] else "compliant",
            "manual": False,
            "compliant": r["compliant"],
            "nonCompliant": r["nonCompliant"],
            "exempt": 0,
        }
        for r in rules
    ]
    compliant = sum(r["compliant"] for r in rules)
    non_compliant = sum(r["nonCompliant"] for r in rules)
    framework = {
        "framework": "cis-aws-3.0",
        "title": "CIS AWS Foundations Benchmark 3.0",
        "score": score(compliant, non_compliant),
        "previousScore": 90.0,
        "rules": count,
        "rulesDeployed": count,
        "compliant": compliant,
        "nonCompliant": non_compliant,
        "exempt": 0,
        "nonCompliantRules": [r["ruleName"] for r in results if r["nonCompliant"]],
        "manualRules": [],
        "ruleResults": results,
        "controls": [
            {
                "control": f"{c + 1}.1",
                "title": f"Ensure group {c + 1}",
                "status": "non-compliant",
                "rules": [r["ruleName"] for r in results[c * 5 : c * 5 + 5]],
            }
            for c in range((count + 4) // 5)
        ],
    }
    return rules, framework


def exemption(ident: str, expires: str, days_left: int, status: str = "active") -> dict[str, Any]:
    return {
        "id": ident,
        "reason": f"Legacy volumes {HOSTILE}",
        "owner": "team-storage@example.com",
        "expires": expires,
        "rules": ["ENCRYPTED_VOLUMES"],
        "resources": ["vol-0abc*"],
        "resourceType": "AWS::EC2::Volume",
        "accounts": [],
        "regions": [],
        "status": status,
        "daysLeft": days_left,
        "matched": 4,
    }


def with_exemptions() -> dict[str, Any]:
    soon = exemption("build-volumes", "2026-12-10", 8)
    later = exemption("archive-volumes", "2027-06-30", 210)
    return document(exemptions=[soon, later], expiring=[soon])


def trend_points(count: int = 30, peak: int = 76_188) -> list[dict[str, Any]]:
    """``count`` daily runs ending on RUN's day, the compliant count peaking at ``peak`` midway."""
    days = range(33 - count, 33)
    points = [point(d, 50_000 + 800 * d, 9_000 - 200 * d, 10 * d) for d in days]
    middle = count // 2
    points[middle] = {**points[middle], "compliant": peak, "nonCompliant": 6_000}
    points[middle]["score"] = score(peak, 6_000)
    return points


def rows(count: int = 1000) -> list[tuple[str, ...]]:
    """Sorted table rows in CSV_COLUMNS order: long ids, long annotations, HTML metacharacters."""
    out = []
    for i in range(count):
        values = {
            "ruleName": f"compliance-rule-{i % 4}",
            "ruleIdentifier": f"RULE_{i % 4}",
            "account": f"{100000000000 + i % 50:012d}",
            "region": ("us-east-1", "eu-west-1", "ap-southeast-2", "sa-east-1")[i % 4],
            "resourceType": "AWS::S3::Bucket" if i % 2 else "AWS::EC2::Volume",
            "resourceId": f"arn:aws:s3:::bucket-{i:04d}-" + "x" * 180 + (HOSTILE if i == 7 else ""),
            "complianceType": "NON_COMPLIANT",
            "annotation": ("The resource is not encrypted " * 8) + (HOSTILE if i == 3 else ""),
            "resultRecordedTime": f"2026-12-01T{i % 24:02d}:00:00Z",
            "frameworks": "cis-aws-3.0",
            "exemption": "",
        }
        out.append(tuple(values[column] for column in tally.CSV_COLUMNS))
    return sorted(out)
