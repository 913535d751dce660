"""generate.py: exit codes, messages, formats, and no half-written or clobbered files."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from cfnlint.decode import decode_str
from template_helpers import ROOT

from compliance_template.generator.catalog import CATALOG
from compliance_template.generator.cli import main


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


# --- bad input files, write errors, output targets ---------------------------------------------


def one_error_line(capsys) -> str:
    err = capsys.readouterr().err
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    return lines[0]


@pytest.mark.parametrize(
    ("content", "allowed"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00\xff\xfe", "a UTF-8 text file (byte 0 is not UTF-8)"),
        ('{"rules": []}'.encode("utf-16"), "a UTF-8 text file (this one is UTF-16 or UTF-32)"),
        (b"[" * 100_000 + b"]" * 100_000, "JSON nested at most 20 levels deep"),
        (b'{"tags": ' * 30 + b"1" + b"}" * 30, "JSON nested at most 20 levels deep"),
        (
            b'{"rules": ' + b"1" * 5000 + b"}",
            "valid JSON (numbers of at most 4300 digits)",
        ),
    ],
    ids=["binary", "utf-16", "recursion-error-deep", "deeper-than-settings-need", "huge-number"],
)
def test_unreadable_settings_content_is_one_line_exit_2_and_no_file(
    tmp_path, capsys, content, allowed
):
    settings = tmp_path / "settings.json"
    settings.write_bytes(content)
    out = tmp_path / "out.json"
    assert main(["--settings", str(settings), "--out", str(out)]) == 2
    assert one_error_line(capsys) == (
        f'generate.py: error: --settings: "{settings}" is not allowed; {allowed}'
    )
    assert list(tmp_path.iterdir()) == [settings]


def test_out_whose_parent_is_a_file_is_refused(tmp_path, capsys):
    (tmp_path / "file").write_text("x")
    out = tmp_path / "file" / "stack.json"
    assert main(["--out", str(out)]) == 2
    assert one_error_line(capsys) == (
        f'generate.py: error: --out: "{out}" is not allowed; '
        f"a path inside a folder ({tmp_path / 'file'} is a file)"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file"]


def test_out_that_is_a_directory_is_refused(tmp_path, capsys):
    out = tmp_path / "folder"
    out.mkdir()
    assert main(["--out", str(out)]) == 2
    assert one_error_line(capsys).endswith("is not allowed; a file path (this is a folder)")
    assert list(out.iterdir()) == []


def test_permission_denied_is_one_line_and_leaves_nothing(tmp_path, capsys, monkeypatch):
    # chmod does not deny root, so the denial is injected where the temporary file is made.
    import compliance_template.output as output

    def denied(**kwargs):
        raise PermissionError(13, "Permission denied", str(kwargs["dir"]))

    monkeypatch.setattr(output.tempfile, "mkstemp", denied)
    out = tmp_path / "stack.json"
    assert main(["--out", str(out)]) == 2
    assert one_error_line(capsys) == (
        f'generate.py: error: --out: "{out}" is not allowed; '
        f"a path this user can write (Permission denied: {tmp_path})"
    )
    assert list(tmp_path.iterdir()) == []


@pytest.mark.skipif(os.geteuid() == 0, reason="root is not denied by file modes")
def test_read_only_folder_is_refused(tmp_path, capsys):
    folder = tmp_path / "read-only"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        assert main(["--out", str(folder / "stack.json")]) == 2
        assert "a path this user can write (Permission denied" in one_error_line(capsys)
    finally:
        folder.chmod(0o755)


def test_failed_rename_removes_the_temporary_file(tmp_path, capsys, monkeypatch):
    import compliance_template.output as output

    def fails(source, target):
        raise PermissionError(1, "Operation not permitted", str(target))

    monkeypatch.setattr(output.os, "replace", fails)
    out = tmp_path / "stack.json"
    out.write_text("previous")
    assert main(["--out", str(out)]) == 2
    assert "Operation not permitted" in one_error_line(capsys)
    assert list(tmp_path.iterdir()) == [out] and out.read_text() == "previous"


def test_runbooks_into_a_file_is_one_line(tmp_path, capsys):
    target = tmp_path / "runbooks"
    target.write_text("not a folder")
    assert main(["--runbooks", str(target)]) == 2
    line = one_error_line(capsys)
    assert line.startswith("generate.py: error: --runbooks: ")
    assert line.endswith(f"a path inside a folder ({target} is a file)")
    assert target.read_text() == "not a folder"


def test_runbooks_with_one_unwritable_target_write_none(tmp_path, capsys):
    """The second rule's runbook path is a folder: the first must not be written either."""
    target = tmp_path / "runbooks"
    (target / f"{CATALOG[1].identifier}.md").mkdir(parents=True)
    assert main(["--runbooks", str(target)]) == 2
    assert one_error_line(capsys).endswith("a file path (this is a folder)")
    assert [p.name for p in target.iterdir()] == [f"{CATALOG[1].identifier}.md"]


