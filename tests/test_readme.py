"""The README documents what a user can set and draws what the template contains."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys

from template_helpers import ROOT, as_dict

from compliance_template.generator.catalog import CURATED
from compliance_template.generator.cli import parser
from compliance_template.generator.settings import KNOWN_FIELDS, Settings

README = (ROOT / "README.md").read_text(encoding="utf-8")
# Resource types drawn as part of another node or left out of the picture on purpose.
NOT_DRAWN = {
    "AWS::IAM::Role",
    "AWS::IAM::ManagedPolicy",
    "AWS::Lambda::Permission",
    "AWS::Lambda::EventInvokeConfig",
    "AWS::SNS::TopicPolicy",
    "AWS::SQS::QueuePolicy",
    "AWS::S3::BucketPolicy",
    "AWS::KMS::Alias",
}


def mermaid_block() -> str:
    """The single-account stack's diagram, under "How events flow"."""
    section = README.split("### How events flow", 1)[1]
    return re.findall(r"```mermaid\n(.*?)```", section, flags=re.DOTALL)[0]


def test_diagram_shows_every_resource_of_the_default_template(default_template):
    diagram = mermaid_block()
    missing = [
        name
        for name, resource in default_template["Resources"].items()
        if resource["Type"] not in NOT_DRAWN and not re.search(rf"\b{name}\b", diagram)
    ]
    assert missing == []


def test_every_parameter_is_documented_with_its_default():
    # Every curated rule's deploy parameters; a framework's pack parameters are listed by
    # `generate.py --show-framework` (README, "Frameworks"), with the pack's defaults.
    every_rule = Settings.from_mapping({"rules": [rule.identifier for rule in CURATED]})
    for name, parameter in as_dict(every_rule)["Parameters"].items():
        default = parameter["Default"]
        shown = f"`{default}`" if default else "*(empty)*"
        assert f"| `{name}` | {shown} |" in README, name


def test_every_settings_field_and_cli_option_is_documented():
    for field in KNOWN_FIELDS:
        assert f"| `{field}` |" in README, field
    for action in parser()._actions:
        for option in action.option_strings:
            if option.startswith("--") and option != "--help":
                assert f"`{option}" in README, option


def test_every_output_is_documented(all_rules_template):
    for name in all_rules_template["Outputs"]:
        assert f"`{name}`" in README, name


def test_every_function_environment_variable_is_documented(all_rules_template):
    for name in ("ProcessingFunction", "ReportingFunction", "RemediationFunction"):
        properties = all_rules_template["Resources"][name]["Properties"]
        for variable in properties["Environment"]["Variables"]:
            assert f"| `{variable}` |" in README, (name, variable)


def test_organization_parameters_are_documented():
    organization = README.split("## Organization", 1)[1]
    for name in ("org-member.json", "org-central.json", "org-conformance-pack.json"):
        template = json.loads((ROOT / "templates" / name).read_text(encoding="utf-8"))
        for parameter, spec in template["Parameters"].items():
            if parameter not in as_dict(Settings())["Parameters"]:
                assert f"| `{parameter}` |" in organization, (name, parameter)
                assert ("Default" in spec) == (
                    "*(required" not in organization.split(f"| `{parameter}` |")[1].split("\n")[0]
                ), parameter


def test_every_make_variable_is_documented():
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    variables = set(re.findall(r"\$\(([A-Z_]+)\)", makefile))
    internal = {
        "BIN",
        "VENV",
        "STAMP",
        "CFN_LINT",
        "CFN_LINT_OPTIONS",
        "LINT_CACHE",
        "AWS_TARGET",
        "PREFLIGHT_ARGS",
        "TOOL",
    }
    for variable in sorted(variables - internal):
        assert f"| `{variable}` |" in README, variable


# --- every command in the README runs as written from a fresh clone ------------------------------


def readme_commands() -> list[str]:
    """Lines of shell blocks, `$ ` prompts of other blocks, and inline code, one space apart."""
    blocks = re.findall(r"```(\w*)\n(.*?)```", README, flags=re.DOTALL)
    lines = [
        line.removeprefix("$ ")
        for kind, block in blocks
        for line in block.splitlines()
        if kind == "sh" or line.startswith("$ ")
    ]
    inline = re.sub(r"```.*?```", "", README, flags=re.DOTALL)
    lines += re.findall(r"`([^`]+)`", inline)
    return [" ".join(line.split()) for line in lines if line.strip()]


def test_every_make_target_in_the_readme_exists():
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    targets = set(re.findall(r"^([a-z][a-z0-9-]*):", makefile, flags=re.MULTILINE))
    used = {m for c in readme_commands() for m in re.findall(r"^make ([a-z][a-z0-9-]*)", c)}
    assert used >= {"template", "test", "deploy", "deploy-org", "deploy-local"}
    assert used <= targets, used - targets


