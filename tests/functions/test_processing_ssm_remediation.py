"""Processing with AWS-native remediation (SSM_REMEDIATION): an exempt failure of an ssm-engine
rule becomes a Config remediation exception expiring with its exemption; in enforce mode a
non-exempt failure of a rule processing starts is started; failures are retried like every side
effect. Against in-process moto plus the emulator's Config remediation operations."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
import ssm_remediation
from botocore.exceptions import ClientError
from conftest import ACCOUNT, REGION, lambda_context, load_app
from exemption_helpers import exemption, store
from function_events import change_event

from compliance_template.local import remediation as emulated

processing = load_app("processing")
RULE = "compliance-encrypted-volumes"
VOLUME = "vol-0123456789abcdef0"


@pytest.fixture
def config(world):
    """Config with the rule deployed, a remediation configuration for it, and the volume
    recorded NON_COMPLIANT (AWS places exceptions only on NON_COMPLIANT resources)."""
    results: dict[str, list[dict]] = {}
    with emulated.remediation_additions(results):
        client = world.aws.client("config")
        client.put_config_rule(
            ConfigRule={
                "ConfigRuleName": RULE,
                "Source": {"Owner": "AWS", "SourceIdentifier": "ENCRYPTED_VOLUMES"},
            }
        )
        client.put_remediation_configurations(
            RemediationConfigurations=[
                {
                    "ConfigRuleName": RULE,
                    "TargetType": "SSM_DOCUMENT",
                    "TargetId": "AWSConfigRemediation-EncryptEBSVolume",
                    "Automatic": False,
                }
            ]
        )
        results[RULE] = [_result("NON_COMPLIANT")]
        calls: list[str] = []
        client.meta.events.register(
            "before-call.config-service.*", lambda model, **_: calls.append(model.name)
        )
        world.config, world.config_calls = client, calls
        yield client


def _result(compliance: str) -> dict:
    return {
        "EvaluationResultIdentifier": {
            "EvaluationResultQualifier": {
                "ConfigRuleName": RULE,
                "ResourceType": "AWS::EC2::Volume",
                "ResourceId": VOLUME,
            },
            "OrderingTimestamp": 0,
        },
        "ComplianceType": compliance,
    }


def engine(world, start="config", mode="enforce"):
    world.monkeypatch.setenv("SSM_REMEDIATION", json.dumps({"ENCRYPTED_VOLUMES": start}))
    world.monkeypatch.setenv("REMEDIATION_MODE", mode)


def run(event, request_id="req-1"):
    return processing.handler(event, lambda_context(request_id))


def exceptions(world):
    return world.config.describe_remediation_exceptions(ConfigRuleName=RULE)[
        "RemediationExceptions"
    ]


def executions(world):
    return world.config.describe_remediation_execution_status(ConfigRuleName=RULE)[
        "RemediationExecutionStatuses"
    ]


def record(world):
    [key] = world.keys("compliance-changes/")
    return world.read_json(key)


@pytest.mark.parametrize("start", ["config", "processing"])
def test_an_exempt_failure_gets_a_remediation_exception_expiring_with_the_exemption(
    world, config, start
):
    engine(world, start)
    store(world, exemption(expires="2099-03-01"))
    result = run(change_event("NON_COMPLIANT", "COMPLIANT"))
    assert result["sent"] == ["remediation-exception"]
    [placed] = exceptions(world)
    assert placed["ResourceType"] == "AWS::EC2::Volume" and placed["ResourceId"] == VOLUME
    assert placed["ExpirationTime"] == datetime(2099, 3, 1, tzinfo=UTC)
    assert placed["Message"] == (
        "Exempt by build-volumes (owner build-infra@example.com): scratch volumes of the "
        "build fleet"
    )
    assert record(world)["status"] == "EXEMPT" and executions(world) == []


def test_a_duplicate_delivery_puts_nothing_twice_and_a_redelivery_the_same_exception(world, config):
    engine(world)
    store(world, exemption(expires="2099-03-01"))
    run(change_event("NON_COMPLIANT", "COMPLIANT"))
    assert run(change_event("NON_COMPLIANT", "COMPLIANT"), "req-2")["status"] == "duplicate"
    assert world.config_calls.count("PutRemediationExceptions") == 1
    # The same request again (Lambda's retry of the same request id) leaves one exception.
    run(change_event("NON_COMPLIANT", "COMPLIANT"))
    assert world.config_calls.count("PutRemediationExceptions") == 2
    assert len(exceptions(world)) == 1


def test_an_exception_config_refuses_is_recorded_incomplete_and_raised(world, config):
    engine(world)
    store(world, exemption(expires="2099-03-01"))
    config_results = {RULE: [_result("COMPLIANT")]}  # Config sees the volume compliant now
    with (
        emulated.remediation_additions(config_results),
        pytest.raises(ssm_remediation.RemediationFailed, match="NON_COMPLIANT"),
    ):
        run(change_event("NON_COMPLIANT", "COMPLIANT"))
    delivery = record(world)["delivery"]
    assert delivery["incomplete"] == ["remediation-exception"]
    assert "RemediationFailed" in delivery["lastError"]
    # The retry (Config now agrees the volume is NON_COMPLIANT) finishes it and clears the list.
    assert run(change_event("NON_COMPLIANT", "COMPLIANT"), "req-2")["status"] == "recovered"
    assert "incomplete" not in record(world)["delivery"] and len(exceptions(world)) == 1


def test_enforce_starts_the_remediation_of_a_non_exempt_failure_processing_starts(world, config):
    engine(world, "processing", "enforce")
    result = run(change_event("NON_COMPLIANT", "COMPLIANT"))
    assert result["sent"] == ["notification", "remediation-execution"]
    [started] = executions(world)
    assert started["ResourceKey"] == {"resourceType": "AWS::EC2::Volume", "resourceId": VOLUME}
    assert started["State"] == "QUEUED" and exceptions(world) == []
    [sent] = world.notifications()
    assert "the processing function starts it automatically" in sent["message"]


@pytest.mark.parametrize(("start", "mode"), [("config", "enforce"), ("processing", "dry-run")])
def test_nothing_is_started_where_config_starts_it_or_the_mode_is_not_enforce(
    world, config, start, mode
):
    engine(world, start, mode)
    result = run(change_event("NON_COMPLIANT", "COMPLIANT"))
    assert result["sent"] == ["notification"] and world.config_calls == []
    assert executions(world) == []


def test_a_start_config_refuses_is_raised_so_the_event_is_retried(world, config):
    engine(world, "processing", "enforce")
    world.config.delete_remediation_configuration(ConfigRuleName=RULE)
    with pytest.raises(ClientError, match="NoSuchRemediationConfiguration"):
        run(change_event("NON_COMPLIANT", "COMPLIANT"))
    assert record(world)["delivery"]["incomplete"] == ["remediation-execution"]


def test_start_checks_failed_items():
    class Refusing:
        def start_remediation_execution(self, **request):
            return {"FailedItems": request["ResourceKeys"], "FailureMessage": "already compliant"}

    request = ssm_remediation.execution_request(RULE, "AWS::EC2::Volume", VOLUME)
    with pytest.raises(ssm_remediation.RemediationFailed, match="already compliant"):
        ssm_remediation.start_execution(Refusing(), request)


def test_dry_run_tells_the_operator_how_to_start_it_with_the_runbook(world, config):
    engine(world, "config", "dry-run")
    run(change_event("NON_COMPLIANT", "COMPLIANT"))
    [sent] = world.notifications()
    assert "AWS Config remediation" in sent["message"]
    assert "choose Remediate on rule compliance-encrypted-volumes" in sent["message"]
    assert (
        "aws configservice start-remediation-execution --config-rule-name "
        "compliance-encrypted-volumes --resource-keys "
        f"resourceType=AWS::EC2::Volume,resourceId={VOLUME}"
    ) in sent["message"]


def test_the_notification_names_the_document_the_rulebook_gives(world, config, monkeypatch):
    import rulebook

    named = rulebook.text("ENCRYPTED_VOLUMES")._replace(
        ssm_document="AWSConfigRemediation-EncryptEBSVolume"
    )
    monkeypatch.setitem(rulebook.rules(), "ENCRYPTED_VOLUMES", named)
    engine(world, "config", "enforce")
    run(change_event("NON_COMPLIANT", "COMPLIANT"))
    [sent] = world.notifications()
    assert (
        "AWS Config remediation with SSM Automation runbook "
        "AWSConfigRemediation-EncryptEBSVolume: AWS Config starts it automatically"
    ) in sent["message"]


def test_rules_without_the_ssm_engine_call_no_config_api(world, config):
    result = run(change_event("NON_COMPLIANT", "COMPLIANT"))
    assert result["sent"] == ["notification"] and world.config_calls == []
    [sent] = world.notifications()
    assert "Automatic remediation: Not enabled for this rule." in sent["message"]


def test_exception_request_without_expiry_and_with_a_long_reason():
    request = ssm_remediation.exception_request(
        RULE,
        "AWS::EC2::Volume",
        VOLUME,
        {"id": "tag:compliance:exempt", "owner": "", "reason": "x" * 2000},
    )
    assert "ExpirationTime" not in request
    assert len(request["Message"]) == ssm_remediation.MESSAGE_MAX
    assert request["Message"].startswith("Exempt by tag:compliance:exempt (owner unknown): x")


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("SSM_REMEDIATION", '{"ENCRYPTED_VOLUMES": "lambda"}'),
        ("SSM_REMEDIATION", '["ENCRYPTED_VOLUMES"]'),
        ("REMEDIATION_MODE", "on"),
    ],
)
def test_a_wrong_setting_names_the_variable(world, name, value):
    import settings

    world.monkeypatch.setenv(name, value)
    with pytest.raises(settings.ConfigurationError, match=f"environment variable {name} is"):
        run(change_event())


def test_unset_means_no_ssm_rule_and_mode_off():
    import changes

    config = changes.load_settings(
        {
            "REPORTS_BUCKET": "bucket-name",
            "TOPIC_ARN": f"arn:aws:sns:{REGION}:{ACCOUNT}:t",
            "RULE_NAME_PREFIX": "compliance",
        }
    )
    assert config.ssm_remediation == {} and config.remediation_mode == "off"
