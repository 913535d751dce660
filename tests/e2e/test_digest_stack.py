"""A stack with a digest rule, generated from settings and deployed on the emulator: changes of
the rule are not notified one by one; the digest job, invoked as its schedule invokes it, sends
one message listing them and nothing more when run again."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from e2e_handlers import Notifications, compliance_change_event, run_handler

from compliance_template.generator.cli import main
from compliance_template.local.cycle import INITIAL_PARAMETERS, LocalStack, local_stack

SETTINGS = {"rules": ["ENCRYPTED_VOLUMES", "S3_BUCKET_SERVER_SIDE_ENCRYPTION_ENABLED"],
            "digest": ["ENCRYPTED_VOLUMES"]}  # fmt: skip
DAY = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("digest")
    settings, out = folder / "digest.json", folder / "digest-stack.json"
    settings.write_text(json.dumps(SETTINGS), encoding="utf-8")
    assert main(["--settings", str(settings), "--out", str(out)]) == 0
    return out


@pytest.fixture(scope="module")
def stack(template: Path) -> Iterator[LocalStack]:
    with local_stack(template) as running:
        running.account_setup()
        running.deploy_stack(INITIAL_PARAMETERS, "digest")
        yield running


@pytest.fixture(scope="module")
def notifications(stack: LocalStack) -> Notifications:
    return Notifications(stack)


def _rule(stack: LocalStack, suffix: str) -> str:
    return f"{stack.parameters['RuleNamePrefix']}-{suffix}"


def test_the_stack_has_the_digest_schedule_and_processing_knows_the_rule(stack):
    rule = stack.client("events").describe_rule(Name=stack.physical["DigestScheduleRule"])
    assert rule["ScheduleExpression"] == stack.parameters["DigestSchedule"] == "rate(1 hour)"
    name = stack.physical["ProcessingFunction"]
    variables = stack.client("lambda").get_function_configuration(FunctionName=name)
    assert json.loads(variables["Environment"]["Variables"]["DIGEST_RULES"]) == [
        "ENCRYPTED_VOLUMES"
    ]


def test_changes_of_a_digest_rule_wait_and_one_digest_lists_them(stack, notifications):
    notifications.received()
    volumes = _rule(stack, "encrypted-volumes")
    for number in range(3):
        event = compliance_change_event(
            volumes, "AWS::EC2::Volume", f"vol-{number}", DAY + timedelta(minutes=number)
        )
        assert run_handler(stack, "processing", event)["status"] == "recorded"
    # Another rule is notified at once, as before.
    buckets = _rule(stack, "s3-bucket-server-side-encryption-enabled")
    run_handler(stack, "processing", compliance_change_event(buckets, "AWS::S3::Bucket", "b", DAY))
    [immediate] = notifications.received()
    assert immediate["MessageAttributes"]["ruleName"]["Value"] == buckets

    result = run_handler(stack, "processing", {"kind": "digest"})
    assert len(result["sent"]) == 1, result
    [digest] = notifications.received()
    assert digest["Subject"] == f"Digest: {volumes}: 3 non-compliant, 0 resolved"[:80]
    assert digest["MessageAttributes"]["notificationType"]["Value"] == "compliance-digest"
    for number in range(3):
        assert f"AWS::EC2::Volume vol-{number}" in digest["Message"]
    # Sent and deleted: the next run sends nothing.
    assert run_handler(stack, "processing", {"kind": "digest"})["sent"] == []
    assert notifications.received() == []
