#!/usr/bin/env python3
"""Security scanners over generated CloudFormation templates; exits 1 on any finding.

    .venv/bin/python scripts/scan.py templates/*.json
    .venv/bin/python scripts/scan.py --markdown templates/*.json   # figures for docs/security.md

Two scanners run over every template given:

- checkov, CloudFormation checks, in process. It runs offline: checkov's command line fetches
  guideline mappings from its vendor's API unless told not to (`--skip-download`), while the
  runner used here never contacts it. `BC_SKIP_MAPPING` is set as well, for any code path that
  consults it.
- parliament, an IAM policy linter, over every policy document of the template: role trust and
  inline policies, AWS::IAM::Policy and ManagedPolicy documents, the KMS key policy, and bucket,
  topic and queue policies. Parliament reads plain JSON, so CloudFormation intrinsics are first
  resolved to example values (`Resolver`). Its community auditors (privilege escalation,
  credentials exposure, permissions management) judge what a principal may do, which is the
  question for identity policies only; resource and trust policies get the structural ones.

Checks we skip carry their reason in the resource's Metadata: `checkov.skip` (read by checkov)
and `parliament.skip` (read here), both written by
`compliance_template.generator.suppressions`. A skip without a reason, or one that matches
nothing, is reported as a failure too.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import warnings
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import import_module
from pathlib import Path
from typing import Any

from compliance_template.intrinsics import NO_VALUE, Evaluator, NotEvaluable

# Example values the intrinsics resolve to. Any well-formed values serve: the linter checks the
# shape of ARNs and their fit to the actions, not which account they name.
PARTITION = "aws"
REGION = "us-east-1"
ACCOUNT = "123456789012"
PSEUDO_PARAMETERS = {
    "AWS::Partition": PARTITION,
    "AWS::Region": REGION,
    "AWS::AccountId": ACCOUNT,
    "AWS::URLSuffix": "amazonaws.com",
    "AWS::StackName": "compliance-monitoring",
    "AWS::StackId": f"arn:{PARTITION}:cloudformation:{REGION}:{ACCOUNT}:stack/"
    "compliance-monitoring/00000000-0000-0000-0000-000000000000",
}
_REGIONAL = f"arn:{PARTITION}:{{service}}:{REGION}:{ACCOUNT}:"
# Fn::GetAtt results by (resource type, attribute), formatted with the logical id. A policy that
# names another attribute stops the scan with an error: add it here rather than guess.
ATTRIBUTES: Mapping[tuple[str, str], str] = {
    ("AWS::IAM::Role", "Arn"): f"arn:{PARTITION}:iam::{ACCOUNT}:role/{{name}}",
    ("AWS::IAM::User", "Arn"): f"arn:{PARTITION}:iam::{ACCOUNT}:user/{{name}}",
    ("AWS::S3::Bucket", "Arn"): f"arn:{PARTITION}:s3:::{{name}}",
    ("AWS::KMS::Key", "Arn"): _REGIONAL.format(service="kms") + "key/{name}",
    ("AWS::SQS::Queue", "Arn"): _REGIONAL.format(service="sqs") + "{name}",
    ("AWS::SNS::Topic", "TopicArn"): _REGIONAL.format(service="sns") + "{name}",
    ("AWS::Logs::LogGroup", "Arn"): _REGIONAL.format(service="logs") + "log-group:{name}:*",
    ("AWS::Lambda::Function", "Arn"): _REGIONAL.format(service="lambda") + "function:{name}",
    ("AWS::Events::Rule", "Arn"): _REGIONAL.format(service="events") + "rule/{name}",
    ("AWS::Config::ConfigRule", "Arn"): _REGIONAL.format(service="config")
    + "config-rule/config-rule-{name}",
    ("AWS::Config::ConfigurationAggregator", "ConfigurationAggregatorArn"): _REGIONAL.format(
        service="config"
    )
    + "config-aggregator/config-aggregator-{name}",
}
# Ref returns an ARN for these types, a URL for queues, and a name or id for the others.
REF_VALUES: Mapping[str, str] = {
    "AWS::SNS::Topic": ATTRIBUTES[("AWS::SNS::Topic", "TopicArn")],
    "AWS::IAM::ManagedPolicy": f"arn:{PARTITION}:iam::{ACCOUNT}:policy/{{name}}",
    "AWS::SQS::Queue": f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/{{name}}",
}
# Parameters a deployer must give (no Default) that a policy may use.
PARAMETER_EXAMPLES: Mapping[str, str] = {
    "OrganizationId": "o-a1b2c3d4e5",
    "CentralBucketName": "central-compliance-reports",
    "CentralTopicArn": _REGIONAL.format(service="sns") + "central-compliance-notifications",
    "CentralKeyArn": _REGIONAL.format(service="kms") + "key/central-compliance-key",
}
# Where a resource's policy documents are, and whose they are.
IDENTITY, RESOURCE, TRUST = "identity", "resource", "trust"
RESOURCE_POLICIES: Mapping[str, str] = {
    "AWS::KMS::Key": "KeyPolicy",
    "AWS::S3::BucketPolicy": "PolicyDocument",
    "AWS::SNS::TopicPolicy": "PolicyDocument",
    "AWS::SQS::QueuePolicy": "PolicyDocument",
}
IDENTITY_POLICIES = ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy")
INLINE_POLICIES = ("AWS::IAM::Role", "AWS::IAM::User", "AWS::IAM::Group")
# Auditors that judge what a principal may do (identity policies) and those about structure.
CAPABILITY_AUDITORS = (
    "credentials_exposure",
    "permissions_management",
    "privilege_escalation",
    "sensitive_access",
)
STRUCTURE_AUDITORS = ("advanced_policy_elements",)
# A skip's reason must say why, not just that: at least this long.
MIN_REASON_LENGTH = 60


class ScanError(Exception):
    """A template the scanners cannot judge: the scan must fail rather than pass it unchecked."""


class _Either(list):
    """Both branches of an Fn::If. A policy is linted with every value either branch can put in
    it: spliced into a list, or as a list of both in a single-value place, which policy grammar
    allows wherever a value may be one or many (Action, Resource, principals, condition values).
    """


class Resolver(Evaluator):
    """Resolves CloudFormation intrinsics in a policy document to plain JSON example values."""

    def __init__(self, template: Mapping[str, Any]) -> None:
        self.resources: Mapping[str, Any] = template.get("Resources", {})
        self.declared: Mapping[str, Any] = template.get("Parameters", {})
        values = {n: PARAMETER_EXAMPLES[n] for n in self.declared if n in PARAMETER_EXAMPLES}
        values.update(
            (name, spec["Default"])
            for name, spec in self.declared.items()
            if spec.get("Default") not in (None, "")
        )
        super().__init__(values, PSEUDO_PARAMETERS, mappings=template.get("Mappings", {}))

    def resolve(self, value: Any) -> Any:
        try:
            return self.evaluate(value)
        except NotEvaluable as error:
            raise ScanError(f"{error}: extend scripts/scan.py") from None

    def resource(self, logical_id: str) -> Any:
        if logical_id in self.resources:
            kind = self.resources[logical_id]["Type"]
            return REF_VALUES.get(kind, "{name}").format(name=logical_id.lower())
        if logical_id in self.declared:
            raise NotEvaluable(
                f"parameter {logical_id} has no Default: add an example value to PARAMETER_EXAMPLES"
            )
        raise NotEvaluable(f"Ref to {logical_id}, which the template does not define")

    def attribute(self, logical_id: str, attribute: str) -> str:
        kind = self.resources.get(logical_id, {}).get("Type")
        form = ATTRIBUTES.get((kind, attribute))
        if form is None:
            raise NotEvaluable(
                f"Fn::GetAtt {logical_id}.{attribute} ({kind}) has no example value: add it to "
                "ATTRIBUTES"
            )
        return form.format(name=logical_id.lower())

    def fn_if(self, condition: str, when_true: Any, when_false: Any) -> Any:
        branches = [self.evaluate(when_true), self.evaluate(when_false)]
        return _Either(b for b in branches if b is not NO_VALUE)

    def evaluate_list(self, values: Sequence[Any]) -> list[Any]:
        out: list[Any] = []
        for item in values:
            resolved = self.evaluate(item)
            if isinstance(resolved, _Either):
                for branch in resolved:
                    out.extend(branch if isinstance(branch, list) else [branch])
            elif resolved is not NO_VALUE:
                out.append(resolved)
        return out

    def evaluate_object(self, value: Mapping[str, Any]) -> dict[str, Any]:
        resolved = {k: self._single(self.evaluate(v)) for k, v in value.items()}
        return {k: v for k, v in resolved.items() if v is not NO_VALUE}

    @staticmethod
    def _single(value: Any) -> Any:
        if not isinstance(value, _Either):
            return value
        flat = [v for branch in value for v in (branch if isinstance(branch, list) else [branch])]
        if not flat:
            return NO_VALUE
        return flat[0] if len(flat) == 1 else flat


@dataclass(frozen=True)
class PolicyDocument:
    resource: str
    resource_type: str
    kind: str  # IDENTITY, RESOURCE or TRUST
    label: str
    document: dict[str, Any]


def _as_object(document: Any) -> Any:
    """Policy properties may hold the document as a JSON string."""
    return json.loads(document) if isinstance(document, str) else document


def policy_documents(template: Mapping[str, Any]) -> Iterator[PolicyDocument]:
    """Every policy document of the template, resolved. Conditional resources are included:
    whatever the stack can create is linted."""
    resolver = Resolver(template)
    for name, resource in template.get("Resources", {}).items():
        kind = resource.get("Type", "")
        props = resource.get("Properties", {})

        def documents(value: Any) -> list[dict[str, Any]]:
            # A whole document inside Fn::If: each branch is a document of its own.
            resolved = resolver.resolve(_as_object(value))
            return list(resolved) if isinstance(resolved, _Either) else [resolved]

        if kind == "AWS::IAM::Role":
            # A trust policy is the role's resource policy: its Resource, left out, is the role.
            role = ATTRIBUTES[(kind, "Arn")].format(name=name.lower())
            for trust in documents(props["AssumeRolePolicyDocument"]):
                for statement in _statements(trust):
                    if "Resource" not in statement and "NotResource" not in statement:
                        statement["Resource"] = role
                yield PolicyDocument(name, kind, TRUST, "trust policy", trust)
        if kind in INLINE_POLICIES:
            for policy in resolver.resolve(props.get("Policies", [])):
                label = f"inline policy {policy.get('PolicyName', '?')}"
                for document in documents(policy["PolicyDocument"]):
                    yield PolicyDocument(name, kind, IDENTITY, label, document)
        elif kind in IDENTITY_POLICIES:
            for document in documents(props["PolicyDocument"]):
                yield PolicyDocument(name, kind, IDENTITY, "policy", document)
        elif kind in RESOURCE_POLICIES:
            label = RESOURCE_POLICIES[kind]
            for document in documents(props[label]):
                if kind == "AWS::KMS::Key":
                    # In a key policy, Resource "*" means this key and nothing else.
                    key = ATTRIBUTES[(kind, "Arn")].format(name=name.lower())
                    for statement in _statements(document):
                        if statement.get("Resource") in ("*", ["*"]):
                            statement["Resource"] = key
                yield PolicyDocument(name, kind, RESOURCE, label, document)


def _statements(document: Mapping[str, Any]) -> list[dict[str, Any]]:
    statements = document.get("Statement", [])
    return statements if isinstance(statements, list) else [statements]


@dataclass(frozen=True)
class Finding:
    scanner: str  # "checkov" or "parliament"
    resource: str
    check: str
    title: str
    where: str
    detail: str = ""
    reason: str | None = None  # why it is skipped; None: it fails the scan

    def line(self) -> str:
        head = f"{self.scanner} {self.check} {self.resource} ({self.where}): {self.title}"
        return f"{head}\n      {self.detail}" if self.detail and self.reason is None else head


@dataclass
class TemplateReport:
    path: Path
    checkov_passed: int = 0
    documents: int = 0
    clean_documents: int = 0
    findings: list[Finding] = field(default_factory=list)

    @property
    def failed(self) -> list[Finding]:
        return [f for f in self.findings if f.reason is None]

    @property
    def skipped(self) -> list[Finding]:
        return [f for f in self.findings if f.reason is not None]

    def of(self, scanner: str, skipped: bool) -> list[Finding]:
        chosen = self.skipped if skipped else self.failed
        return [f for f in chosen if f.scanner == scanner]


# ---------------------------------------------------------------------------------------------
# checkov


def run_checkov(path: Path, template: Mapping[str, Any]) -> tuple[int, list[Finding]]:
    """(passed checks, failed and skipped checks) for one template."""
    os.environ.setdefault("BC_SKIP_MAPPING", "TRUE")
    with warnings.catch_warnings():
        # checkov's modules use deprecated names of their dependencies; nothing for us to act on.
        warnings.simplefilter("ignore", DeprecationWarning)
        from checkov.cloudformation.runner import Runner
        from checkov.runner_filter import RunnerFilter

    report = Runner().run(
        root_folder=None,
        files=[str(path)],
        runner_filter=RunnerFilter(framework=["cloudformation"], show_progress_bar=False),
    )
    if report.parsing_errors:
        raise ScanError(f"checkov could not parse {', '.join(report.parsing_errors)}")
    seen, declared = len(report.resources), len(template.get("Resources", {}))
    if seen != declared:
        # A template (or resource) checkov did not take in would otherwise pass unchecked.
        raise ScanError(f"checkov read {seen} of the {declared} resources of {path}")

    def finding(record: Any, reason: str | None) -> Finding:
        first, last = record.file_line_range
        return Finding(
            "checkov",
            record.resource.split(".", 1)[-1],
            record.check_id,
            record.check_name,
            f"lines {first}-{last}",
            reason=reason,
        )

    findings = [finding(r, None) for r in report.failed_checks]
    for record in report.skipped_checks:
        reason = (record.check_result.get("suppress_comment") or "").strip()
        findings.append(finding(record, reason))
    findings.extend(_checkov_skip_problems(template, findings))
    return len(report.passed_checks), findings


def _checkov_skip_problems(template: Mapping[str, Any], results: list[Finding]) -> list[Finding]:
    """Skips without a reason or matching no check checkov ran: failures of their own."""
    applied = {(f.resource, f.check) for f in results if f.reason is not None}
    problems = []
    for name, resource in template.get("Resources", {}).items():
        for skip in resource.get("Metadata", {}).get("checkov", {}).get("skip", []):
            check, reason = skip.get("id", "?"), (skip.get("comment") or "").strip()
            if len(reason) < MIN_REASON_LENGTH:
                problems.append(_skip_problem("checkov", name, check, "skip without a reason"))
            elif (name, check) not in applied:
                problems.append(_skip_problem("checkov", name, check, "skip matches no check"))
    return problems


def _skip_problem(scanner: str, resource: str, check: str, problem: str) -> Finding:
    return Finding(scanner, resource, check, problem, "Metadata", "fix or remove the skip")


# ---------------------------------------------------------------------------------------------
# parliament


def _parliament() -> Any:
    """parliament, with its community auditors' finding definitions loaded."""
    with warnings.catch_warnings():
        # parliament 1.6.4 still imports pkg_resources, deprecated by setuptools.
        warnings.simplefilter("ignore", UserWarning)
        warnings.simplefilter("ignore", ResourceWarning)
        import parliament
    overrides = Path(parliament.__file__).parent / "community_auditors" / "config_override.yaml"
    if "PRIVILEGE_ESCALATION" not in parliament.config:
        parliament.override_config(str(overrides))
    return parliament


