"""`make deploy` and `make destroy`: the AWS CLI commands that deploy the stack, and their runner.

The commands are built by pure functions (tested argument by argument) and run as subprocesses of
the AWS CLI, so what runs is exactly what docs/deploy.md shows. The same code deploys to a real
account and to the local emulator (`compliance_template/local/cycle.py`); only the environment
differs.

Deploy: preflight, then the artifact bucket (given, or `compliance-artifacts-<account>-<region>`
created on first use), then `aws cloudformation package` and `aws cloudformation deploy` with
every parameter from the template's defaults and the parameter file, with the stack events shown
while CloudFormation works, and the outputs at the end. Destroy: `delete-stack`, wait, then report
the resources kept by `DeletionPolicy: Retain` (bucket and key) instead of deleting them.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import re
import shutil
import subprocess
import sys
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from ..extras import extra_of, install_hint, missing_extra

try:
    import boto3
    from botocore.config import Config
    from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError, NoRegionError
except ModuleNotFoundError as missing:  # installed without this subpackage's extra
    raise missing_extra(extra_of(__package__), missing) from None

from ..errors import SettingsError
from ..packaging import PackagingError, build_zip
from ..paths import BUILD_DIR, TEMPLATES_DIR
from . import invocation, preflight
from .inputs import load_inputs
from .invocation import check_regions, option, set_credentials_hint, set_region_hint

DEFAULT_TEMPLATE = TEMPLATES_DIR / "compliance-monitoring.json"
DEFAULT_STACK = "compliance-monitoring"
# The roles have no custom names, so CAPABILITY_IAM (not NAMED_IAM) is the whole grant.
CAPABILITIES = ("CAPABILITY_IAM",)
BUCKET_NAME = re.compile(r"(?!xn--)(?!.*\.\.)[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
STACK_NAME = re.compile(r"[A-Za-z][A-Za-z0-9-]{0,127}")
RETRIES = Config(retries={"mode": "standard", "max_attempts": 5})
POLL_SECONDS = 5.0


class DeployError(Exception):
    """A problem the user can fix; reported as one line, never as a traceback."""

    def __init__(self, message: str, exit_code: int = 2) -> None:
        super().__init__(message)
        self.exit_code = exit_code


@dataclass(frozen=True)
class Target:
    """Where the stack goes. region/profile None: the AWS CLI's own configuration decides."""

    stack_name: str = DEFAULT_STACK
    region: str | None = None
    profile: str | None = None


# --- command builders (pure) ------------------------------------------------------------------


def cli_globals(target: Target) -> list[str]:
    return [*(["--region", target.region] if target.region else [])] + (
        ["--profile", target.profile] if target.profile else []
    )


def default_artifact_bucket(account: str, region: str) -> str:
    return f"compliance-artifacts-{account}-{region}"


def create_bucket_commands(aws: str, bucket: str, region: str, target: Target) -> list[list[str]]:
    """Create the artifact bucket: private, in the stack's region (Lambda reads code only there)."""
    create = [aws, "s3api", "create-bucket", "--bucket", bucket, *cli_globals(target)]
    if region != "us-east-1":  # us-east-1 rejects an explicit LocationConstraint
        create += ["--create-bucket-configuration", f"LocationConstraint={region}"]
    block = [
        aws,
        "s3api",
        "put-public-access-block",
        "--bucket",
        bucket,
        "--public-access-block-configuration",
        "BlockPublicAcls=true,IgnorePublicAcls=true,BlockPublicPolicy=true,"
        "RestrictPublicBuckets=true",
        *cli_globals(target),
    ]
    return [create, block]


def package_command(
    aws: str, staged_template: Path, bucket: str, packaged: Path, target: Target
) -> list[str]:
    return [
        aws,
        "cloudformation",
        "package",
        "--template-file",
        str(staged_template),
        "--s3-bucket",
        bucket,
        "--s3-prefix",
        target.stack_name,
        "--output-template-file",
        str(packaged),
        # JSON, so the packaged template can be read back (package writes YAML by default).
        "--use-json",
        *cli_globals(target),
    ]