def git_mode(path: str) -> str:
    listing = subprocess.run(
        ["git", "ls-files", "-s", "--", path], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    return listing.split()[0]


def test_every_script_the_readme_runs_is_executable_with_a_working_shebang():
    first_words = {command.split()[0] for command in readme_commands()}
    run_directly = sorted(
        word.removeprefix("./")
        for word in first_words
        if word.startswith(("./", ".ci/")) and (ROOT / word).is_file()
    )
    assert "generate.py" in run_directly and ".ci/run" in run_directly
    for path in run_directly:
        assert git_mode(path) == "100755", path  # a fresh clone gets the exec bit from git
        shebang = (ROOT / path).read_text(encoding="utf-8").splitlines()[0]
        assert shebang.startswith("#!/usr/bin/env "), path
        assert shutil.which(shebang.split()[1]), shebang


def test_generate_py_runs_as_written_even_outside_the_virtual_environment():
    # -S: no site-packages, as a system python3 without the dependencies would be.
    for command in (["./generate.py", "--help"], ["python3", "-S", "generate.py", "--help"]):
        result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
        assert result.returncode == 0, result.stderr
        assert "--settings" in result.stdout


def test_generate_py_without_a_virtual_environment_says_make_venv(tmp_path):
    copy = tmp_path / "generate.py"
    shutil.copy(ROOT / "generate.py", copy)
    result = subprocess.run(
        ["python3", "-S", str(copy), "--help"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 2
    assert result.stderr.strip().startswith("generate.py: error: compliance_template is not")
    assert "run `make venv`" in result.stderr and "Traceback" not in result.stderr


def test_generate_py_uses_this_checkout_even_beside_a_non_editable_install(tmp_path):
    """`pip install .` copies the package into site-packages, where functions/ and templates/
    are not; generate.py must still write Code paths to this checkout's functions."""
    installed = tmp_path / "site-packages"
    shutil.copytree(ROOT / "src" / "compliance_template", installed / "compliance_template")
    out = tmp_path / "out" / "stack.json"
    result = subprocess.run(
        [sys.executable, str(ROOT / "generate.py"), "--out", str(out)],
        env={**os.environ, "PYTHONPATH": str(installed)},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    resources = json.loads(out.read_text())["Resources"]
    code = {
        r["Properties"]["Code"] for r in resources.values() if r["Type"] == "AWS::Lambda::Function"
    }
    assert {(out.parent / path).resolve() for path in code} == {
        ROOT / "functions" / name for name in ("processing", "reporting", "remediation")
    }


def test_adding_a_rule_names_every_file_that_must_change():
    """A rule is its catalog entry; the functions' rulebook is generated from it, and a remediated
    rule adds its module (see test_function_packaging, test_remediation_permissions)."""
    section = README.split("### The rule catalog", 1)[1].split("\n## ", 1)[0]
    for path in (
        "src/compliance_template/generator/catalog.py",
        "functions/_shared/rulebook.json",
        "src/compliance_template/generator/policies.py",
    ):
        assert f"`{path}`" in section and (ROOT / path).is_file(), path
    assert "`functions/remediation/rules/<identifier in lower case>.py`" in section
    assert (ROOT / "functions/remediation/rules/encrypted_volumes.py").is_file()
    for gone in ("functions/_shared/rulebook.py", "decide.py", "resources.py"):
        assert gone not in section, gone
    assert "is one\nentry there" not in section and "is one entry" not in section


def test_set_up_says_the_first_make_template_creates_the_environment():
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    first_target = re.search(r"^([a-z-]+):", makefile, flags=re.M).group(1)
    # A bare `make` runs the first target, which only prints the help.
    assert first_target == "help"
    set_up = " ".join(README.split("## Set-up", 1)[1].split("\n## ", 1)[0].split())
    assert "the first `make` " not in set_up
    assert "first `make template`" in set_up and "a few minutes" in set_up


def test_every_target_the_set_up_names_creates_the_environment():
    """Set-up says which targets do not create .venv; every other one depends on its stamp."""
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    prerequisites = {
        target: deps.split()
        for target, deps in re.findall(r"^([a-z][a-z-]*):(.*)$", makefile, flags=re.M)
    }

    def creates_venv(target: str) -> bool:
        deps = prerequisites.get(target, [])
        return "$(STAMP)" in deps or any(creates_venv(d) for d in deps if d in prerequisites)

    set_up = " ".join(README.split("## Set-up", 1)[1].split("\n## ", 1)[0].split())
    excepted = re.search(r"or any other target but (.*?)\) creates", set_up).group(1)
    named = set(re.findall(r"`([a-z-]+)`", excepted))
    assert {t for t in prerequisites if not creates_venv(t) and t != "venv"} == named


def test_the_layout_table_names_every_module_of_the_package_where_it_is():
    """Each folder of the package has its row, and the row names each of its modules."""
    package = ROOT / "src" / "compliance_template"
    rows = dict(re.findall(r"^\| `(src/compliance_template/[^`]*)` \| (.*) \|$", README, re.M))
    folders = [package, *(p for p in package.iterdir() if (p / "__init__.py").is_file())]
    for folder in folders:
        key = folder.relative_to(ROOT).as_posix() + "/"
        assert key in rows, key
        if folder.name == "cfn_rules":
            continue  # one module per lint rule: docs/cfn-rules.md lists them
        modules = {p.name for p in folder.glob("*.py")} - {"__init__.py"}
        assert {m for m in modules if f"`{m}`" not in rows[key]} == set(), key
