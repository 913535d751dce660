"""The refresh report, its exit codes and --write, on small packs written into tmp_path."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from compliance_template.maintenance import frameworks_data
from compliance_template.maintenance.packs import framework_name, read_folder, rule_inputs
from compliance_template.maintenance.refresh import main

TODAY = date(2026, 12, 1)
HIPAA = """\
Parameters:
  MaxAge:
    Type: String
    Default: '90'
Conditions:
  HasAge: !Not [!Equals [!Ref MaxAge, '']]
Resources:
  KeysRotated:
    Type: AWS::Config::ConfigRule
    Properties:
      ConfigRuleName: access-keys-rotated
      InputParameters:
        maxAccessKeyAge: !Ref MaxAge
      MaximumExecutionFrequency: TwentyFour_Hours
      Source:
        Owner: AWS
        SourceIdentifier: ACCESS_KEYS_ROTATED
  BucketVersioning:
    Type: AWS::Config::ConfigRule
    Condition: HasAge
    Properties:
      Scope:
        ComplianceResourceTypes: [AWS::S3::Bucket]
      Source:
        Owner: AWS
        SourceIdentifier: S3_BUCKET_VERSIONING_ENABLED
  BucketVersioningAgain:
    Type: AWS::Config::ConfigRule
    Properties:
      InputParameters:
        isMfaDeleteEnabled:
          Fn::If: [HasAge, 'true', !Ref AWS::NoValue]
      Source:
        Owner: AWS
        SourceIdentifier: S3_BUCKET_VERSIONING_ENABLED
  OwnCheck:
    Type: AWS::Config::ConfigRule
    Properties:
      Source:
        Owner: CUSTOM_LAMBDA
        SourceIdentifier: arn:aws:lambda:us-east-1:111122223333:function:check
"""
GUARDRAILS = """\
Resources:
  Trail:
    Type: AWS::Config::ConfigRule
    Properties:
      Source: {Owner: AWS, SourceIdentifier: CLOUD_TRAIL_ENABLED}
