"""cfn-lint (ours included) over the ssm engine in every template kind that has it, with
approval runbooks, exemptions and a regional rule, in one region of each partition."""

from __future__ import annotations

from datetime import date

import pytest
from test_lint import FRAMEWORK_REGIONS, findings

from compliance_template.generator.conformance_pack import build_conformance_pack
from compliance_template.generator.organization import build_member_template
from compliance_template.generator.settings import Settings
from compliance_template.generator.template import build_template
from compliance_template.output import render

SETTINGS = {
    "rules": [
        "S3_BUCKET_SERVER_SIDE_ENCRYPTION_ENABLED",
        "S3_BUCKET_PUBLIC_READ_PROHIBITED",
        "ENCRYPTED_VOLUMES",
    ],
    "remediation": {"S3_BUCKET_PUBLIC_READ_PROHIBITED": "ssm"},
    "remediation_approval": {"approvers": ["arn:aws:iam::123456789012:role/Ops", "alice"]},
    "exemptions": [
        {
            "id": "legacy",
            "rules": ["S3_BUCKET_PUBLIC_READ_PROHIBITED"],
            "resources": ["legacy-site"],
            "reason": "public website until the move",
            "owner": "web",
            "granted": "2026-12-01",
            "expires": "2026-12-30",
        }
    ],
}
BUILDERS = {"stack": build_template, "org-member": build_member_template}


@pytest.mark.parametrize("kind", sorted(BUILDERS))
def test_stacks_with_approval_and_exemptions_lint_clean(kind):
    settings = Settings.from_mapping(SETTINGS, today=date(2026, 12, 2))
    assert findings(render(BUILDERS[kind](settings), "json"), FRAMEWORK_REGIONS) == []


def test_the_account_pack_with_its_remediation_bodies_lints_clean():
    settings = Settings.from_mapping(
        {"rules": SETTINGS["rules"][:1] + SETTINGS["rules"][2:]}, today=date(2026, 12, 2)
    )
    assert findings(render(build_conformance_pack(settings), "json"), FRAMEWORK_REGIONS) == []