def deploy_command(
    aws: str, packaged: Path, bucket: str, parameters: Mapping[str, str], target: Target
) -> list[str]:
    """Every parameter is passed explicitly: a name missing from the file gets the template's
    default, not the value of the previous deploy (the CLI's UsePreviousValue), so the file and
    the template alone say what the stack runs with."""
    return [
        aws,
        "cloudformation",
        "deploy",
        "--template-file",
        str(packaged),
        "--stack-name",
        target.stack_name,
        # The template is larger than the 51,200 bytes CloudFormation accepts inline.
        "--s3-bucket",
        bucket,
        "--s3-prefix",
        target.stack_name,
        "--capabilities",
        *CAPABILITIES,
        # A deploy that changes nothing is a success, not exit code 255.
        "--no-fail-on-empty-changeset",
        "--parameter-overrides",
        *[f"{name}={value}" for name, value in sorted(parameters.items())],
        *cli_globals(target),
    ]


def deploy_commands(
    aws: str,
    staged_template: Path,
    bucket: str,
    packaged: Path,
    parameters: Mapping[str, str],
    target: Target,
) -> list[list[str]]:
    return [
        package_command(aws, staged_template, bucket, packaged, target),
        deploy_command(aws, packaged, bucket, parameters, target),
    ]


def destroy_commands(aws: str, target: Target) -> list[list[str]]:
    stack = ["--stack-name", target.stack_name, *cli_globals(target)]
    return [
        [aws, "cloudformation", "delete-stack", *stack],
        [aws, "cloudformation", "wait", "stack-delete-complete", *stack],
    ]