def test_out_through_a_symlink_replaces_the_target_and_keeps_the_link(tmp_path):
    real = tmp_path / "real" / "stack.json"
    real.parent.mkdir()
    real.write_text("old")
    link = tmp_path / "stack.json"
    link.symlink_to(real)
    assert main(["--out", str(link)]) == 0
    assert link.is_symlink() and link.resolve() == real
    assert json.loads(real.read_text())["Resources"]
    # The temporary file was made beside the target, and is gone.
    assert sorted(p.name for p in real.parent.iterdir()) == ["stack.json"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["real", "stack.json"]


def test_out_that_is_a_fifo_is_refused_and_stays_a_fifo(tmp_path, capsys):
    fifo = tmp_path / "pipe.json"
    os.mkfifo(fifo)
    assert main(["--out", str(fifo)]) == 2
    assert one_error_line(capsys).endswith(
        "a regular file or a new path (this is a FIFO, which a write would replace)"
    )
    assert stat.S_ISFIFO(fifo.stat().st_mode)


def test_out_that_is_a_device_is_refused(tmp_path, capsys):
    link = tmp_path / "null.json"
    link.symlink_to("/dev/null")
    assert main(["--out", str(link)]) == 2
    assert "this is a device" in one_error_line(capsys)
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)


def test_out_in_a_symlink_loop_is_one_line(tmp_path, capsys):
    (tmp_path / "a").symlink_to(tmp_path / "b")
    (tmp_path / "b").symlink_to(tmp_path / "a")
    assert main(["--out", str(tmp_path / "a")]) == 2
    assert "Symlink loop" in one_error_line(capsys)


def test_out_dash_still_writes_standard_output(capsys):
    assert main(["--out", "-"]) == 0
    assert json.loads(capsys.readouterr().out)["Resources"]


def test_more_resources_than_cloudformation_allows_is_one_line(tmp_path, capsys, monkeypatch):
    # No catalog today reaches 500 resources; a lower troposphere limit stands in for a larger
    # configuration. troposphere raises while the template is built, before our own count.
    import troposphere

    monkeypatch.setattr(troposphere, "MAX_RESOURCES", 20)
    out = tmp_path / "stack.json"
    assert main(["--out", str(out)]) == 2
    assert one_error_line(capsys) == (
        'generate.py: error: rules: "more than 20 resources" is not allowed; '
        "at most 20 per template; or use --kind conformance-pack"
    )
    assert list(tmp_path.iterdir()) == []


# --- a custom settings file does not replace the committed template -----------------------------


def test_settings_without_out_go_to_build_not_to_the_committed_template(
    tmp_path, capsys, monkeypatch
):
    import compliance_template.generator.cli as cli

    monkeypatch.setattr(cli, "BUILD_DIR", tmp_path / "build")
    committed = (ROOT / "templates" / "compliance-monitoring.json").read_bytes()
    settings = tmp_path / "my-account.json"
    settings.write_text(json.dumps({"rules": ["S3_BUCKET_VERSIONING_ENABLED"]}))
    assert main(["--settings", str(settings)]) == 0
    written = tmp_path / "build" / "my-account.json"
    assert capsys.readouterr().err.strip() == f"generate.py: wrote {written}"
    rules = [
        r["Properties"]["Source"]["SourceIdentifier"]
        for r in json.loads(written.read_text())["Resources"].values()
        if r["Type"] == "AWS::Config::ConfigRule"
    ]
    assert rules == ["S3_BUCKET_VERSIONING_ENABLED"]
    assert (ROOT / "templates" / "compliance-monitoring.json").read_bytes() == committed


def test_help_says_where_a_settings_file_is_written():
    help_text = " ".join(run("--help").stdout.split())
    assert "with --settings FILE, build/<FILE's name without .json>.json" in help_text
    assert "build/<name>-<kind>.json for another kind" in help_text


def test_each_kind_defaults_to_its_own_committed_template():
    """Without --out, `--kind org-member` must not write its template over the stack's."""
    from compliance_template.generator.cli import KINDS, default_out
    from compliance_template.generator.committed import COMMITTED

    for kind in KINDS:
        out = default_out(None, None, kind)
        assert out.parent == ROOT / "templates" and COMMITTED[out.name] == (kind, None), kind


def test_one_settings_file_gives_each_kind_a_file_of_its_own():
    from compliance_template.generator.cli import KINDS, default_out

    outs = {default_out(Path("my-rules.json"), None, kind) for kind in KINDS}
    assert len(outs) == len(KINDS)
    assert all(out.parent.name == "build" for out in outs)
    assert default_out(Path("my-rules.json"), None, "stack").name == "my-rules.json"
    assert default_out(Path("my-rules.json"), None, "org-member").name == "my-rules-org-member.json"


def test_out_keeps_the_permissions_of_the_file_it_replaces(tmp_path):
    from compliance_template.output import write_atomically

    private = tmp_path / "private.json"
    private.write_text("old")
    private.chmod(0o600)
    write_atomically(private, "new")
    assert private.read_text() == "new"
    assert stat.S_IMODE(private.stat().st_mode) == 0o600
    fresh = tmp_path / "fresh.json"
    write_atomically(fresh, "new")
    assert stat.S_IMODE(fresh.stat().st_mode) == 0o644
