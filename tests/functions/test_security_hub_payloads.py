"""The pure Security Hub core: which update an evaluation asks for, the ASFF finding, the notes
and the BatchUpdateFindings requests. No AWS."""

from __future__ import annotations

import hashlib

import botocore.session
import pytest
import security_hub
import settings
from botocore.validate import validate_parameters
from conftest import ACCOUNT, REGION
from security_hub import FindingUpdate, Target

RULE = "compliance-s3-bucket-public-read-prohibited"
TARGET = Target(ACCOUNT, REGION, RULE, "AWS::S3::Bucket", "logs")
EXEMPTION = {
    "id": "EX-7",
    "reason": "public website bucket behind CloudFront",
    "owner": "web-team@example.com",
    "granted": "2026-11-01",
    "expires": "2027-01-31",
}
RUNBOOK = "https://runbooks.example.com/S3_BUCKET_PUBLIC_READ_PROHIBITED.md"


def plan(mode="config", compliance="NON_COMPLIANT", previous="COMPLIANT", **overrides):
    target = overrides.pop("target", TARGET)
    arguments = {
        "compliance_type": compliance,
        "previous_type": previous,
        "exemption": None,
        "runbook": RUNBOOK,
        "hands_off": False,
        "evaluated_at": "2026-12-01T10:00:00.000000Z",
        "severity": "HIGH",
        "description": "S3 buckets do not allow public read access.",
        "what_to_do": "Turn on S3 Block Public Access for the bucket.",
        "annotation": "The bucket allows public read.",
        **overrides,
    }
    return security_hub.plan_update(mode, target, **arguments)


def config_finding(workflow="NEW", note=None, resource_id="arn:aws:s3:::logs"):
    finding = {
        "Id": f"arn:aws:config:{REGION}:{ACCOUNT}:config-rule/config-rule-1/finding/abc",
        "ProductArn": TARGET.config_product_arn,
        "Resources": [{"Id": resource_id, "Type": "AwsS3Bucket"}],
        "Workflow": {"Status": workflow},
    }
    if note is not None:
        finding["Note"] = note
    return finding


@pytest.mark.parametrize("mode", ["config", "import"])
def test_an_exempt_violation_is_suppressed_with_a_note_naming_the_exemption(mode):
    update = plan(mode, exemption=EXEMPTION)
    assert update.exempt
    assert update.note == (
        "Exempt: EX-7. Reason: public website bucket behind CloudFront. "
        "Owner: web-team@example.com. Granted 2026-11-01, expires 2027-01-31."
    )
    [request] = security_hub.annotation_requests(update, [config_finding()])
    assert request["Workflow"] == {"Status": "SUPPRESSED"}
    assert request["Note"] == {"Text": update.note, "UpdatedBy": "compliance-monitoring"}
    assert request["FindingIdentifiers"] == [
        {"Id": config_finding()["Id"], "ProductArn": TARGET.config_product_arn}
    ]


def test_a_finding_already_suppressed_with_the_same_note_gets_no_request():
    """A retry after a call that did succeed: nothing is sent twice."""
    update = plan(exemption=EXEMPTION)
    done = config_finding("SUPPRESSED", {"Text": update.note, "UpdatedBy": security_hub.UPDATED_BY})
    assert security_hub.annotation_requests(update, [done]) == []


@pytest.mark.parametrize(
    ("hands_off", "says"),
    [
        (True, "handed to the remediation function"),
        (False, "not enabled for this rule"),
    ],
)
def test_a_violation_gets_the_runbook_and_whether_remediation_runs(hands_off, says):
    update = plan(hands_off=hands_off)
    assert not update.exempt
    assert update.note.startswith(f"Non-compliant. Runbook: {RUNBOOK}.")
    assert says in update.note
    [request] = security_hub.annotation_requests(update, [config_finding("NOTIFIED")])
    assert "Workflow" not in request  # a person's workflow status is theirs


def test_a_violation_no_longer_exempt_reopens_only_what_an_exemption_suppressed():
    ours = config_finding(
        "SUPPRESSED", {"Text": "Exempt: EX-7. Reason: x.", "UpdatedBy": security_hub.UPDATED_BY}
    )
    [request] = security_hub.annotation_requests(plan(), [ours])
    assert request["Workflow"] == {"Status": "NEW"}
    by_a_person = config_finding("SUPPRESSED", {"Text": "Exempt: known", "UpdatedBy": "alice"})
    [request] = security_hub.annotation_requests(plan(), [by_a_person])
    assert "Workflow" not in request


