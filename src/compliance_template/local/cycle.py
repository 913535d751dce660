"""`make deploy-local`: the stack deployed, updated, deployed again unchanged and deleted on moto
on 127.0.0.1, with dummy credentials, printing each step as it goes.

Each step runs the same code as `make deploy` and `make destroy` (preflight, package, deploy,
delete) against the emulator. Whatever happens, the stack is deleted and the emulator stopped
before the command ends. What the deployed stack is checked for (resources, wiring, the function
handlers, no replacement on update) is the test suite's job: tests/e2e/ runs these same steps
through `local_stack` and checks each one (docs/deploy.md).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from ..extras import extra_of, missing_extra

try:
    import boto3
except ModuleNotFoundError as missing:  # installed without this subpackage's extra
    raise missing_extra(extra_of(__package__), missing) from None

from ..deploy import account as deploy
from ..deploy.account import DeployRequest, Runner, Target
from .emulator import ACCOUNT_ID, Emulator
from .remediation import DESCRIBE_MAX

STACK = "compliance-local"
REGION = "eu-west-1"
INITIAL_PARAMETERS = {"NotificationEmail": "security@example.com"}
# Changed on update, each to the first of its values that differs from the one deployed (the
# template's default may be either): each reaches properties CloudFormation updates in place.
UPDATE_CANDIDATES = {
    "ReportRetentionDays": ("90", "30"),
    "LogRetentionDays": ("30", "90"),
    "LogLevel": ("DEBUG", "INFO"),
    "NonCompliantThreshold": ("5", "3"),
    "RemediationMode": ("off", "dry-run"),
}


def parameters_in_effect(
    template: Mapping[str, Any],
    given: Mapping[str, str],
    previous: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """Each parameter's value in a stack deployed with `given`: given, else the value of the
    previous deploy (`aws cloudformation deploy` keeps a parameter it is not given), else the
    template's default."""
    declared = template.get("Parameters", {})
    values = {name: str(spec["Default"]) for name, spec in declared.items() if "Default" in spec}
    values.update({name: value for name, value in (previous or {}).items() if name in declared})
    return {**values, **{name: value for name, value in given.items() if name in declared}}


def updated_parameters(in_effect: Mapping[str, str]) -> dict[str, str]:
    """The initial parameters plus, for each updated one, a value other than the one in effect."""
    updates = {
        name: next(value for value in candidates if value != in_effect.get(name))
        for name, candidates in UPDATE_CANDIDATES.items()
    }
    return {**INITIAL_PARAMETERS, **updates}


@contextlib.contextmanager
def environment(values: Mapping[str, str]) -> Iterator[None]:
    """os.environ replaced by `values` for the block (boto3 and the handlers read it)."""
    saved = dict(os.environ)
    saved_session = boto3.DEFAULT_SESSION
    os.environ.clear()
    os.environ.update(values)
    boto3.DEFAULT_SESSION = None  # built from the environment at first use
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)
        boto3.DEFAULT_SESSION = saved_session


