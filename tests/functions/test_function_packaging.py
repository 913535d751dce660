"""How the function folders are laid out for ``aws cloudformation package`` and kept in step."""

from __future__ import annotations

import ast
import io
import os
import subprocess
import sys
import zipfile

import pytest
import rulebook
from conftest import FUNCTION_NAMES, FUNCTIONS

from compliance_template.generator.catalog import CATALOG
from compliance_template.generator.ssm_documents import remediation_for
from compliance_template.packaging import build_zip

SHARED = FUNCTIONS / "_shared"


@pytest.mark.parametrize("function", FUNCTION_NAMES)
def test_each_folder_is_self_contained_with_relative_symlinks_to_the_shared_modules(function):
    folder = FUNCTIONS / function
    # Top-level modules and packages (such as remediation's rules/) are the function's own.
    local = {path.stem for path in folder.glob("*.py")} | {
        path.parent.name for path in folder.glob("*/__init__.py")
    }
    for path in folder.glob("*"):
        if path.is_symlink():
            target = os.readlink(path)
            assert target == f"../_shared/{path.name}", path
            assert path.resolve().parent == SHARED
    for path in folder.rglob("*.py"):
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


@pytest.mark.parametrize("function", FUNCTION_NAMES)
def test_every_shared_file_is_in_every_function(function):
    """The rulebook's data file too: the loader reads it beside itself."""
    shared = {path.name for path in SHARED.iterdir() if path.is_file()}
    assert "rulebook.json" in shared
    assert shared <= {path.name for path in (FUNCTIONS / function).iterdir()}


def test_the_rulebook_the_functions_read_holds_the_catalog():
    """The catalog's rules keep their facts; the rulebook also holds every rule a framework
    deploys, which remediation does not know (``remediation`` null)."""
    assert {rule.identifier for rule in CATALOG} <= set(rulebook.rules())
    for rule in CATALOG:
        assert rulebook.text(rule.identifier) == rulebook.Rule(
            rule.description,
            rule.what_to_do,
            rule.resource_types,
            rule.remediation,
            rule.manual,
            rule.severity.value,
            remediation.document.name
            if (remediation := remediation_for(rule.identifier))
            else None,
        )
        # A listed rule is named after its identifier.
        assert rulebook.names()[rule.slug] == rule.identifier
    assert rulebook.text("NOT_A_CATALOG_RULE").what_to_do == "Read the rule's runbook."


def test_every_name_and_framework_of_the_rulebook_resolves():
    names, rules = rulebook.names(), rulebook.rules()
    assert set(names.values()) <= set(rules)
    assert {i for i, rule in rules.items() if rule.remediation} <= {r.identifier for r in CATALOG}
    for name, framework in rulebook.frameworks().items():
        assert framework.title and framework.rules, name
        assert len(set(framework.rules)) == len(framework.rules), name
        assert set(framework.rules) <= set(names), name
        for control in framework.controls.values():
            assert set(control.rules) <= set(names), name


@pytest.mark.parametrize("function", FUNCTION_NAMES)
def test_the_packaged_function_reads_its_rulebook(function, tmp_path):
    """Unzipped as Lambda unzips it, away from the repository: the rulebook loads from the zip."""
    with zipfile.ZipFile(io.BytesIO(build_zip(FUNCTIONS / function))) as archive:
        assert {"rulebook.py", "rulebook.json"} <= set(archive.namelist())
        archive.extractall(tmp_path)
    probe = (
        f"import sys; sys.path.insert(0, {str(tmp_path)!r}); import rulebook; "
        "print(rulebook.text('ENCRYPTED_VOLUMES').description)"
    )
    # Isolated: neither the repository nor the test's sys.path can supply the module.
    result = subprocess.run(
        [sys.executable, "-I", "-c", probe], cwd=tmp_path, capture_output=True, text=True
    )
    assert result.stdout == "Attached EBS volumes are encrypted.\n", result.stderr