@pytest.mark.parametrize("compliance", ["COMPLIANT", "NOT_APPLICABLE", "INSUFFICIENT_DATA"])
def test_config_mode_leaves_anything_but_a_violation_to_security_hub(compliance):
    assert plan("config", compliance, "NON_COMPLIANT") is None


def test_off_asks_for_nothing():
    assert plan("off") is None
    assert plan("off", exemption=EXEMPTION) is None


def test_import_mode_resolves_a_violation_that_ended_and_never_reopens_it():
    update = plan("import", "COMPLIANT", "NON_COMPLIANT")
    assert update.finding["Compliance"] == {"Status": "PASSED"}
    assert update.note == f"COMPLIANT since 2026-12-01T10:00:00.000000Z. Runbook: {RUNBOOK}."
    assert not update.may_reopen
    ours = config_finding(
        "SUPPRESSED", {"Text": "Exempt: EX-7.", "UpdatedBy": "compliance-monitoring"}
    )
    [request] = security_hub.annotation_requests(update, [ours])
    assert "Workflow" not in request


def test_import_mode_sends_nothing_for_a_resource_that_was_never_non_compliant():
    assert plan("import", "COMPLIANT", None) is None
    assert plan("import", "NOT_APPLICABLE", "COMPLIANT") is None


@pytest.mark.parametrize(
    ("compliance", "status"),
    [
        ("NON_COMPLIANT", "FAILED"),
        ("COMPLIANT", "PASSED"),
        ("NOT_APPLICABLE", "NOT_AVAILABLE"),
        ("INSUFFICIENT_DATA", "WARNING"),
    ],
)
def test_compliance_status_follows_aws_configs_mapping(compliance, status):
    update = plan("import", compliance, "NON_COMPLIANT")
    assert update.finding["Compliance"] == {"Status": status}


def test_the_imported_finding_is_valid_asff_for_the_accounts_default_product():
    finding = plan("import").finding
    model = botocore.session.get_session().get_service_model("securityhub")
    validate_parameters(
        {"Findings": [finding]}, model.operation_model("BatchImportFindings").input_shape
    )
    assert finding["ProductArn"] == (
        f"arn:aws:securityhub:{REGION}:{ACCOUNT}:product/{ACCOUNT}/default"
    )
    assert finding["Id"] == f"{ACCOUNT}/{REGION}/{RULE}/AWS::S3::Bucket/logs"
    assert finding["GeneratorId"] == RULE
    assert finding["Severity"] == {"Label": "HIGH"}
    assert finding["FindingProviderFields"]["Severity"] == {"Label": "HIGH"}
    assert finding["Remediation"]["Recommendation"] == {
        "Text": "Turn on S3 Block Public Access for the bucket.",
        "Url": RUNBOOK,
    }
    assert finding["UpdatedAt"] == finding["CreatedAt"] == "2026-12-01T10:00:00.000000Z"
    # Security Hub ignores these in an import of an existing finding: never sent.
    assert not {"Note", "Workflow", "UserDefinedFields"} & set(finding)


def test_a_runbook_that_is_a_repository_path_is_no_recommendation_url():
    finding = plan("import", runbook="docs/runbooks/S3_BUCKET_PUBLIC_READ_PROHIBITED.md").finding
    assert "Url" not in finding["Remediation"]["Recommendation"]


def test_finding_ids_are_stable_and_an_overlong_resource_id_is_hashed_within_the_limit():
    assert Target(ACCOUNT, REGION, RULE, "AWS::S3::Bucket", "logs").finding_id == TARGET.finding_id
    long_a = Target(ACCOUNT, REGION, "r" * 128, "AWS::EC2::Instance", "a" * 768)
    long_b = Target(ACCOUNT, REGION, "r" * 128, "AWS::EC2::Instance", "a" * 767 + "b")
    assert len(long_a.finding_id) <= security_hub.ID_MAX
    assert long_a.finding_id.endswith("/sha256-" + hashlib.sha256(b"a" * 768).hexdigest())
    assert long_a.finding_id != long_b.finding_id
    assert long_a.finding_id == Target(*long_a.__dict__.values()).finding_id


