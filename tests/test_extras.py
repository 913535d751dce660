"""A plain install generates templates; the deploy and local tooling say which extra they need.

Missing packages are simulated in a fresh interpreter by an import hook that refuses them, as
they would be refused after `pip install compliance-template` without the extra."""

from __future__ import annotations

import ast
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from template_helpers import ROOT

from compliance_template.extras import SUBPACKAGE_EXTRAS, extra_of, install_hint

RUN_WITHOUT = """
import runpy, sys

class Refuse:
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in {blocked!r}:
            raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
        return None

sys.meta_path.insert(0, Refuse())
sys.argv = [{module!r}, *{args!r}]
runpy.{runner}({target!r}, run_name="__main__"{options})
"""


def run_without(blocked: set[str], module: str, *args: str) -> subprocess.CompletedProcess:
    """`python -m module args` without the blocked packages; a .py path runs that script."""
    script = module.endswith(".py")
    code = RUN_WITHOUT.format(
        blocked=blocked,
        module=module,
        args=list(args),
        runner="run_path" if script else "run_module",
        target=module,
        # As `python -m` does: the module is __main__ while it runs.
        options="" if script else ", alter_sys=True",
    )
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120
    )


@pytest.mark.parametrize(
    ("module", "blocked", "extra"),
    [
        ("compliance_template.deploy.account", {"boto3", "botocore"}, "deploy"),
        ("compliance_template.deploy.preflight", {"boto3", "botocore"}, "deploy"),
        ("compliance_template.deploy.org", {"boto3", "botocore"}, "deploy"),
        ("compliance_template.local.cycle", {"boto3", "botocore", "moto"}, "local"),
        ("compliance_template.local.cycle", {"moto"}, "local"),
        ("compliance_template.local.server", {"moto"}, "local"),
    ],
)
def test_a_missing_extra_is_one_line_naming_what_to_install(module, blocked, extra):
    result = run_without(blocked, module, "--help")
    assert result.returncode == 2, result.stderr
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("compliance-template: error: ")
    assert lines[0].endswith(install_hint(extra))
    assert "Traceback" not in result.stderr


def test_generating_templates_needs_no_extra(tmp_path):
    out = tmp_path / "stack.json"
    result = run_without({"boto3", "botocore", "moto", "awscli"}, "generate.py", "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert '"AWSTemplateFormatVersion"' in out.read_text(encoding="utf-8")


def test_an_import_by_other_code_raises_import_error_with_the_hint(monkeypatch):
    monkeypatch.setitem(sys.modules, "boto3", None)  # `import boto3` now fails
    # Imported afresh: the subpackage's __init__ is what checks for the extra.
    for name in ("compliance_template.deploy", "compliance_template.deploy.preflight"):
        monkeypatch.delitem(sys.modules, name, raising=False)
    with pytest.raises(ImportError, match=r"pip install 'compliance-template\[deploy\]'"):
        import compliance_template.deploy.preflight  # noqa: F401


def test_extras_are_declared_pinned_and_nested():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    extras = project["optional-dependencies"]
    assert extras["deploy"] == ["boto3==1.44.8", "awscli==1.46.3"]
    assert extras["local"] == [
        "compliance-template[deploy]",
        "moto[server]==5.2.5",
        "selenium==4.51.0",
    ]
    assert extras["dev"][0] == "compliance-template[deploy,local]"
    for requirement in [*project["dependencies"], *(r for e in extras.values() for r in e)]:
        assert "==" in requirement or requirement.startswith("compliance-template["), requirement
    # A plain install has none of the deploy or local packages.
    assert not any(d.startswith(("boto3", "awscli", "moto")) for d in project["dependencies"])


def test_a_missing_aws_cli_names_the_deploy_extra(monkeypatch, tmp_path):
    from compliance_template.deploy import account as deploy

    monkeypatch.setattr(deploy.sys, "executable", str(tmp_path / "python"))  # no aws beside it
    monkeypatch.setattr(deploy.shutil, "which", lambda name: None)
    with pytest.raises(deploy.DeployError, match=r"pip install 'compliance-template\[deploy\]'"):
        deploy.find_aws_cli()


# What each extra's packages are imported as (boto3 brings botocore; the AWS CLI is a command).
IMPORTED_AS = {
    "troposphere": {"troposphere"},
    "awacs": {"awacs"},
    "cfn-lint": {"cfnlint"},
    "PyYAML": {"yaml"},
    "boto3": {"boto3", "botocore"},
    "awscli": set(),
    "moto[server]": {"moto"},
    "selenium": {"selenium"},
}


def imports_of(extra_requirements: list[str], extras: dict[str, list[str]]) -> set[str]:
    names: set[str] = set()
    for requirement in extra_requirements:
        if requirement.startswith("compliance-template["):  # a nested extra
            for nested in requirement.removeprefix("compliance-template[").rstrip("]").split(","):
                names |= imports_of(extras[nested], extras)
        else:
            names |= IMPORTED_AS[requirement.partition("==")[0]]
    return names


def third_party_imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name.partition(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.partition(".")[0])
    return found - set(sys.stdlib_module_names) - {"compliance_template", "__future__"}


def test_each_subpackage_imports_only_its_extras_packages():
    """The package's top level, generator/ and cfn_rules/ need a plain install; deploy/ the
    deploy extra; local/ the local extra: a module importing anything else fails here."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    extras = project["optional-dependencies"]
    plain = imports_of(project["dependencies"], extras)
    package = ROOT / "src" / "compliance_template"
    for path in package.rglob("*.py"):
        subpackage = path.relative_to(package).parts[0]
        allowed = plain
        if subpackage in SUBPACKAGE_EXTRAS:
            allowed = plain | imports_of(extras[subpackage], extras)
        assert third_party_imports(path) <= allowed, path.relative_to(ROOT)
    assert set(SUBPACKAGE_EXTRAS) <= extras.keys()


def test_the_extra_is_the_subpackages():
    assert extra_of("compliance_template.deploy") == "deploy"
    assert extra_of("compliance_template.local") == "local"
    with pytest.raises(ValueError, match="not a subpackage with an extra"):
        extra_of("compliance_template.cfn_rules")


def test_the_subpackages_are_packaged():
    """pyproject.toml finds the packages under src/: each subpackage is one (an __init__.py)."""
    from setuptools import find_packages

    found = set(find_packages(ROOT / "src"))
    subpackages = {
        f"compliance_template.{name}" for name in (*SUBPACKAGE_EXTRAS, "cfn_rules", "generator")
    }
    assert {"compliance_template", *subpackages} <= found