"""
RULES = {
    "ACCESS_KEYS_ROTATED": {
        "parameters": [{"name": "maxAccessKeyAge", "required": True, "type": "int"}],
        "facts": {"readOn": "2025-06-01", "source": "x", "verified": []},
    },
    "S3_BUCKET_VERSIONING_ENABLED": {
        "parameters": [],
        "facts": {"readOn": "2026-11-30", "source": "x", "verified": []},
    },
    "CLOUD_TRAIL_ENABLED": {
        "parameters": [],
        "facts": {"readOn": None, "source": "x", "verified": []},
    },
    "RETIRED_RULE": {"parameters": [], "facts": {"readOn": None, "source": "x", "verified": []}},
}


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    packs = tmp_path / "checkout" / "aws-config-conformance-packs"
    packs.mkdir(parents=True)
    (packs / "Operational-Best-Practices-for-HIPAA-Security.yaml").write_text(HIPAA)
    (packs / "Operational-Best-Practices-for-HIPAA-Security.yml").write_text(HIPAA)
    (packs / "AWS-Control-Tower-Detective-Guardrails.yaml").write_text(GUARDRAILS)
    (packs / "README.md").write_text("not a pack")
    (tmp_path / "managed_rules.json").write_text(json.dumps({"rules": RULES}))
    return packs.parent


def run(checkout: Path, *extra: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    files = checkout.parent
    code = main(
        [
            "--checkout",
            str(checkout),
            "--frameworks",
            str(files / "frameworks.json"),
            "--managed-rules",
            str(files / "managed_rules.json"),
            *extra,
        ],
        today=TODAY,
    )
    out, err = capsys.readouterr()
    return code, out + err


def written(checkout: Path, capsys: pytest.CaptureFixture[str]) -> bytes:
    run(checkout, "--write", "--commit", "abc1234", "--committed-on", "2026-04-09", capsys=capsys)
    return (checkout.parent / "frameworks.json").read_bytes()


def edit(checkout: Path, name: str, old: str, new: str) -> None:
    path = checkout / "aws-config-conformance-packs" / name
    assert old in path.read_text()
    path.write_text(path.read_text().replace(old, new))


@pytest.mark.parametrize(
    ("file_name", "name"),
    [
        ("Operational-Best-Practices-for-HIPAA-Security.yaml", "hipaa-security"),
        ("Operational-Best-Practices-for-CIS-AWS-v1.4-Level1.yaml", "cis-aws-v1.4-level1"),
        ("AWS-Control-Tower-Detective-Guardrails.yaml", "aws-control-tower-detective-guardrails"),
        ("operational-best-practices-for-NIST.yml", "nist"),
    ],
)
def test_framework_names_come_from_the_file_name(file_name, name):
    assert framework_name(file_name) == name


def test_the_reader_keeps_short_and_long_forms_custom_rules_and_one_name_per_pair(checkout):
    frameworks, notes = read_folder(checkout / "aws-config-conformance-packs")
    assert list(frameworks) == ["aws-control-tower-detective-guardrails", "hipaa-security"]
    assert notes == []
    hipaa = frameworks["hipaa-security"]
    assert hipaa["file"].endswith(".yaml")
    assert hipaa["conditions"] == {"HasAge": {"Fn::Not": [{"Fn::Equals": [{"Ref": "MaxAge"}, ""]}]}}
    keys, versioning, again = hipaa["rules"]
    assert keys["inputs"] == {"maxAccessKeyAge": {"Ref": "MaxAge"}}
    assert versioning["condition"] == "HasAge"
    assert again["inputs"]["isMfaDeleteEnabled"] == {
        "Fn::If": ["HasAge", "true", {"Ref": "AWS::NoValue"}]
    }
    assert hipaa["customRules"] == [{"key": "OwnCheck", "owner": "CUSTOM_LAMBDA"}]


def test_a_first_run_adds_every_framework_and_reports_the_managed_rules(checkout, capsys):
    code, out = run(checkout, capsys=capsys)
    assert code == 1
    lines = out.splitlines()
    assert (
        "framework added: hipaa-security"
        " (Operational-Best-Practices-for-HIPAA-Security.yaml, 3 rules)" in lines
    )
    assert "no pack uses: RETIRED_RULE (kept in managed_rules.json)" in lines
    assert (
        "undocumented input: S3_BUCKET_VERSIONING_ENABLED isMfaDeleteEnabled"
        " (passed by hipaa-security)" in lines
    )
    assert "facts read on 2025-06-01: 1 rules" in lines
    assert "facts never read from AWS's page (readOn null): 2 rules" in lines
    assert "oldest readOn: 2025-06-01" in lines
    assert "facts older than a year: ACCESS_KEYS_ROTATED (read on 2025-06-01)" in lines
    assert "facts older than a year (read before 2025-12-01): 1 rules" in lines


def test_write_then_rerun_reports_no_change_and_the_same_bytes(checkout, capsys):
    first = written(checkout, capsys)
    code, out = run(checkout, capsys=capsys)
    assert code == 0
    assert "no change" in out.splitlines()
    assert written(checkout, capsys) == first
    document = json.loads(first)
    assert document["source"] == {
        "repository": "awslabs/aws-config-rules",
        "folder": "aws-config-conformance-packs",
        "commit": "abc1234",
        "committedOn": "2026-04-09",
        "readOn": "2026-12-01",
    }
    assert (
        frameworks_data.render(frameworks_data.load(checkout.parent / "frameworks.json")).encode()
        == first
    )


@pytest.mark.parametrize(
    ("file_name", "old", "new", "line"),
    [
        (
            "AWS-Control-Tower-Detective-Guardrails.yaml",
            "SourceIdentifier: CLOUD_TRAIL_ENABLED}",
            "SourceIdentifier: CLOUD_TRAIL_ENABLED}\n  Trail2:\n    Type: AWS::Config::ConfigRule\n"
            "    Properties:\n      Source: {Owner: AWS, SourceIdentifier: CLOUD_TRAIL_ENABLED}",
            "aws-control-tower-detective-guardrails: rule added:"
            " CLOUD_TRAIL_ENABLED (2 uses, was 1)",
        ),
        (
            "Operational-Best-Practices-for-HIPAA-Security.yaml",
            "maxAccessKeyAge: !Ref MaxAge",
            "maxAge: !Ref MaxAge",
            "hipaa-security: rule ACCESS_KEYS_ROTATED (KeysRotated): input key added: maxAge",
        ),
        (
            "Operational-Best-Practices-for-HIPAA-Security.yaml",
            "maxAccessKeyAge: !Ref MaxAge",
            "maxAge: !Ref MaxAge",
            "hipaa-security: rule ACCESS_KEYS_ROTATED (KeysRotated): input key"
            " removed: maxAccessKeyAge",
        ),
        (
            "Operational-Best-Practices-for-HIPAA-Security.yaml",
            "TwentyFour_Hours",
            "One_Hour",
            "hipaa-security: rule ACCESS_KEYS_ROTATED (KeysRotated): frequency"
            ' changed: "TwentyFour_Hours" -> "One_Hour"',
        ),
        (
            "Operational-Best-Practices-for-HIPAA-Security.yaml",
            "[AWS::S3::Bucket]",
            "[AWS::S3::AccessPoint]",
            "hipaa-security: rule S3_BUCKET_VERSIONING_ENABLED (BucketVersioning): scope changed:"
            ' {"ComplianceResourceTypes": ["AWS::S3::Bucket"]} ->'
            ' {"ComplianceResourceTypes": ["AWS::S3::AccessPoint"]}',
        ),
        (
            "Operational-Best-Practices-for-HIPAA-Security.yaml",
            "    Condition: HasAge\n",
            "",
            "hipaa-security: rule S3_BUCKET_VERSIONING_ENABLED (BucketVersioning):"
            ' condition changed: "HasAge" -> (none)',
        ),
        (
            "Operational-Best-Practices-for-HIPAA-Security.yaml",
            "Default: '90'",
            "Default: '60'",
            'hipaa-security: parameter MaxAge default changed: "90" -> "60"',
        ),
    ],
)
def test_each_kind_of_change_is_one_line(checkout, capsys, file_name, old, new, line):
    written(checkout, capsys)
    edit(checkout, file_name, old, new)
    if file_name.endswith("Security.yaml"):
        edit(checkout, file_name.replace(".yaml", ".yml"), old, new)
    code, out = run(checkout, capsys=capsys)
    assert code == 1
    assert line in out.splitlines()


def test_removed_frameworks_and_rules_and_new_identifiers_with_their_stub(checkout, capsys):
    written(checkout, capsys)
    (
        checkout / "aws-config-conformance-packs" / "AWS-Control-Tower-Detective-Guardrails.yaml"
    ).unlink()
    for suffix in (".yaml", ".yml"):
        edit(
            checkout,
            f"Operational-Best-Practices-for-HIPAA-Security{suffix}",
            "SourceIdentifier: ACCESS_KEYS_ROTATED",
            "SourceIdentifier: NEW_RULE",
        )
    code, out = run(checkout, capsys=capsys)
    lines = out.splitlines()
    assert code == 1
    assert (
        "framework removed: aws-control-tower-detective-guardrails (was"
        " AWS-Control-Tower-Detective-Guardrails.yaml)" in lines
    )
    assert "hipaa-security: rule removed: ACCESS_KEYS_ROTATED (0 uses, was 1)" in lines
    assert "hipaa-security: rule added: NEW_RULE (1 use, was 0)" in lines
    missing = lines.index(
        "missing managed rule: NEW_RULE (used by hipaa-security):"
        " read https://docs.aws.amazon.com/config/latest/developerguide/new-rule.html"
    )
    stub = json.loads("{" + lines[missing + 1].removeprefix("  stub: ") + "}")
    assert stub["NEW_RULE"]["facts"] == {"readOn": None, "source": "sample-packs", "verified": []}
    assert stub["NEW_RULE"]["parameters"] == [
        {"name": "maxAccessKeyAge", "required": None, "type": None}
    ]
    assert stub["NEW_RULE"]["triggers"] == ["periodic"]


def test_a_yaml_and_yml_pair_that_differ_is_noted(checkout, capsys):
    edit(checkout, "Operational-Best-Practices-for-HIPAA-Security.yml", "'90'", "'30'")
    _, out = run(checkout, capsys=capsys)
    assert (
        "note: hipaa-security: Operational-Best-Practices-for-HIPAA-Security.yaml and"
        " Operational-Best-Practices-for-HIPAA-Security.yml differ; kept"
        " Operational-Best-Practices-for-HIPAA-Security.yaml"
    ) in out.splitlines()


def test_the_report_is_deterministic(checkout, capsys):
    assert run(checkout, capsys=capsys) == run(checkout, capsys=capsys)


@pytest.mark.parametrize(
    ("make_bad", "message"),
    [
        (lambda c: c.rename(c.with_name("gone")), "no such directory"),
        (
            lambda c: (c / "aws-config-conformance-packs").rename(c / "other"),
            "no aws-config-conformance-packs/ folder",
        ),
        (
            lambda c: (c / "aws-config-conformance-packs" / "Broken.yaml").write_text(
                "Resources: [\n"
            ),
            "Broken.yaml: not valid YAML",
        ),
        (
            lambda c: (c / "aws-config-conformance-packs" / "Broken.yaml").write_text(
                "Resources: 3\n"
            ),
            "Broken.yaml: a conformance pack template needs a Resources mapping",
        ),
    ],
)
def test_bad_input_is_one_line_and_exit_2(checkout, capsys, make_bad, message):
    make_bad(checkout)
    code, out = run(checkout, capsys=capsys)
    assert code == 2
    assert out.count("\n") == 1 and message in out and "Traceback" not in out


def test_write_outside_git_without_commit_is_refused(checkout, capsys):
    code, out = run(checkout, "--write", capsys=capsys)
    assert code == 2
    assert "not a git checkout: give --commit SHA and --committed-on YYYY-MM-DD" in out
    assert not (checkout.parent / "frameworks.json").exists()


def test_write_in_a_git_checkout_records_its_last_commit(checkout, capsys):
    import subprocess

    git = ["git", "-C", str(checkout), "-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "."], check=True)
    env = {
        "GIT_COMMITTER_DATE": "2026-04-09T12:00:00Z",
        "GIT_AUTHOR_DATE": "2026-04-09T12:00:00Z",
        "PATH": "/usr/bin:/bin",
    }
    subprocess.run([*git, "commit", "-qm", "packs"], check=True, env=env)
    head = subprocess.run(
        [*git, "rev-parse", "HEAD"], check=True, capture_output=True, text=True
    ).stdout.strip()
    run(checkout, "--write", capsys=capsys)
    source = json.loads((checkout.parent / "frameworks.json").read_text())["source"]
    assert (source["commit"], source["committedOn"]) == (head, "2026-04-09")


def test_inputs_chosen_whole_by_a_condition_count_the_keys_of_either_branch():
    """AWS's cyber-resilience pack passes `InputParameters: !If [HasKmsKeyId, {kmsId: ...},
    !Ref AWS::NoValue]`: its key is kmsId, not Fn::If."""
    rule = {"inputs": {"Fn::If": ["HasKey", {"kmsId": {"Ref": "Key"}}, {"Ref": "AWS::NoValue"}]}}
    assert rule_inputs(rule) == {"kmsId": {"Fn::If": ["HasKey", {"Ref": "Key"}, None]}}
    assert rule_inputs({"inputs": {"a": "1"}}) == {"a": "1"}