def stage_template(template_path: Path, staging_dir: Path) -> Path:
    """A copy of the template whose functions' Code points at byte-identical zips.

    `aws cloudformation package` would zip each folder itself, with file timestamps and any
    __pycache__ in it, so every run would upload "new" code; `packaging.build_zip` leaves those
    out and fixes timestamps, so unchanged code keeps its S3 key and CloudFormation sees no change.
    """
    template = json.loads(template_path.read_text(encoding="utf-8"))
    staging_dir.mkdir(parents=True, exist_ok=True)
    for logical_id, resource in sorted(template.get("Resources", {}).items()):
        code = resource.get("Properties", {}).get("Code")
        if resource.get("Type") != "AWS::Lambda::Function" or not isinstance(code, str):
            continue
        folder = (template_path.parent / code).resolve()
        if not (folder / "app.py").is_file():
            raise DeployError(f"{logical_id}: {folder} has no app.py (the handler app.handler)")
        try:
            (staging_dir / f"{logical_id}.zip").write_bytes(build_zip(folder))
        except PackagingError as error:
            raise DeployError(f"{logical_id}: {error}") from None
        resource["Properties"]["Code"] = f"{logical_id}.zip"
    staged = staging_dir / "template.json"
    staged.write_text(json.dumps(template, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return staged


# --- what is shown ----------------------------------------------------------------------------


def format_event(event: Mapping[str, Any]) -> str:
    stamp = event["Timestamp"]
    when = stamp.strftime("%H:%M:%S") if hasattr(stamp, "strftime") else str(stamp)
    reason = event.get("ResourceStatusReason") or ""
    line = (
        f"  {when}  {event['ResourceStatus']:<30} {event['LogicalResourceId']:<42} "
        f"{event.get('ResourceType', '')}"
    )
    return f"{line}  {reason}".rstrip() if reason else line.rstrip()


def format_outputs(outputs: Sequence[Mapping[str, Any]]) -> str:
    if not outputs:
        return "Stack outputs: none"
    width = max(len(o["OutputKey"]) for o in outputs)
    rows = [
        f"  {o['OutputKey']:<{width}}  {o['OutputValue']}"
        for o in sorted(outputs, key=lambda o: o["OutputKey"])
    ]
    return "\n".join(["Stack outputs:", *rows])


class EventWatcher:
    """Prints the stack's new events, oldest first, each time `poll` is called.

    Events that exist when the watcher is made (earlier deploys) are not shown.
    """

    def __init__(self, cloudformation: Any, stack_name: str, out: TextIO) -> None:
        self._cloudformation = cloudformation
        self._stack_name = stack_name
        self._out = out
        self._seen: set[str] = set()
        self._seen = {e["EventId"] for e in self._newest_unseen()}

    def poll(self) -> None:
        for event in reversed(self._newest_unseen()):
            self._seen.add(event["EventId"])
            print(format_event(event), file=self._out, flush=True)

    def _newest_unseen(self) -> list[dict]:
        fresh: list[dict] = []
        try:
            pages = self._cloudformation.get_paginator("describe_stack_events").paginate(
                StackName=self._stack_name
            )
            for page in pages:  # newest first: stop at the first event already seen
                for event in page["StackEvents"]:
                    if event["EventId"] in self._seen:
                        return fresh
                    fresh.append(event)
        except ClientError as error:
            if "does not exist" not in str(error):  # not created yet: nothing to show
                raise
        return fresh


# --- running ----------------------------------------------------------------------------------


def find_aws_cli() -> str:
    """The AWS CLI next to this interpreter (the project's pinned one), else the one on PATH."""
    beside = Path(sys.executable).parent / "aws"
    if beside.is_file():
        return str(beside)
    found = shutil.which("aws")
    if found is None:
        raise DeployError(f"the AWS CLI (aws) is not installed: {install_hint('deploy')}")
    return found


@dataclass
class Runner:
    """Runs AWS CLI commands; the environment (and so the endpoint) is the caller's."""

    out: TextIO = sys.stdout
    env: Mapping[str, str] | None = None

    def run(self, command: Sequence[str], watch: Callable[[], None] | None = None) -> None:
        """Run one command, relaying its output; `watch` is called every few seconds meanwhile."""
        print(f"$ {_shown(command)}", file=self.out, flush=True)
        process = subprocess.Popen(
            list(command),
            env=dict(self.env) if self.env is not None else None,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        relay = threading.Thread(target=self._relay, args=(process.stdout,), daemon=True)
        relay.start()
        try:
            while process.poll() is None:
                if watch is not None:
                    watch()
                with contextlib.suppress(subprocess.TimeoutExpired):
                    process.wait(timeout=POLL_SECONDS if watch is not None else None)
            relay.join()
            if watch is not None:
                watch()
        finally:
            if process.poll() is None:  # interrupted: leave no CLI process behind
                process.kill()
                process.wait()
        if process.returncode != 0:
            raise DeployError(f"`{_shown(command[:3])}` failed with exit code {process.returncode}")

    def _relay(self, stream: TextIO) -> None:
        # Text mode turns the upload progress's carriage returns into lines; keep the last one.
        for line in stream:
            text = line.strip()
            if text and not (text.startswith("Uploading to ") and not text.endswith("%)")):
                print(f"  {text}", file=self.out, flush=True)


def _shown(command: Sequence[str]) -> str:
    parts = [Path(command[0]).name, *command[1:]]
    return " ".join(p if p and " " not in p else repr(p) for p in parts)


@dataclass(frozen=True)
class DeployRequest:
    target: Target
    template: Path = DEFAULT_TEMPLATE
    parameters: Path | None = None
    artifact_bucket: str | None = None
    build_dir: Path = BUILD_DIR
    run_preflight: bool = True


def deploy(request: DeployRequest, runner: Runner, session: boto3.Session) -> list[dict]:
    """Preflight, package and deploy; returns the stack outputs. Raises DeployError."""
    target = request.target
    region = _region(session)
    inputs = _inputs(request)
    check_bucket_name(request.artifact_bucket)
    if session.get_credentials() is None:
        raise DeployError(f"no AWS credentials: {set_credentials_hint()}")
    if request.run_preflight:
        code = preflight.main(_preflight_args(request, region))
        if code != 0:
            raise DeployError(f"preflight failed (exit code {code}); nothing deployed", code)
    aws = find_aws_cli()
    bucket = ensure_artifact_bucket(request.artifact_bucket, session, region, runner, aws, target)
    work = request.build_dir / target.stack_name
    staged = stage_template(request.template, work / "staged")
    packaged = work / "packaged.json"
    package, deploy_cli = deploy_commands(aws, staged, bucket, packaged, inputs.parameters, target)
    runner.run(package)
    cloudformation = session.client("cloudformation", config=RETRIES)
    watcher = EventWatcher(cloudformation, target.stack_name, runner.out)
    print(f"Deploying stack {target.stack_name} to {region}; stack events:", file=runner.out)
    runner.run(deploy_cli, watch=watcher.poll)
    outputs = stack_outputs(cloudformation, target.stack_name)
    print(format_outputs(outputs), file=runner.out, flush=True)
    return outputs


def ensure_artifact_bucket(
    given: str | None,
    session: boto3.Session,
    region: str,
    runner: Runner,
    aws: str,
    target: Target,
) -> str:
    check_bucket_name(given)
    s3 = session.client("s3", config=RETRIES)
    bucket = given or default_artifact_bucket(_account(session), region)
    try:
        head = s3.head_bucket(Bucket=bucket)
    except ClientError as error:
        code = str(error.response.get("Error", {}).get("Code", ""))
        if code in ("403", "AccessDenied"):
            raise DeployError(
                f"artifact bucket {bucket} exists but this account cannot use it: "
                "choose another name"
            ) from None
        if code not in ("404", "NoSuchBucket", "NotFound"):
            raise
        if given is not None:
            raise DeployError(
                f"artifact bucket {bucket} does not exist: create it in {region}, "
                "or leave the bucket empty to create compliance-artifacts-<account>-<region>"
            ) from None
        print(f"Creating artifact bucket {bucket} in {region}", file=runner.out)
        for command in create_bucket_commands(aws, bucket, region, target):
            runner.run(command)
        return bucket
    located = head.get("ResponseMetadata", {}).get("HTTPHeaders", {}).get("x-amz-bucket-region")
    if located and located != region:
        raise DeployError(
            f"artifact bucket {bucket} is in {located}, the stack in {region}: Lambda reads code "
            "only from its own region; use a bucket there"
        )
    return bucket


def check_bucket_name(name: str | None) -> None:
    if name is not None and not BUCKET_NAME.fullmatch(name):
        raise DeployError(
            str(
                SettingsError(
                    option("--artifact-bucket"),
                    name,
                    "an S3 bucket name (3-63 lower-case letters, digits, dots, hyphens); "
                    "leave it empty to use compliance-artifacts-<account>-<region>",
                )
            )
        )


def stack_outputs(cloudformation: Any, stack_name: str) -> list[dict]:
    stacks = cloudformation.describe_stacks(StackName=stack_name)["Stacks"]
    return list(stacks[0].get("Outputs") or [])


@dataclass(frozen=True)
class Retained:
    logical_id: str
    resource_type: str
    physical_id: str
    still_exists: bool | None  # None: could not check


def destroy(target: Target, runner: Runner, session: boto3.Session) -> list[Retained]:
    """Delete the stack, wait, and report what DeletionPolicy Retain kept. Raises DeployError."""
    _region(session)
    cloudformation = session.client("cloudformation", config=RETRIES)
    try:
        summaries = [
            r
            for page in cloudformation.get_paginator("list_stack_resources").paginate(
                StackName=target.stack_name
            )
            for r in page["StackResourceSummaries"]
        ]
        body = cloudformation.get_template(StackName=target.stack_name)["TemplateBody"]
        stack_id = cloudformation.describe_stacks(StackName=target.stack_name)["Stacks"][0][
            "StackId"
        ]
    except ClientError as error:
        if "does not exist" in str(error):
            raise DeployError(
                f"stack {target.stack_name} does not exist in {session.region_name}"
            ) from None
        raise
    template = body if isinstance(body, dict) else json.loads(body)
    kept = retained_resources(template, summaries)
    aws = find_aws_cli()
    # By id: a deleted stack's events stay readable by id, not by name.
    watcher = EventWatcher(cloudformation, stack_id, runner.out)
    delete, wait = destroy_commands(aws, target)
    runner.run(delete)
    runner.run(wait, watch=watcher.poll)
    checked = [
        Retained(r.logical_id, r.resource_type, r.physical_id, _exists(session, r)) for r in kept
    ]
    print(format_retained(checked), file=runner.out, flush=True)
    return checked


def retained_resources(
    template: Mapping[str, Any], summaries: Sequence[Mapping[str, Any]]
) -> list[Retained]:
    """The stack's resources that CloudFormation keeps when it deletes the stack."""
    resources = template.get("Resources", {})
    return [
        Retained(s["LogicalResourceId"], s["ResourceType"], s["PhysicalResourceId"], None)
        for s in sorted(summaries, key=lambda s: s.get("LogicalResourceId", ""))
        if s.get("PhysicalResourceId")
        and resources.get(s["LogicalResourceId"], {}).get("DeletionPolicy") == "Retain"
    ]


HAND_DELETE = {
    "AWS::S3::Bucket": "empty it (every object version), then "
    "`aws s3api delete-bucket --bucket {id}`",
    "AWS::KMS::Key": "`aws kms schedule-key-deletion --key-id {id} --pending-window-in-days 30` "
    "once nothing encrypted with it is needed",
}


def format_retained(kept: Sequence[Retained]) -> str:
    if not kept:
        return "Retained resources: none"
    lines = ["Retained (DeletionPolicy Retain), not deleted:"]
    for r in kept:
        state = {True: "still exists", False: "not found", None: "not checked"}[r.still_exists]
        lines.append(f"  {r.logical_id} ({r.resource_type}) {r.physical_id}: {state}")
        how = HAND_DELETE.get(r.resource_type)
        if how and r.still_exists:
            lines.append(f"    to delete by hand: {how.format(id=r.physical_id)}")
    return "\n".join(lines)


def _exists(session: boto3.Session, resource: Retained) -> bool | None:
    try:
        if resource.resource_type == "AWS::S3::Bucket":
            session.client("s3", config=RETRIES).head_bucket(Bucket=resource.physical_id)
            return True
        if resource.resource_type == "AWS::KMS::Key":
            key = session.client("kms", config=RETRIES).describe_key(KeyId=resource.physical_id)
            return key["KeyMetadata"]["KeyState"] not in ("PendingDeletion",)
    except ClientError as error:
        code = str(error.response.get("Error", {}).get("Code", ""))
        if code in ("404", "NoSuchBucket", "NotFoundException"):
            return False
        return None
    return None


def _inputs(request: DeployRequest) -> Any:
    try:
        return load_inputs(request.template, request.parameters)
    except SettingsError as error:
        raise DeployError(str(error)) from None


def _preflight_args(request: DeployRequest, region: str) -> list[str]:
    args = ["--template", str(request.template), "--stack-name", request.target.stack_name]
    args += ["--region", region]
    if request.parameters is not None:
        args += ["--parameters", str(request.parameters)]
    if request.target.profile:
        args += ["--profile", request.target.profile]
    return args


def _region(session: boto3.Session) -> str:
    if not session.region_name:
        raise DeployError(f"no region: {set_region_hint()}")
    try:
        check_regions([session.region_name], "--region")
    except SettingsError as error:
        raise DeployError(str(error)) from None
    return session.region_name


def _account(session: boto3.Session) -> str:
    return str(session.client("sts", config=RETRIES).get_caller_identity()["Account"])


def session_for(target: Target) -> boto3.Session:
    try:
        return invocation.session(target.profile, target.region)
    except SettingsError as error:  # e.g. a profile that does not exist
        raise DeployError(str(error)) from None


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m compliance_template.deploy.account",
        description="Deploy or delete the compliance stack with the AWS CLI.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    deploy_parser = commands.add_parser("deploy", help="preflight, package, deploy")
    destroy_parser = commands.add_parser("destroy", help="delete the stack (keeps bucket and key)")
    for sub in (deploy_parser, destroy_parser):
        sub.add_argument("--stack-name", default=DEFAULT_STACK)
        sub.add_argument("--region", help="default: the AWS CLI's configured region")
        sub.add_argument("--profile", help="AWS CLI profile (default: the environment's)")
    deploy_parser.add_argument("--template", type=Path, default=DEFAULT_TEMPLATE)
    deploy_parser.add_argument(
        "--parameters", type=Path, help='parameter file: {"Parameters": {"Name": "value"}}'
    )
    deploy_parser.add_argument(
        "--artifact-bucket",
        help="bucket for the packaged code, in the stack's region "
        "(default: compliance-artifacts-<account>-<region>, created on first use)",
    )
    deploy_parser.add_argument("--build-dir", type=Path, default=BUILD_DIR)
    args = parser.parse_args(argv)
    # An empty value (e.g. `make deploy ARTIFACT_BUCKET=`) means "not given".
    bucket = args.artifact_bucket if getattr(args, "artifact_bucket", None) else None
    if not STACK_NAME.fullmatch(args.stack_name):
        return _fail(
            str(
                SettingsError(
                    option("--stack-name"),
                    args.stack_name,
                    "1-128 letters, digits and hyphens, starting with a letter",
                )
            )
        )
    target = Target(args.stack_name, args.region or None, args.profile or None)
    runner = Runner()
    try:
        session = session_for(target)
        if args.command == "deploy":
            request = DeployRequest(target, args.template, args.parameters, bucket, args.build_dir)
            deploy(request, runner, session)
        else:
            destroy(target, runner, session)
    except DeployError as error:
        return _fail(str(error), error.exit_code)
    except NoRegionError:
        return _fail(f"no region: {set_region_hint()}")
    except NoCredentialsError:
        return _fail(f"no AWS credentials: {set_credentials_hint()}")
    except (ClientError, BotoCoreError) as error:
        return _fail(str(error))
    except KeyboardInterrupt:
        return _fail("interrupted", 130)
    return 0


def _fail(message: str, code: int = 2) -> int:
    print(f"deploy: error: {message}", file=sys.stderr)
    return code


if __name__ == "__main__":
    sys.exit(main())
