"""Preflight's Security Hub check against moto (with the emulator's Security Hub additions):
silent when off; whether Security Hub is enabled; in mode config, whether AWS Config sends it
findings."""

from __future__ import annotations

import boto3
import pytest
from moto import mock_aws
from template_helpers import TEMPLATES
from test_preflight import REGION, enable_config, preflight

from compliance_template.deploy.inputs import load_inputs
from compliance_template.deploy.preflight import (
    CONFIG_INTEGRATION,
    SECURITY_HUB,
    AccountFacts,
    Status,
    check_security_hub,
    gather_facts,
)
from compliance_template.local.security_hub import security_hub_additions


@pytest.fixture
def account(monkeypatch):
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
    }.items():
        monkeypatch.setenv(name, value)
    with mock_aws(), security_hub_additions():
        enable_config(boto3.client("config", region_name=REGION))
        yield boto3.client("securityhub", region_name=REGION)


def line(output: str, check: str) -> str:
    [found] = [row for row in output.splitlines() if row.startswith(check + "  ")]
    return found


def test_off_checks_nothing_and_reads_nothing_of_security_hub(account, tmp_path, capsys):
    code, out = preflight(tmp_path, capsys)
    assert code == 0
    assert "Security Hub" not in out.out
    facts = gather_facts(boto3.Session(region_name=REGION), "compliance-monitoring")
    assert facts.security_hub_enabled is None and facts.security_hub_products is None


def test_a_mode_without_security_hub_enabled_is_an_error(account, tmp_path, capsys):
    code, out = preflight(tmp_path, capsys, SecurityHubFindings="import")
    assert code == 1
    assert "error" in line(out.out, SECURITY_HUB)
    assert f"not enabled in {REGION}" in out.out and "set it to off" in out.out


def test_import_mode_needs_only_security_hub(account, tmp_path, capsys):
    account.enable_security_hub()
    code, out = preflight(tmp_path, capsys, SecurityHubFindings="import")
    assert code == 0
    assert "ok" in line(out.out, SECURITY_HUB)
    assert CONFIG_INTEGRATION not in out.out


def test_config_mode_checks_that_aws_config_sends_findings(account, tmp_path, capsys):
    account.enable_security_hub()
    code, out = preflight(tmp_path, capsys, SecurityHubFindings="config")
    assert code == 0
    assert "on: AWS Config sends findings" in line(out.out, CONFIG_INTEGRATION)

    [subscription] = account.list_enabled_products_for_import()["ProductSubscriptions"]
    account.disable_import_findings_for_product(ProductSubscriptionArn=subscription)
    code, out = preflight(tmp_path, capsys, SecurityHubFindings="config")
    assert code == 1
    row = line(out.out, CONFIG_INTEGRATION)
    assert "error" in row and "SecurityHubFindings=import" in row


def test_a_refused_read_is_a_warning_naming_the_permission():
    inputs = load_inputs(TEMPLATES / "compliance-monitoring.json", None)
    inputs.parameters["SecurityHubFindings"] = "config"
    facts = AccountFacts(
        region=REGION, unreadable={SECURITY_HUB: "missing permission securityhub:DescribeHub"}
    )
    [finding] = check_security_hub(inputs, facts)
    assert finding.status is Status.WARN
    assert finding.detail == "could not check: missing permission securityhub:DescribeHub"
    facts = AccountFacts(
        region=REGION,
        security_hub_enabled=True,
        unreadable={
            CONFIG_INTEGRATION: "missing permission securityhub:ListEnabledProductsForImport"
        },
    )
    ok, warning = check_security_hub(inputs, facts)
    assert ok.status is Status.OK and warning.status is Status.WARN


def test_a_bad_mode_in_the_parameters_file_is_one_line(account, tmp_path, capsys):
    code, out = preflight(tmp_path, capsys, SecurityHubFindings="on")
    assert code == 2
    assert out.err.strip() == (
        'preflight: error: Parameters.SecurityHubFindings: "on" is not allowed; '
        "one of off, config, import"
    )
