"""Security scanners (scripts/scan.py): checkov and the IAM policy linter parliament over every
committed template find nothing that is not skipped with a reason, run offline, and do fail on a
template with a real weakness."""

from __future__ import annotations

import copy
import json
import re
import socket

import pytest
from template_helpers import ROOT, TEMPLATES, scan

from compliance_template.generator.suppressions import (
    CONDITIONAL_SKIPS,
    POLICY_LINT_SKIPS,
    RESOURCE_POLICY_LINT_SKIPS,
    SCANNER_SKIPS,
    key_shared_with_organization_only,
)

PATHS = sorted(TEMPLATES.glob("*.json"))
SINGLE = TEMPLATES / "compliance-monitoring.json"
# Words a reason needs at least: one that says why, and what makes the risk acceptable.
MIN_REASON_WORDS = 25


@pytest.fixture(scope="session")
def scanned():
    """Every committed template scanned once, with the network refused and every try recorded."""
    attempts: list[tuple] = []

    def refuse(*args, **kwargs):
        attempts.append(args)
        raise OSError("the security scan must not use the network")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(socket.socket, "connect", refuse)
        patch.setattr(socket.socket, "connect_ex", refuse)
        patch.setattr(socket, "getaddrinfo", refuse)
        reports = {path.name: scan.scan_template(path) for path in PATHS}
    return reports, attempts


def _template() -> dict:
    return json.loads(SINGLE.read_text(encoding="utf-8"))


def _scan_variant(tmp_path, template: dict):
    path = tmp_path / "variant.json"
    path.write_text(json.dumps(template, indent=1), encoding="utf-8")
    return path, scan.scan_template(path)


def _checks(findings) -> set[tuple[str, str]]:
    return {(f.check, f.resource) for f in findings}


def test_the_single_and_all_rules_templates_are_among_those_scanned():
    names = {p.name for p in PATHS}
    assert {"compliance-monitoring.json", "compliance-monitoring-all-rules.json"} <= names


def test_the_scan_uses_no_network(scanned):
    _, attempts = scanned
    assert attempts == []


@pytest.mark.parametrize("path", PATHS, ids=lambda p: p.name)
def test_checkov_fails_no_check(scanned, path):
    report = scanned[0][path.name]
    assert [f.line() for f in report.of("checkov", skipped=False)] == []


@pytest.mark.parametrize("path", PATHS, ids=lambda p: p.name)
def test_policy_linter_reports_nothing_unexplained(scanned, path):
    report = scanned[0][path.name]
    assert [f.line() for f in report.of("parliament", skipped=False)] == []


def test_checkov_evaluates_the_stack(scanned):
    report = scanned[0][SINGLE.name]
    # Encryption, public access, IAM and Lambda checks ran; a parse slip would leave none.
    assert report.checkov_passed >= 50


def test_every_policy_document_is_linted_and_resolved():
    template = _template()
    documents = list(scan.policy_documents(template))
    resources = template["Resources"]
    expected = 0
    for resource in resources.values():
        kind, props = resource["Type"], resource.get("Properties", {})
        expected += {
            "AWS::IAM::Role": 1 + len(props.get("Policies", [])),
            "AWS::IAM::ManagedPolicy": 1,
            "AWS::KMS::Key": 1,
            "AWS::S3::BucketPolicy": 1,
            "AWS::SNS::TopicPolicy": 1,
            "AWS::SQS::QueuePolicy": 1,
        }.get(kind, 0)
    assert len(documents) == expected
    kinds = {(d.resource_type, d.kind) for d in documents}
    assert {
        ("AWS::IAM::Role", scan.TRUST),
        ("AWS::IAM::ManagedPolicy", scan.IDENTITY),
        ("AWS::KMS::Key", scan.RESOURCE),
        ("AWS::S3::BucketPolicy", scan.RESOURCE),
        ("AWS::SNS::TopicPolicy", scan.RESOURCE),
        ("AWS::SQS::QueuePolicy", scan.RESOURCE),
    } <= kinds
    for document in documents:
        text = json.dumps(document.document)
        assert "Fn::" not in text and '"Ref"' not in text and "${" not in text, document.label
        for statement in document.document["Statement"]:
            assert "Resource" in statement or "NotResource" in statement