class _OneStatement:
    """A policy seen through one statement. The single-value condition auditor stops at the first
    statement without a Condition, so it is run on each statement by itself."""

    def __init__(self, policy: Any, statement: Any) -> None:
        self.statements = [statement]
        self._policy = policy
        self._sid = statement.sid

    def add_finding(self, finding: str, detail: str = "", location: Any = None) -> None:
        self._policy.add_finding(finding, detail=detail, location={"sid": self._sid})


def lint_document(document: PolicyDocument) -> list[tuple[str | None, Any]]:
    """parliament's findings for one document, each with the Sid of its statement (if known)."""
    parliament = _parliament()
    from parliament.community_auditors import single_value_condition_too_permissive

    policy = parliament.analyze_policy_string(json.dumps(document.document))
    if policy.is_valid and policy.policy_json is not None:
        auditors = STRUCTURE_AUDITORS
        if document.kind == IDENTITY:
            auditors += CAPABILITY_AUDITORS
        for name in auditors:
            import_module(f"parliament.community_auditors.{name}").audit(policy)
        for statement in policy.statements:
            single_value_condition_too_permissive.audit(_OneStatement(policy, statement))
    by_statement = [(s.sid, f) for s in policy.statements for f in s.findings]
    seen = {id(f) for _, f in by_statement}
    others = [(_location_sid(f), f) for f in policy.findings if id(f) not in seen]
    return [(sid, parliament.enhance_finding(f)) for sid, f in by_statement + others]


