"""`make emulator`: the plain AWS CLI packages and deploys our template against the emulator
server exactly as against AWS, and the server stops cleanly on SIGINT and SIGTERM."""

from __future__ import annotations

import json
import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from template_helpers import TEMPLATES

from compliance_template.deploy.account import find_aws_cli
from compliance_template.local.emulator import DUMMY_CREDENTIALS
from compliance_template.local.server import client_environment

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
URL = re.compile(r"http://127\.0\.0\.1:(\d+)")
STARTUP_SECONDS = 60


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def port_is_free(port: int) -> bool:
    """Nothing listens there (a connection is refused) and the port can be bound again."""
    with socket.socket() as client:
        if client.connect_ex(("127.0.0.1", port)) == 0:
            return False
    with socket.socket() as again:
        again.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        again.bind(("127.0.0.1", port))
    return True


def local_environment(**extra: str) -> dict[str, str]:
    """This environment without any AWS setting of the developer, plus dummy credentials."""
    kept = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    return {
        **kept,
        **DUMMY_CREDENTIALS,
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        **extra,
    }


def start_server(port: int, **extra_env: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "compliance_template.local.server", "--port", str(port)],
        cwd=ROOT,
        env=local_environment(**extra_env),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@dataclass
class Server:
    process: subprocess.Popen
    url: str
    port: int

    def stop(self, signum: int) -> tuple[int, str]:
        self.process.send_signal(signum)
        out, _ = self.process.communicate(timeout=30)
        return self.process.returncode, out


def wait_for_url(process: subprocess.Popen) -> str:
    """The endpoint the server prints once it answers; fails with its stderr if it exits."""
    lines: queue.Queue[str] = queue.Queue()

    def read() -> None:
        for line in process.stdout:
            lines.put(line)
            if URL.search(line):
                return
        lines.put("")

    threading.Thread(target=read, daemon=True).start()
    while True:
        line = lines.get(timeout=STARTUP_SECONDS)
        if match := URL.search(line):
            return match.group(0)
        if not line:
            pytest.fail(f"the emulator exited: {process.wait(timeout=10)}: {process.stderr.read()}")


@pytest.fixture
def server() -> Iterator[Server]:
    port = free_port()
    process = start_server(port)
    try:
        yield Server(process, wait_for_url(process), port)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate(timeout=30)


def readme_commands() -> tuple[str, list[str]]:
    """The README's export line and the commands after it, in "Your own client ..."."""
    section = README.split("### Your own client against the emulator", 1)[1]
    block = re.findall(r"```sh\n(.*?)```", section, flags=re.DOTALL)[1]
    export, *commands = block.strip().splitlines()
    return export, commands


def aws(url: str, *args: str, cwd: Path = ROOT) -> str:
    result = subprocess.run(
        [find_aws_cli(), *args],
        cwd=cwd,
        env=local_environment(AWS_ENDPOINT_URL=url, AWS_DEFAULT_REGION="us-east-1"),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, (args, result.stdout[-2000:], result.stderr[-2000:])
    return result.stdout


def test_the_readme_commands_package_and_deploy_then_sigint_stops_the_server(server, tmp_path):
    assert server.url == f"http://127.0.0.1:{server.port}"
    export, commands = readme_commands()
    assert export == client_environment(4566)
    (tmp_path / "templates").symlink_to(TEMPLATES)
    (tmp_path / "functions").symlink_to(ROOT / "functions")
    for command in commands:
        words = command.split()
        if words[0] == "mkdir":
            (tmp_path / words[-1]).mkdir(parents=True, exist_ok=True)
            continue
        assert words[0] == ".venv/bin/aws", command
        # Run from a scratch folder beside the repository's templates, so build/ stays clean.
        out = aws(server.url, *words[1:], cwd=tmp_path)
    assert "cloudformation describe-stacks" in command
    assert json.loads(out)["Stacks"][0]["StackStatus"] == "CREATE_COMPLETE"
    packaged = yaml.safe_load((tmp_path / "build" / "packaged.yaml").read_text(encoding="utf-8"))
    code = [
        r["Properties"]["Code"]
        for r in packaged["Resources"].values()
        if r["Type"] == "AWS::Lambda::Function"
    ]
    assert len(code) == 3 and all(c["S3Bucket"] == "artifacts" for c in code), code
    assert len(json.loads(aws(server.url, "lambda", "list-functions"))["Functions"]) == 3

    exit_code, out = server.stop(signal.SIGINT)
    assert exit_code == 0
    assert out.rstrip().endswith("emulator: stopped")
    assert port_is_free(server.port)


def test_sigterm_stops_the_server_cleanly(server):
    exit_code, _ = server.stop(signal.SIGTERM)
    assert exit_code == 0
    assert port_is_free(server.port)


@pytest.mark.parametrize(("under_make", "names"), [("1", "PORT="), ("", "--port")])
def test_a_port_in_use_is_one_line_naming_port_and_exit_2(under_make, names):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        process = start_server(port, COMPLIANCE_TEMPLATE_MAKE=under_make)
        out, err = process.communicate(timeout=STARTUP_SECONDS)
    assert process.returncode == 2
    assert out == ""
    assert err.count("\n") == 1 and err.startswith("emulator: error: port ")
    assert f"port {port} on 127.0.0.1 is in use" in err and names in err


def test_make_emulator_passes_port_and_prints_how_to_point_a_client():
    dry_run = subprocess.run(
        ["make", "-n", "emulator", "PORT=4567"], cwd=ROOT, capture_output=True, text=True
    )
    assert "compliance_template.local.server --port 4567" in dry_run.stdout
    assert client_environment(4567) == (
        "export AWS_ENDPOINT_URL=http://127.0.0.1:4567 AWS_ACCESS_KEY_ID=testing "
        "AWS_SECRET_ACCESS_KEY=testing AWS_DEFAULT_REGION=us-east-1"
    )
