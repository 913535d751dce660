"""`make deploy-local`: the demonstration runs deploy, update, unchanged redeploy and delete on
the emulator with the same commands as `make deploy`, and cleans up when a step fails. What each
step must leave is checked in tests/e2e/."""

from __future__ import annotations

import io
import re
import subprocess
import sys
import time
from pathlib import Path

from emulator_helpers import port_open
from template_helpers import ROOT

from compliance_template.local.cycle import REGION, STACK, Step, run_cycle
from compliance_template.local.emulator import ACCOUNT_ID


def emulator_port(output: str) -> int:
    return int(re.search(r"moto on 127\.0\.0\.1:(\d+)", output).group(1))


def test_make_deploy_local_deploys_updates_and_deletes_within_two_minutes():
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "compliance_template.local.cycle"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    elapsed = time.monotonic() - started
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-4000:]
    done = re.findall(r"^\[done\] ([a-z]+) \(", output, re.M)
    assert done == ["account", "deploy", "update", "redeploy", "destroy"]
    assert elapsed < 120
    # The same commands as `make deploy`, against the emulator.
    assert "$ aws cloudformation package" in output and "--use-json" in output
    assert "$ aws cloudformation deploy" in output and "$ aws cloudformation delete-stack" in output
    assert re.search(r"^\[done\] update .*: updated: .*ReportRetentionDays", output, re.M)
    assert "No changes to deploy" in output
    assert "Retained (DeletionPolicy Retain), not deleted:" in output
    assert output.rstrip().splitlines()[-1].startswith("emulator stopped")
    assert not port_open(emulator_port(output))
    # No AWS CLI process outlives the cycle: none still names its work directory.
    work = re.search(r"(/\S*deploy-local-[^/\s]+)/", output).group(1)
    assert not Path(work).exists()
    processes = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True, check=True)
    assert work not in processes.stdout


def test_a_failing_step_still_deletes_the_stack_and_stops_the_emulator():
    out = io.StringIO()

    def steps(stack):
        def fail() -> str:
            raise RuntimeError("injected failure")

        return [
            Step("account", stack.account_setup),
            Step("deploy", stack.create),
            Step("breaks", fail),
            Step("never", lambda: "ran"),
        ]

    assert run_cycle(out=out, steps=steps) is False
    text = out.getvalue()
    assert "[done] deploy" in text
    assert "[FAIL] breaks: RuntimeError: injected failure" in text
    assert "never" not in text
    assert f"cleanup: delete-stack {STACK} requested" in text
    assert "emulator stopped" in text
    assert not port_open(emulator_port(text))
    from moto.cloudformation.models import cloudformation_backends

    live = [s.name for s in cloudformation_backends[ACCOUNT_ID][REGION].stacks.values()]
    assert STACK not in live


def test_a_missing_template_is_a_usage_error(tmp_path, capsys):
    from compliance_template.local.cycle import main

    assert main(["--template", str(tmp_path / "none.json")]) == 2
    assert "run `make template`" in capsys.readouterr().err
