"""Controls: a framework's mapping (where AWS documents one) groups its rules as it deploys them."""

from __future__ import annotations

from compliance_template.generator import controls
from compliance_template.generator.frameworks import frameworks

MAPPING = {
    "cis-aws-v1.4-level1": {
        "source": "https://docs.aws.amazon.com/config/latest/developerguide/operational-best-practices-for-cis_aws_benchmark_level_1.html",
        "readOn": "2026-12-01",
        "complete": False,
        "controls": {
            "1.1": {
                "title": "Contact details",
                "rules": ["process:account-contact-details-configured"],
            },
            "1.8": {"title": "Password length", "rules": ["IAM_PASSWORD_POLICY"]},
            "9.9": {"title": "Not in the pack", "rules": ["EKS_ENDPOINT_NO_PUBLIC_ACCESS"]},
        },
    }
}


def test_controls_name_the_suffixes_the_framework_deploys(monkeypatch):
    monkeypatch.setattr(controls, "mappings", lambda: MAPPING)
    framework = frameworks()["cis-aws-v1.4-level1"]
    grouped = controls.controls_of(framework)
    assert grouped["1.1"] == {
        "title": "Contact details",
        "rules": ["account-contact-details-configured"],
    }
    assert grouped["1.8"]["rules"] == ["iam-password-policy"]
    # A rule the pack does not deploy maps to nothing, and the check that keeps the data
    # honest names it.
    assert grouped["9.9"]["rules"] == []
    assert controls.unmapped_rules(framework) == ["EKS_ENDPOINT_NO_PUBLIC_ACCESS"]


def test_a_framework_without_a_mapping_has_no_controls(monkeypatch):
    monkeypatch.setattr(controls, "mappings", lambda: MAPPING)
    assert controls.controls_of(frameworks()["hipaa-security"]) == {}


def test_every_committed_mapping_names_only_rules_its_pack_deploys():
    for name, framework in frameworks().items():
        assert controls.unmapped_rules(framework) == [], name