def test_long_texts_are_cut_to_asffs_limits():
    long = {**EXEMPTION, "reason": "because " * 200}
    note = plan(exemption=long).note
    assert len(note) == security_hub.NOTE_MAX and note.endswith("...")
    finding = plan(
        "import",
        target=Target(ACCOUNT, REGION, RULE, "AWS::S3::Bucket", "b" * 700),
        description="d" * 2000,
        what_to_do="w" * 900,
    ).finding
    assert len(finding["Title"]) == security_hub.TITLE_MAX
    assert len(finding["Description"]) == security_hub.DESCRIPTION_MAX
    assert len(finding["Remediation"]["Recommendation"]["Text"]) == 512
    remediation = security_hub.remediation_note("acted", "enforce", "x" * 900, RUNBOOK)
    assert len(remediation) == 512 and remediation.startswith("Remediation acted (enforce")
    assert RUNBOOK in remediation  # the reason, last, is what is cut


def test_aws_configs_finding_is_matched_by_the_end_of_its_resource_arn_only():
    findings = [
        config_finding(resource_id="arn:aws:s3:::old-logs"),
        config_finding(resource_id="arn:aws:s3:::logs"),
        config_finding(resource_id="arn:aws:ec2:eu-west-1:1:security-group/logs"),
        config_finding(resource_id="logs"),
    ]
    matched = security_hub.of_resource(findings, "logs")
    assert [f["Resources"][0]["Id"] for f in matched] == [
        "arn:aws:s3:::logs",
        "arn:aws:ec2:eu-west-1:1:security-group/logs",
        "logs",
    ]
    assert security_hub.of_resource([{"Id": "x", "Resources": None}], "logs") == []


def test_config_mode_looks_for_aws_configs_active_finding_of_the_rule():
    filters = plan().filters
    assert filters["ProductName"] == [{"Value": "Config", "Comparison": "EQUALS"}]
    assert filters["ProductFields"] == [
        {"Key": "aws/config/ConfigRuleName", "Value": RULE, "Comparison": "EQUALS"}
    ]
    assert filters["RecordState"] == [{"Value": "ACTIVE", "Comparison": "EQUALS"}]
    assert filters["ResourceId"] == [{"Value": "logs", "Comparison": "CONTAINS"}]
    assert plan("import").filters["Id"] == [{"Value": TARGET.finding_id, "Comparison": "EQUALS"}]


def test_partition_follows_the_region():
    assert security_hub.partition("cn-north-1") == "aws-cn"
    assert security_hub.partition("us-gov-west-1") == "aws-us-gov"
    china = Target(ACCOUNT, "cn-north-1", RULE, "AWS::S3::Bucket", "logs")
    assert china.product_arn.startswith("arn:aws-cn:securityhub:cn-north-1:")


@pytest.mark.parametrize("value", ["on", "CONFIG", "true"])
def test_a_bad_mode_names_the_variable_the_value_and_what_is_allowed(value):
    with pytest.raises(settings.ConfigurationError) as error:
        security_hub.mode({"SECURITY_HUB_MODE": value})
    assert str(error.value) == (
        f"environment variable SECURITY_HUB_MODE is '{value}'; allowed: one of off, config, import"
    )
    assert security_hub.mode({}) == "off"


def test_an_update_with_no_note_change_and_no_workflow_is_not_sent():
    update = FindingUpdate("config", TARGET, "n", exempt=False)
    same = config_finding(note={"Text": "n", "UpdatedBy": "compliance-monitoring"})
    assert security_hub.annotation_requests(update, [same]) == []


def test_a_resource_whose_id_is_not_in_its_arn_is_found_by_its_details():
    rds = Target(ACCOUNT, REGION, "compliance-db-instance-backup-enabled",
                 "AWS::RDS::DBInstance", "db-M5ENSHXFPU6XHZ4G4ZEI5QIO2U")  # fmt: skip
    update = FindingUpdate("config", rds, "n", exempt=False)
    assert "ResourceId" not in update.filters  # the ARN names the instance, not this id
    instance = {
        "Id": "f",
        "Resources": [
            {
                "Id": f"arn:aws:rds:{REGION}:{ACCOUNT}:db:orders",
                "Details": {"AwsRdsDbInstance": {"DbiResourceId": rds.resource_id}},
            }
        ],
    }
    other = {
        "Id": "g",
        "Resources": [
            {
                "Id": f"arn:aws:rds:{REGION}:{ACCOUNT}:db:other",
                "Details": {"AwsRdsDbInstance": {"DbiResourceId": "db-OTHER"}},
            }
        ],
    }
    assert security_hub.of_resource([instance, other], rds.resource_id) == [instance]
