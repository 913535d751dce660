"""Each remediation rule module calls AWS only with the IAM actions it declares, and uses them.

The calls are recorded from the rule modules' own ``read`` and ``apply`` against in-process moto,
through botocore's ``before-call`` hook (paginated calls included), and mapped to IAM actions
with the explicit table in iam_actions.py.
"""

from __future__ import annotations

import contextlib
import importlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import boto3
import findings
import pytest
import rules
from botocore.exceptions import ClientError
from conftest import FUNCTIONS, REGION
from function_events import finding
from iam_actions import IAM_ACTIONS

from compliance_template.generator.catalog import CATALOG
from compliance_template.generator.remediation_rules import declared_grants

RULES_DIR = FUNCTIONS / "remediation" / "rules"
REMEDIATED = {rule.identifier: rule for rule in CATALOG if rule.remediation}


def rule_module(identifier: str) -> Any:
    module = rules.for_identifier(identifier)
    assert module is not None, identifier
    return module


def declared(module: Any, kind: str) -> set[str]:
    if kind == "reads":
        return {action for actions in module.READS.values() for action in actions}
    return {action for _, actions in module.WRITES.values() for action in actions}


class Recorder:
    """A client factory like ``aws.client`` that records every operation its clients call."""

    def __init__(self, aws: Any) -> None:
        self._aws = aws
        self._hooked: set[str] = set()
        self.calls: list[tuple[str, str]] = []

    def __call__(self, service: str) -> Any:
        client = self._aws.client(service)
        if service not in self._hooked:
            client.meta.events.register("before-call.*.*", self._record)
            self._hooked.add(service)
        return client

    def _record(self, model: Any, **_: Any) -> None:
        self.calls.append((model.service_model.service_name, model.name))

    def actions(self) -> set[str]:
        missing = [call for call in self.calls if call not in IAM_ACTIONS]
        assert not missing, f"add these operations to iam_actions.py: {missing}"
        return {action for call in self.calls for action in IAM_ACTIONS[call]}


@dataclass(frozen=True)
class Scenario:
    """A resource for the rule to fix, made in moto, and the environment the rule runs with."""

    identifier: str
    resource_type: str
    make: Callable[[Any], str]  # world -> resource id
    env: tuple[tuple[str, str], ...] = ()
    description: str = ""


def _bucket(world: Any) -> str:
    world.s3.create_bucket(Bucket="unencrypted")
    with contextlib.suppress(ClientError):
        world.s3.delete_bucket_encryption(Bucket="unencrypted")
    world.s3.put_bucket_tagging(
        Bucket="unencrypted", Tagging={"TagSet": [{"Key": "team", "Value": "data"}]}
    )
    return "unencrypted"


def _db_instance(world: Any, name: str = "orders") -> str:
    world.aws.client("rds").create_db_instance(
        DBInstanceIdentifier=name,
        DBInstanceClass="db.t3.micro",
        Engine="postgres",
        MasterUsername="admin",
        MasterUserPassword="secret-password-1",
        AllocatedStorage=20,
        BackupRetentionPeriod=0,
    )
    return name


def _db_instance_answered_without_tags(world: Any) -> str:
    """Some RDS answers carry no TagList: the rule then asks for the tags separately."""

    def drop_tags(parsed: dict[str, Any], **_: Any) -> None:
        for db in parsed.get("DBInstances", []):
            db.pop("TagList", None)

    world.aws.client("rds").meta.events.register("after-call.rds.DescribeDBInstances", drop_tags)
    return _db_instance(world, "untagged")


def _volume(world: Any) -> str:
    ec2 = world.aws.client("ec2")
    return ec2.create_volume(AvailabilityZone=f"{REGION}a", Size=8)["VolumeId"]


def _instance(world: Any) -> str:
    ec2 = world.aws.client("ec2")
    spec = {"ImageId": "ami-12c6146b", "MinCount": 1, "MaxCount": 1, "InstanceType": "m5.24xlarge"}
    return ec2.run_instances(**spec)["Instances"][0]["InstanceId"]