@dataclass
class LocalStack:
    """The stack on the emulator, as last deployed: what each step leaves for the next to use."""

    emulator: Emulator
    work: Path
    out: TextIO
    session: boto3.Session
    template: Path = deploy.DEFAULT_TEMPLATE
    deployed: bool = False
    physical: dict[str, str] = field(default_factory=dict)
    types: dict[str, str] = field(default_factory=dict)
    stack_template: dict[str, Any] = field(default_factory=dict)
    outputs: dict[str, str] = field(default_factory=dict)
    # Every parameter's value in the deployed stack (parameters_in_effect).
    parameters: dict[str, str] = field(default_factory=dict)
    # The parameters the last deploy was given.
    given: dict[str, str] = field(default_factory=dict)

    def client(self, service: str) -> Any:
        return self.session.client(service)

    def account_setup(self) -> str:
        """A recorder and delivery channel, as the target account has (the template needs one
        unless CreateConfigRecorder=true)."""
        s3, config = self.client("s3"), self.client("config")
        s3.create_bucket(
            Bucket=f"{STACK}-config", CreateBucketConfiguration={"LocationConstraint": REGION}
        )
        config.put_configuration_recorder(
            ConfigurationRecorder={
                "name": "default",
                "roleARN": f"arn:aws:iam::{ACCOUNT_ID}:role/config-recorder",
                "recordingGroup": {"allSupported": True, "includeGlobalResourceTypes": False},
            }
        )
        config.put_delivery_channel(
            DeliveryChannel={"name": "default", "s3BucketName": f"{STACK}-config"}
        )
        config.start_configuration_recorder(ConfigurationRecorderName="default")
        return "recorder 'default' recording all types, delivery channel 'default'"

    def deploy_stack(
        self, parameters: Mapping[str, str], name: str, out: TextIO | None = None
    ) -> list[dict]:
        """`make deploy` with `parameters` (written to <work>/<name>.json), then the stack read
        back: its resources, deployed template, outputs and parameters in effect."""
        path = self.work / f"{name}.json"
        path.write_text(json.dumps({"Parameters": dict(parameters)}), encoding="utf-8")
        request = DeployRequest(
            Target(STACK, REGION), self.template, path, None, self.work / "build"
        )
        self.deployed = True  # from here on, the stack may exist: clean up in any case
        outputs = deploy.deploy(request, Runner(out=out or self.out), self.session)
        self._read_stack()
        self.parameters = parameters_in_effect(self.stack_template, parameters, self.parameters)
        self.outputs = {o["OutputKey"]: o["OutputValue"] for o in outputs}
        self.given = dict(parameters)
        return outputs

    def create(self) -> str:
        outputs = self.deploy_stack(INITIAL_PARAMETERS, "parameters")
        return (
            f"deployed: {len(self.physical)} resources, {len(outputs)} outputs; "
            f"{self.remediations()}"
        )

    def update(self) -> str:
        """Deployed again with changed parameters (UPDATE_CANDIDATES)."""
        before = dict(self.parameters)
        self.deploy_stack(updated_parameters(before), "parameters-updated")
        changed = sorted(k for k, v in self.parameters.items() if before.get(k) != v)
        shown = ", ".join(f"{k} {before.get(k)}->{self.parameters[k]}" for k in changed)
        return f"updated: {shown}; {self.remediations()}"

    def remediation_configurations(self) -> list[dict[str, Any]]:
        """The Config remediation configurations of the stack's rules, as Config describes them."""
        rules = sorted(
            self.physical[logical]
            for logical, kind in self.types.items()
            if kind == "AWS::Config::ConfigRule" and logical in self.physical
        )
        config = self.client("config")
        return [
            found
            for start in range(0, len(rules), DESCRIBE_MAX)
            for found in config.describe_remediation_configurations(
                ConfigRuleNames=rules[start : start + DESCRIBE_MAX]
            )["RemediationConfigurations"]
        ]

    def remediations(self) -> str:
        """One line: each rule's remediation runbook and whether Config starts it itself."""
        shown = [
            f"{c['ConfigRuleName']} -> {c.get('TargetId')} "
            f"({'automatic' if c.get('Automatic') else 'manual'})"
            for c in self.remediation_configurations()
        ]
        return f"remediation configurations: {', '.join(shown) if shown else 'none'}"

    def redeploy_unchanged(self, out: TextIO | None = None) -> str:
        """The last deploy's code and parameters again: the zips are byte-identical, so the
        packaged template is too, and the deploy is an empty change set, which succeeds."""
        self.deploy_stack(self.given, "parameters-unchanged", out=out)
        return "deployed again unchanged"

    def destroy(self) -> list[deploy.Retained]:
        kept = deploy.destroy(Target(STACK, REGION), Runner(out=self.out), self.session)
        self.deployed = False
        return kept

    def _read_stack(self) -> None:
        cloudformation = self.client("cloudformation")
        pages = cloudformation.get_paginator("list_stack_resources").paginate(StackName=STACK)
        summaries = [r for page in pages for r in page["StackResourceSummaries"]]
        # moto lists resources whose condition is false with empty fields: not part of the stack.
        self.physical = {
            r["LogicalResourceId"]: r["PhysicalResourceId"]
            for r in summaries
            if r["LogicalResourceId"]
        }
        self.types = {r["LogicalResourceId"]: r["ResourceType"] for r in summaries}
        body = cloudformation.get_template(StackName=STACK)["TemplateBody"]
        self.stack_template = body if isinstance(body, dict) else json.loads(body)

    def cleanup(self) -> None:
        """After a failure: delete the stack if it may exist (best effort)."""
        if not self.deployed:
            return
        try:
            self.client("cloudformation").delete_stack(StackName=STACK)
        except Exception as error:  # report, then stop the emulator all the same
            print(f"cleanup: deleting stack {STACK} failed: {error}", file=self.out)
        else:
            print(f"cleanup: delete-stack {STACK} requested", file=self.out)
        for line in self.emulator.server_errors[-3:]:
            print(f"cleanup: emulator error: {line}", file=self.out)