def _location_sid(finding: Any) -> str | None:
    location = finding.location if isinstance(finding.location, dict) else {}
    return location.get("sid")


def run_parliament(template: Mapping[str, Any]) -> tuple[int, int, list[Finding]]:
    """(documents, documents without any finding, findings) for one template."""
    documents = list(policy_documents(template))
    resources = template.get("Resources", {})
    findings: list[Finding] = []
    used: set[tuple[str, int]] = set()
    clean = 0
    for document in documents:
        skips = resources[document.resource].get("Metadata", {}).get("parliament", {})
        skips = skips.get("skip", [])
        results = lint_document(document)
        clean += not results
        for sid, result in results:
            where = f"{document.label}, statement {sid}" if sid else document.label
            detail = result.detail if isinstance(result.detail, str) else json.dumps(result.detail)
            reason = None
            for index, skip in enumerate(skips):
                if skip.get("id") == result.issue and skip.get("sid") in (None, sid):
                    reason = (skip.get("comment") or "").strip()
                    used.add((document.resource, index))
                    break
            findings.append(
                Finding(
                    "parliament",
                    document.resource,
                    result.issue,
                    f"{result.severity}: {result.title}",
                    where,
                    detail,
                    reason or None,
                )
            )
    for name, resource in resources.items():
        declared = resource.get("Metadata", {}).get("parliament", {}).get("skip", [])
        for index, skip in enumerate(declared):
            check = skip.get("id", "?")
            if len((skip.get("comment") or "").strip()) < MIN_REASON_LENGTH:
                findings.append(_skip_problem("parliament", name, check, "skip without a reason"))
            elif (name, index) not in used:
                findings.append(_skip_problem("parliament", name, check, "skip matches no finding"))
    return len(documents), clean, findings


