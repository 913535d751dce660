"""Deploying the current templates over the released ones replaces no stateful resource."""

from __future__ import annotations

import copy
import json

import pytest
from template_helpers import TEMPLATES

from compliance_template.deploy.update_safety import (
    RELEASED_DIR,
    Change,
    load_acknowledged,
    main,
    replacing_changes,
    unacknowledged,
)


def released(name: str = "compliance-monitoring.json") -> dict:
    return json.loads((RELEASED_DIR / name).read_text())


@pytest.mark.parametrize("path", sorted(TEMPLATES.glob("*.json")), ids=lambda p: p.name)
def test_current_templates_replace_nothing_unacknowledged(path):
    baseline = RELEASED_DIR / path.name
    assert baseline.exists(), f"no released copy of {path.name}"
    current = json.loads(path.read_text())
    assert unacknowledged(path.name, released(path.name), current, load_acknowledged()) == []


def test_renaming_a_stateful_resource_is_caught():
    before = released()
    after = copy.deepcopy(before)
    after["Resources"]["ReportsBucketV2"] = after["Resources"].pop("ReportsBucket")
    assert replacing_changes(before, after) == [Change("ReportsBucket", "removed")]


def test_changing_the_type_of_any_resource_under_its_logical_id_is_caught():
    """CloudFormation refuses such an update ("Update of resource type is not permitted"), so
    stateless resources count too: an inline policy that becomes a managed policy needs a new
    logical id."""
    before = released()
    after = copy.deepcopy(before)
    after["Resources"]["ProcessingPolicy"]["Type"] = "AWS::IAM::ManagedPolicy"
    assert replacing_changes(before, after) == [Change("ProcessingPolicy", "type")]
    assert "refuses" in Change("ProcessingPolicy", "type").describe()


def test_changing_a_create_only_property_is_caught():
    before = released()
    after = copy.deepcopy(before)
    after["Resources"]["ProcessingLogGroup"]["Properties"]["LogGroupName"] = "/other"
    after["Resources"]["DeadLetterQueue"]["Properties"]["FifoQueue"] = True
    after["Resources"]["ComplianceKey"]["Properties"]["KeySpec"] = "RSA_2048"
    assert replacing_changes(before, after) == [
        Change("ComplianceKey", "KeySpec"),
        Change("DeadLetterQueue", "FifoQueue"),
        Change("ProcessingLogGroup", "LogGroupName"),
    ]


def test_in_place_changes_and_stateless_resources_pass():
    before = released()
    after = copy.deepcopy(before)
    after["Resources"]["ReportsBucket"]["Properties"]["VersioningConfiguration"] = {
        "Status": "Suspended"
    }
    after["Resources"].pop("ComplianceDashboard")
    assert replacing_changes(before, after) == []


def test_acknowledged_changes_pass_and_need_a_reason(tmp_path):
    before = released()
    after = copy.deepcopy(before)
    after["Resources"]["ProcessingLogGroup"]["Properties"]["LogGroupName"] = "/other"
    ack = tmp_path / "acknowledged.json"
    entry = {"template": "t.json", "logical_id": "ProcessingLogGroup", "what": "LogGroupName"}
    ack.write_text(json.dumps([{**entry, "reason": "logs are kept 90 days elsewhere; ok"}]))
    assert unacknowledged("t.json", before, after, load_acknowledged(ack)) == []
    ack.write_text(json.dumps([{**entry, "reason": "ok"}]))
    with pytest.raises(ValueError, match="needs a reason"):
        load_acknowledged(ack)


def test_cli_reports_and_fails(tmp_path, capsys):
    assert main([str(TEMPLATES / "compliance-monitoring.json")]) == 0
    broken = json.loads((TEMPLATES / "compliance-monitoring.json").read_text())
    del broken["Resources"]["NotificationTopic"]
    path = tmp_path / "compliance-monitoring.json"
    path.write_text(json.dumps(broken))
    assert main([str(path)]) == 1
    assert "NotificationTopic: removed or renamed" in capsys.readouterr().out
