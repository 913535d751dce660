"""What the remediation tests of the account, member and pack templates share: the rules they
use and one settings exemption, built on a fixed day so the exemption is always valid."""

from __future__ import annotations

from datetime import date

from compliance_template.generator.settings import Settings

ENCRYPTION = "S3_BUCKET_SERVER_SIDE_ENCRYPTION_ENABLED"
PUBLIC_READ = "S3_BUCKET_PUBLIC_READ_PROHIBITED"
EXEMPTION = {
    "id": "legacy",
    "rules": [ENCRYPTION],
    "resources": ["legacy-bucket"],
    "reason": "migrating",
    "owner": "security",
    "granted": "2026-12-01",
    "expires": "2026-12-30",
}


def settings(**raw) -> Settings:
    return Settings.from_mapping(raw, today=date(2026, 12, 2))
