"""Findings we suppress on purpose, each with the reason a reviewer needs to accept it.

cfn-lint reads `Metadata.cfn-lint.config.ignore_checks`; checkov reads `Metadata.checkov.skip`
(id and comment). The reasons for cfn-lint checks sit beside them under `Metadata.Suppressions`,
and a test fails when an ignored check has no reason.
"""

from __future__ import annotations

from collections.abc import Mapping

# Security-scanner checks we skip, by resource type: (check id, reason a reviewer accepts).
SCANNER_SKIPS: Mapping[str, tuple[tuple[str, str], ...]] = {}


def cfn_lint_metadata(**reasons: str) -> dict[str, object]:
    return {
        "cfn-lint": {"config": {"ignore_checks": sorted(reasons)}},
        "Suppressions": {"cfn-lint": dict(sorted(reasons.items()))},
    }


def scanner_metadata(resource_type: str) -> dict[str, object]:
    """The checkov skips for a resource of this type, or nothing."""
    skips = SCANNER_SKIPS.get(resource_type, ())
    if not skips:
        return {}
    return {"checkov": {"skip": [{"id": check, "comment": reason} for check, reason in skips]}}
