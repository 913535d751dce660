"""The functions' rulebook, generated from the catalog and the frameworks: what each rule checks,
what a person should do about a finding, the resource types it evaluates, what remediation does,
which rule every rule-name suffix deploys, and each framework's rules (and controls, where AWS
documents them). It is the same for every stack, so the functions' zips are too: a function
derives a rule's identity from its name (<RuleNamePrefix>-<suffix>) and the stack's frameworks
from FRAMEWORKS, and nothing in its configuration grows with the rule count.

The functions run without this package, so `make template` writes these facts to
functions/_shared/rulebook.json (read by functions/_shared/rulebook.py, packaged with every
function); a test fails when the committed file differs from what the catalog gives.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..output import write_atomically
from ..paths import FUNCTIONS_DIR
from .catalog import CATALOG
from .controls import controls_of
from .frameworks import frameworks
from .ssm_documents import remediation_for

RULEBOOK_FILE = FUNCTIONS_DIR / "_shared" / "rulebook.json"
GENERATED_NOTE = (
    "Generated from src/compliance_template/generator/catalog.py by `make template`; "
    "edit the catalog, not this file."
)


def rulebook() -> dict[str, Any]:
    names = {rule.slug: rule.identifier for rule in CATALOG}
    for framework in frameworks().values():
        names.update((rule.suffix, rule.identifier) for rule in framework.rules)
    return {
        "generated": GENERATED_NOTE,
        "rules": {
            rule.identifier: {
                "description": rule.description,
                "whatToDo": rule.what_to_do,
                "resourceTypes": list(rule.resource_types),
                # None: the rule has no automatic remediation (and no remediation rule module).
                "remediation": rule.remediation,
                "manual": rule.manual,
                "severity": rule.severity.value,
                # The AWS-owned Automation document of the `ssm` engine, named in notifications
                # when the stack deploys that engine for the rule (SSM_REMEDIATION).
                **_ssm_document(rule.identifier),
            }
            for rule in CATALOG
        },
        "names": dict(sorted(names.items())),
        "frameworks": {
            name: {
                "title": framework.title,
                "rules": list(dict.fromkeys(rule.suffix for rule in framework.rules)),
                "controls": controls_of(framework),
            }
            for name, framework in frameworks().items()
        },
    }


def _ssm_document(identifier: str) -> dict[str, str]:
    remediation = remediation_for(identifier)
    return {"ssmDocument": remediation.document.name} if remediation else {}


def render_rulebook() -> str:
    """Sorted keys, a fixed indent and a final newline: the same catalog gives the same bytes."""
    return json.dumps(rulebook(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def write_rulebook(path: Path = RULEBOOK_FILE) -> Path:
    write_atomically(path, render_rulebook())
    return path
