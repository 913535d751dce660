"""Findings we suppress on purpose, each with the reason a reviewer needs to accept it.

cfn-lint reads `Metadata.cfn-lint.config.ignore_checks`; the reason for each id sits beside it
under `Metadata.Suppressions`, and a test fails when an ignored check has no reason.
"""

from __future__ import annotations


def cfn_lint_metadata(**reasons: str) -> dict[str, object]:
    return {
        "cfn-lint": {"config": {"ignore_checks": sorted(reasons)}},
        "Suppressions": {"cfn-lint": dict(sorted(reasons.items()))},
    }