# ---------------------------------------------------------------------------------------------
# Both, and the report


def scan_template(path: Path) -> TemplateReport:
    template = json.loads(path.read_text(encoding="utf-8"))
    report = TemplateReport(path)
    report.checkov_passed, checkov_findings = run_checkov(path, template)
    report.documents, report.clean_documents, lint_findings = run_parliament(template)
    report.findings = checkov_findings + lint_findings
    return report


def summary(report: TemplateReport) -> list[str]:
    lines = [
        f"== {report.path}",
        f"checkov     {report.checkov_passed} passed, {len(report.of('checkov', False))} failed, "
        f"{len(report.of('checkov', True))} skipped",
        f"parliament  {report.documents} policy documents, {report.clean_documents} without "
        f"findings; {len(report.of('parliament', False))} findings failed, "
        f"{len(report.of('parliament', True))} skipped",
    ]
    for title, findings in (("FAILED", report.failed), ("SKIPPED", report.skipped)):
        lines.extend(f"  {title} {f.line()}" for f in findings)
    return lines


def reasons(reports: Sequence[TemplateReport]) -> list[str]:
    """Each skip's reason once, however many resources and templates it covers."""
    seen: dict[tuple[str, str, str], None] = {}
    for report in reports:
        for f in report.skipped:
            seen.setdefault((f.scanner, f.check, f.reason or ""), None)
    lines = ["== reasons for the skipped checks"] if seen else []
    lines.extend(f"  {scanner} {check}: {reason}" for scanner, check, reason in seen)
    return lines