def test_every_checkov_skip_in_the_templates_has_a_reason_of_substance(scanned):
    skips = 0
    for path in PATHS:
        template = json.loads(path.read_text(encoding="utf-8"))
        for name, resource in template["Resources"].items():
            for skip in resource.get("Metadata", {}).get("checkov", {}).get("skip", []):
                skips += 1
                reason = skip.get("comment", "")
                assert re.fullmatch(r"CKV2?_AWS_\d+", skip["id"]), (name, skip)
                assert len(reason.split()) >= MIN_REASON_WORDS, (path.name, name, skip["id"])
                assert not re.search(r"\b(TODO|FIXME|later|temporar)", reason, re.I), reason
                # The reason is not the check's own title restated.
                titles = {f.title for f in scanned[0][path.name].skipped if f.check == skip["id"]}
                assert titles and all(t.lower() not in reason.lower() for t in titles)
    assert skips > 0


def test_every_policy_lint_skip_names_a_statement_and_a_reason():
    for kind, skips in POLICY_LINT_SKIPS.items():
        for finding, sid, reason in skips:
            assert finding.isupper() and sid.isalnum(), (kind, finding, sid)
            assert len(reason.split()) >= MIN_REASON_WORDS, (kind, finding)
    for kind, skips in SCANNER_SKIPS.items():
        for check, reason in skips:
            assert len(reason.split()) >= MIN_REASON_WORDS, (kind, check)
    for kind, skips in CONDITIONAL_SKIPS.items():
        for check, reason, _applies in skips:
            assert len(reason.split()) >= MIN_REASON_WORDS, (kind, check)


def test_docs_list_every_skipped_check(scanned):
    docs = (ROOT / "docs" / "security.md").read_text(encoding="utf-8")
    skipped = {f.check for report in scanned[0].values() for f in report.skipped}
    declared = {c for skips in SCANNER_SKIPS.values() for c, _ in skips}
    declared |= {c for skips in CONDITIONAL_SKIPS.values() for c, _, _ in skips}
    declared |= {f for skips in POLICY_LINT_SKIPS.values() for f, _, _ in skips}
    declared |= {f for skips in RESOURCE_POLICY_LINT_SKIPS.values() for f, _, _ in skips}
    assert skipped <= declared
    assert [check for check in sorted(declared) if f"`{check}`" not in docs] == []


# The scan can fail: real weaknesses in a copy of the template are reported.


def test_a_bucket_without_its_public_access_block_fails_checkov(tmp_path, capsys):
    template = _template()
    del template["Resources"]["ReportsBucket"]["Properties"]["PublicAccessBlockConfiguration"]
    path, report = _scan_variant(tmp_path, template)
    failed = _checks(report.of("checkov", skipped=False))
    assert {(check, "ReportsBucket") for check in ("CKV_AWS_53", "CKV_AWS_54")} <= failed
    assert {("CKV_AWS_55", "ReportsBucket"), ("CKV_AWS_56", "ReportsBucket")} <= failed
    assert scan.main([str(path)]) == 1
    assert "FAILED checkov CKV_AWS_53 ReportsBucket" in capsys.readouterr().out


def test_a_wildcard_admin_statement_fails_both_scanners(tmp_path):
    template = _template()
    policy = template["Resources"]["ProcessingManagedPolicy"]["Properties"]["PolicyDocument"]
    admin = {"Sid": "Admin", "Effect": "Allow", "Action": ["*"], "Resource": ["*"]}
    policy["Statement"].append(admin)
    _, report = _scan_variant(tmp_path, template)
    failed = _checks(report.failed)
    # checkov 3.1.47's CKV_AWS_62 and CKV_AWS_63 do not read AWS::IAM::ManagedPolicy
    # (docs/security.md); its privilege-escalation check and parliament's auditor find the grant.
    assert ("CKV_AWS_110", "ProcessingManagedPolicy") in failed
    assert ("PRIVILEGE_ESCALATION", "ProcessingManagedPolicy") in failed


def test_mistakes_behind_intrinsics_reach_the_policy_linter(tmp_path):
    template = _template()
    policy = template["Resources"]["ReportingManagedPolicy"]["Properties"]["PolicyDocument"]
    policy["Statement"] += [
        # Objects are not buckets: s3:GetObject on the bucket ARN grants nothing.
        {
            "Sid": "WrongResource",
            "Effect": "Allow",
            "Action": ["s3:GetObject"],
            "Resource": [{"Fn::GetAtt": ["ReportsBucket", "Arn"]}],
        },
        {
            "Sid": "Typo",
            "Effect": "Allow",
            "Action": ["sns:Publishes"],
            "Resource": [{"Ref": "NotificationTopic"}],
        },
    ]
    _, report = _scan_variant(tmp_path, template)
    found = {(f.check, f.where) for f in report.of("parliament", skipped=False)}
    assert ("RESOURCE_MISMATCH", "policy, statement WrongResource") in found
    assert ("UNKNOWN_ACTION", "policy, statement Typo") in found