@contextlib.contextmanager
def local_stack(
    template: Path = deploy.DEFAULT_TEMPLATE, out: TextIO = sys.stdout
) -> Iterator[LocalStack]:
    """The emulator running, boto3 and the AWS CLI pointed at it, for a stack not yet deployed.
    On leaving, a stack still deployed is deleted and the emulator stopped, whatever happened."""
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="deploy-local-") as work:
        emulator = Emulator(region=REGION)
        emulator.start()
        try:
            print(f"emulator: moto on 127.0.0.1:{emulator.port}, region {REGION}", file=out)
            with environment(emulator.environment(os.environ)):
                stack = LocalStack(
                    emulator, Path(work), out, boto3.Session(region_name=REGION), template
                )
                try:
                    yield stack
                finally:
                    stack.cleanup()
        finally:
            emulator.stop()
            print(f"emulator stopped ({time.monotonic() - started:.1f}s in all)", file=out)


@dataclass(frozen=True)
class Step:
    name: str
    run: Callable[[], str]


def steps_of(stack: LocalStack) -> list[Step]:
    return [
        Step("account", stack.account_setup),
        Step("deploy", stack.create),
        Step("update", stack.update),
        Step("redeploy", stack.redeploy_unchanged),
        Step("destroy", lambda: _kept(stack.destroy())),
    ]


def _kept(retained: Sequence[deploy.Retained]) -> str:
    return "deleted; kept: " + ", ".join(r.logical_id for r in retained)


def run_steps(steps: Sequence[Step], out: TextIO) -> bool:
    """Run in order, one line each; stop at the first failure."""
    for step in steps:
        started = time.monotonic()
        try:
            done = step.run()
        except Exception as error:  # any failure ends the demonstration with the reason
            print(f"[FAIL] {step.name}: {type(error).__name__}: {error}", file=out, flush=True)
            return False
        took = time.monotonic() - started
        print(f"[done] {step.name} ({took:.1f}s): {done}", file=out, flush=True)
    return True


def run_cycle(
    out: TextIO = sys.stdout,
    template: Path = deploy.DEFAULT_TEMPLATE,
    steps: Callable[[LocalStack], list[Step]] = steps_of,
) -> bool:
    with local_stack(template, out) as stack:
        return run_steps(steps(stack), out)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m compliance_template.local.cycle",
        description="Deploy, update, redeploy and delete the stack on a local moto emulator "
        "(the checks of each step are the tests in tests/e2e/).",
    )
    parser.add_argument("--template", type=Path, default=deploy.DEFAULT_TEMPLATE)
    args = parser.parse_args(argv)
    if not args.template.is_file():
        print(
            f"deploy-local: error: no template at {args.template}: run `make template`",
            file=sys.stderr,
        )
        return 2
    return 0 if run_cycle(template=args.template) else 1


if __name__ == "__main__":
    sys.exit(main())