def markdown(reports: Sequence[TemplateReport]) -> list[str]:
    """The figures and skip table of docs/security.md."""
    lines = [
        "| Template | checkov passed | failed | skipped | policy documents | findings failed "
        "| skipped |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in reports:
        lines.append(
            f"| `{r.path.name}` | {r.checkov_passed} | {len(r.of('checkov', False))} "
            f"| {len(r.of('checkov', True))} | {r.documents} "
            f"| {len(r.of('parliament', False))} | {len(r.of('parliament', True))} |"
        )
    rows: dict[tuple[str, str, str], set[str]] = {}
    for r in reports:
        for f in r.skipped:
            where = f.where.split(", ", 1)[-1] if f.scanner == "parliament" else ""
            rows.setdefault((f.scanner, f.check, f.reason or ""), set()).add(
                f"{f.resource} {where}".strip()
            )
    lines += ["", "| Scanner | Check | Resources | Reason |", "| --- | --- | --- | --- |"]
    for (scanner, check, reason), where in sorted(rows.items()):
        lines.append(f"| {scanner} | {check} | {', '.join(sorted(where))} | {reason} |")
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("templates", nargs="+", type=Path, help="CloudFormation JSON templates")
    parser.add_argument(
        "--markdown", action="store_true", help="print the figures as Markdown tables"
    )
    args = parser.parse_args(argv)
    reports = []
    for path in args.templates:
        try:
            reports.append(scan_template(path))
        except (ScanError, OSError, ValueError, KeyError, TypeError) as error:
            print(f"scan: {path}: {error}", file=sys.stderr)
            return 2
    if args.markdown:
        lines = markdown(reports)
    else:
        lines = [line for r in reports for line in summary(r)] + reasons(reports)
    failed = sum(len(r.failed) for r in reports)
    print("\n".join(lines))
    print(
        f"scan: {len(reports)} templates, {failed} failed, "
        f"{sum(len(r.skipped) for r in reports)} skipped with reasons",
        file=sys.stderr,
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