def test_a_skip_that_matches_nothing_fails(tmp_path):
    template = _template()
    # A bucket check cannot apply to a bucket policy: the skip excuses nothing.
    stale = {"id": "CKV_AWS_18", "comment": "x " * 40}
    template["Resources"]["ReportsBucketPolicy"]["Metadata"] = {"checkov": {"skip": [stale]}}
    key = template["Resources"]["ComplianceKey"]
    lint = copy.deepcopy(key["Metadata"]["parliament"]["skip"][0])
    lint["sid"] = "NoSuchStatement"
    key["Metadata"]["parliament"]["skip"].append(lint)
    _, report = _scan_variant(tmp_path, template)
    failed = {(f.scanner, f.resource, f.title) for f in report.failed}
    assert ("checkov", "ReportsBucketPolicy", "skip matches no check") in failed
    assert ("parliament", "ComplianceKey", "skip matches no finding") in failed


def test_a_skip_without_a_reason_fails(tmp_path):
    template = _template()
    function = template["Resources"]["ProcessingFunction"]
    function["Metadata"]["checkov"]["skip"][0]["comment"] = "not needed"
    _, report = _scan_variant(tmp_path, template)
    assert ("skip without a reason", "ProcessingFunction") in {
        (f.title, f.resource) for f in report.failed
    }


# The organization key's wildcard principal is skipped only while the organization limits it.


def _key(*statements: dict) -> dict:
    return {"KeyPolicy": {"Version": "2012-10-17", "Statement": list(statements)}}


ROOT_ADMIN = {"Effect": "Allow", "Principal": {"AWS": ["arn:aws:iam::1:root"]}, "Action": "kms:*"}
ORG_GRANT = {
    "Effect": "Allow",
    "Principal": {"AWS": ["*"]},
    "Action": ["kms:Decrypt"],
    "Condition": {"StringEquals": {"aws:PrincipalOrgID": {"Ref": "OrganizationId"}}},
}


def test_the_wildcard_principal_skip_needs_the_organization_condition():
    assert key_shared_with_organization_only(_key(ROOT_ADMIN, ORG_GRANT))
    open_grant = {k: v for k, v in ORG_GRANT.items() if k != "Condition"}
    assert not key_shared_with_organization_only(_key(ROOT_ADMIN, ORG_GRANT, open_grant))
    assert not key_shared_with_organization_only(_key(ROOT_ADMIN))
    deny_all = {**open_grant, "Effect": "Deny", "Principal": "*"}
    assert key_shared_with_organization_only(_key(ORG_GRANT, deny_all))


# The intrinsic resolver, on its own.


def test_resolver_follows_cloudformation_semantics():
    template = {
        "Parameters": {"Mode": {"Type": "String", "Default": "dry-run"}},
        "Resources": {
            "Topic": {"Type": "AWS::SNS::Topic"},
            "Bucket": {"Type": "AWS::S3::Bucket"},
            "Queue": {"Type": "AWS::SQS::Queue"},
        },
    }
    resolve = scan.Resolver(template).resolve
    assert resolve({"Ref": "Topic"}) == "arn:aws:sns:us-east-1:123456789012:topic"
    assert resolve({"Ref": "Queue"}).startswith("https://sqs.us-east-1.amazonaws.com/")
    assert resolve({"Fn::Sub": ["${B}/x/*", {"B": {"Fn::GetAtt": ["Bucket", "Arn"]}}]}) == (
        "arn:aws:s3:::bucket/x/*"
    )
    assert resolve({"Fn::Sub": "${AWS::Partition}:${!Literal}:${Mode}"}) == "aws:${Literal}:dry-run"
    # Fn::If lints both branches; AWS::NoValue drops the element.
    no_value = {"Ref": "AWS::NoValue"}
    assert resolve(["a", {"Fn::If": ["C", "b", no_value]}, {"Fn::If": ["C", "c", "d"]}]) == [
        "a",
        "b",
        "c",
        "d",
    ]
    assert resolve({"Resource": {"Fn::If": ["C", "x", no_value]}}) == {"Resource": "x"}
    assert resolve({"Resource": {"Fn::If": ["C", no_value, no_value]}}) == {}


@pytest.mark.parametrize(
    "value",
    [
        {"Fn::ImportValue": "Elsewhere"},
        {"Ref": "Undefined"},
        {"Fn::GetAtt": ["Topic", "Unknown"]},
    ],
)
def test_resolver_refuses_what_it_cannot_resolve(value):
    resolver = scan.Resolver({"Resources": {"Topic": {"Type": "AWS::SNS::Topic"}}})
    with pytest.raises(scan.ScanError):
        resolver.resolve(value)
