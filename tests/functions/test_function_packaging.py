"""How the function folders are laid out for ``aws cloudformation package`` and kept in step."""

from __future__ import annotations

import ast
import os

import decide
import pytest
import rulebook
from conftest import FUNCTION_NAMES, FUNCTIONS

from compliance_template.catalog import CATALOG

SHARED = FUNCTIONS / "_shared"


@pytest.mark.parametrize("function", FUNCTION_NAMES)
def test_each_folder_is_self_contained_with_relative_symlinks_to_the_shared_modules(function):
    folder = FUNCTIONS / function
    local = {path.stem for path in folder.glob("*.py")}
    for path in folder.glob("*.py"):
        if path.is_symlink():
            target = os.readlink(path)
            assert target == f"../_shared/{path.name}", path
            assert path.resolve().parent == SHARED
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names = (
                [alias.name for alias in node.names]
                if isinstance(node, ast.Import)
                else [node.module]
                if isinstance(node, ast.ImportFrom) and node.module
                else []
            )
            for name in names:
                top = name.split(".")[0]
                allowed = top in local or top in ("boto3", "botocore", "__future__")
                assert allowed or top in _stdlib(), f"{path.name} imports {name}"


def _stdlib():
    import sys

    return sys.stdlib_module_names


def test_only_app_and_shared_modules_share_a_name_across_functions():
    owners: dict[str, set[str]] = {}
    for function in FUNCTION_NAMES:
        for path in (FUNCTIONS / function).glob("*.py"):
            if not path.is_symlink():
                owners.setdefault(path.name, set()).add(function)
    assert {name for name, found in owners.items() if len(found) > 1} == {"app.py"}


def test_rule_texts_match_the_catalog():
    catalog = {rule.identifier: rule.description for rule in CATALOG}
    assert {k: v.description for k, v in rulebook.RULES.items()} == catalog


def test_remediation_covers_exactly_the_rules_the_catalog_says_it_remediates():
    assert set(decide.PLANNERS) == {rule.identifier for rule in CATALOG if rule.remediation}
    for identifier, (resource_type, _) in decide.PLANNERS.items():
        assert (resource_type,) == next(
            r.resource_types for r in CATALOG if r.identifier == identifier
        )
