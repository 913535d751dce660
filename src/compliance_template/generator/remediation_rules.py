"""The remediation function's rule modules as the template generator sees them: what each one
declares it reads and writes with, from which the remediation role's policies are built.

The modules are Lambda code (they import the function's other modules and botocore), so they
are not imported here: ``IDENTIFIER``, ``READS`` and ``WRITES`` are literals, read from the
source with ``ast``. The scopes they name are defined in policies.py.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from ..paths import FUNCTIONS_DIR

RULES_DIR = FUNCTIONS_DIR / "remediation" / "rules"
DECLARED = ("IDENTIFIER", "READS", "WRITES")


class DeclarationError(ValueError):
    pass


@dataclass(frozen=True)
class RuleGrants:
    identifier: str
    reads: Mapping[str, tuple[str, ...]]  # scope -> IAM actions
    writes: Mapping[str, tuple[str, tuple[str, ...]]]  # statement Sid -> (scope, IAM actions)


def read_grants(path: Path) -> RuleGrants:
    values: dict[str, object] = {}
    for node in ast.parse(path.read_text(encoding="utf-8"), str(path)).body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target = node.targets[0]
            if isinstance(target, ast.Name) and target.id in DECLARED:
                try:
                    values[target.id] = ast.literal_eval(node.value)
                except ValueError:
                    raise DeclarationError(f"{path}: {target.id} must be a literal") from None
    absent = [name for name in DECLARED if name not in values]
    if absent:
        raise DeclarationError(f"{path}: no {', '.join(absent)}")
    identifier = values["IDENTIFIER"]
    if not isinstance(identifier, str) or identifier.lower() != path.stem:
        raise DeclarationError(f"{path}: IDENTIFIER {identifier!r} does not match the file name")
    reads, writes = values["READS"], values["WRITES"]
    if not isinstance(reads, dict) or not isinstance(writes, dict):
        raise DeclarationError(f"{path}: READS and WRITES must be dicts")
    return RuleGrants(
        identifier,
        {scope: tuple(actions) for scope, actions in reads.items()},
        {sid: (scope, tuple(actions)) for sid, (scope, actions) in writes.items()},
    )


@cache
def declared_grants(directory: Path = RULES_DIR) -> tuple[RuleGrants, ...]:
    """Every rule module's grants, by identifier (a stable order, whatever the file system's)."""
    return tuple(
        read_grants(path) for path in sorted(directory.glob("*.py")) if path.name != "__init__.py"
    )
