"""generate.py: exit codes, messages, formats, and no half-written or clobbered files."""

from __future__ import annotations

import json
import subprocess
import sys

from cfnlint.decode import decode_str
from template_helpers import ROOT

from compliance_template.cli import main


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(ROOT / "generate.py"), *args],
        capture_output=True,
        text=True,
        check=False,
    )


def test_help_documents_every_option():
    result = run("--help")
    assert result.returncode == 0
    for option in ("--settings", "--out", "--format", "--list-rules"):
        assert option in result.stdout


def test_bad_settings_exit_2_with_one_line_and_write_nothing(tmp_path):
    settings = tmp_path / "settings.json"
    settings.write_text(json.dumps({"parameter_defaults": {"ReportRetentionDays": 9999}}))
    out = tmp_path / "out.json"
    result = run("--settings", str(settings), "--out", str(out))
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "generate.py: error: parameter_defaults.ReportRetentionDays: 9999 is not allowed; "
        "a whole number from 1 to 3650"
    )
    assert "Traceback" not in result.stderr
    assert list(tmp_path.iterdir()) == [settings]


def test_bad_settings_leave_an_existing_template_untouched(tmp_path):
    out = tmp_path / "out.json"
    out.write_text("previous")
    settings = tmp_path / "settings.json"
    settings.write_text('{"rules": ["NOT_A_RULE"]}')
    assert main(["--settings", str(settings), "--out", str(out)]) == 2
    assert out.read_text() == "previous"


def test_unreadable_and_invalid_settings_files(tmp_path, capsys):
    assert main(["--settings", str(tmp_path / "missing.json"), "--out", "-"]) == 2
    assert "a readable file" in capsys.readouterr().err
    broken = tmp_path / "broken.json"
    broken.write_text("{ nope")
    assert main(["--settings", str(broken), "--out", "-"]) == 2
    assert "valid JSON (line 1" in capsys.readouterr().err


def test_writes_json_next_to_functions_with_relative_code_paths(tmp_path):
    out = tmp_path / "nested" / "stack.json"
    assert main(["--out", str(out)]) == 0
    template = json.loads(out.read_text())
    code = template["Resources"]["ProcessingFunction"]["Properties"]["Code"]
    assert (out.parent / code).resolve() == (ROOT / "functions" / "processing").resolve()
    assert not [p for p in out.parent.iterdir() if p.name.endswith(".tmp")]


def test_yaml_output_parses_and_equals_json(tmp_path):
    out, reference = tmp_path / "stack.yaml", tmp_path / "stack.json"
    assert main(["--out", str(out)]) == 0
    assert main(["--out", str(reference)]) == 0
    from_yaml, errors = decode_str(out.read_text())
    assert errors == []
    assert json.loads(json.dumps(from_yaml)) == json.loads(reference.read_text())


def test_same_input_gives_byte_identical_output(tmp_path):
    first, second = tmp_path / "a.json", tmp_path / "b.json"
    assert main(["--out", str(first)]) == 0
    assert main(["--out", str(second)]) == 0
    assert first.read_bytes() == second.read_bytes()


def test_list_rules_shows_the_catalog(capsys):
    assert main(["--list-rules"]) == 0
    listing = capsys.readouterr().out
    assert "DB_INSTANCE_BACKUP_ENABLED" in listing and "opt-in" in listing