SCENARIOS = (
    Scenario("S3_BUCKET_SERVER_SIDE_ENCRYPTION_ENABLED", "AWS::S3::Bucket", _bucket),
    Scenario("DB_INSTANCE_BACKUP_ENABLED", "AWS::RDS::DBInstance", _db_instance),
    Scenario(
        "DB_INSTANCE_BACKUP_ENABLED",
        "AWS::RDS::DBInstance",
        _db_instance_answered_without_tags,
        description="without-tag-list",
    ),
    Scenario(
        "ENCRYPTED_VOLUMES",
        "AWS::EC2::Volume",
        _volume,
        env=(("EBS_DEFAULT_ENCRYPTION", "true"),),
    ),
    Scenario("DESIRED_INSTANCE_TYPE", "AWS::EC2::Instance", _instance),
)


def exercise(world: Any, monkeypatch: Any, scenario: Scenario) -> tuple[set[str], set[str]]:
    """The IAM actions of the calls the rule's ``read`` made, then those its ``apply`` made."""
    for name, value in scenario.env:
        monkeypatch.setenv(name, value)
    resource_id = scenario.make(world)
    module = rule_module(scenario.identifier)
    found = findings.parse_finding(finding(scenario.resource_type, resource_id))
    assert found.identifier == scenario.identifier
    config = findings.load_settings(os.environ)
    recorder = Recorder(world.aws)
    state = module.read(recorder, found, config)
    reads = recorder.actions()
    plan = module.plan(found, state, config)
    assert plan.kind == "act", plan.reason
    recorder.calls.clear()
    module.apply(recorder, plan.action)
    return reads, recorder.actions()


@pytest.mark.parametrize(
    "scenario", SCENARIOS, ids=lambda s: f"{s.identifier}-{s.description}".strip("-")
)
def test_each_call_a_rule_makes_is_one_of_its_declared_actions(world, monkeypatch, scenario):
    module = rule_module(scenario.identifier)
    reads, writes = exercise(world, monkeypatch, scenario)
    assert reads and reads <= declared(module, "reads")
    assert writes and writes <= declared(module, "writes")


def test_every_declared_action_is_used_by_some_call(world, monkeypatch):
    used: set[str] = set()
    for scenario in SCENARIOS:
        reads, writes = exercise(world, monkeypatch, scenario)
        used |= reads | writes
    every = {
        action
        for identifier in REMEDIATED
        for kind in ("reads", "writes")
        for action in declared(rule_module(identifier), kind)
    }
    assert every == used


def test_the_operation_table_names_real_operations_and_real_iam_actions():
    session = boto3.session.Session(region_name=REGION)
    for (service, operation), actions in IAM_ACTIONS.items():
        assert operation in session.client(service).meta.service_model.operation_names
        for action in actions:
            prefix, name = action.split(":")
            assert hasattr(importlib.import_module(f"awacs.{prefix}"), name), action


def test_one_module_per_remediated_catalog_rule():
    modules = {path.stem for path in RULES_DIR.glob("*.py")} - {"__init__"}
    assert modules == {identifier.lower() for identifier in REMEDIATED}
    for identifier, rule in REMEDIATED.items():
        module = rule_module(identifier)
        assert identifier == module.IDENTIFIER
        assert rule.resource_types == (module.RESOURCE_TYPE,)
    assert rules.for_identifier("S3_BUCKET_VERSIONING_ENABLED") is None


def test_the_generator_reads_the_declarations_the_function_runs_with():
    """The template generator reads READS and WRITES from the source; they are what the modules
    hold when imported."""
    for grants in declared_grants():
        module = rule_module(grants.identifier)
        assert grants.reads == {scope: tuple(a) for scope, a in module.READS.items()}
        assert grants.writes == {
            sid: (scope, tuple(actions)) for sid, (scope, actions) in module.WRITES.items()
        }
    assert {grants.identifier for grants in declared_grants()} == set(REMEDIATED)
