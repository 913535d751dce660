"""Reading AWS's sample conformance packs (awslabs/aws-config-rules, aws-config-conformance-packs/)
into the shape of generator/data/frameworks.json.

A pack is a CloudFormation template, sometimes written with short-form tags (`!Ref`), whose
AWS::Config::ConfigRule resources are the framework's rules. What we keep of each rule is what
our generator must reproduce: its identifier, its input-parameter keys and values, its scope,
its periodic frequency and its condition; the pack's parameters and conditions are kept whole,
since rule inputs and conditional rules refer to them.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

PACKS_FOLDER = "aws-config-conformance-packs"
PACK_SUFFIXES = (".yaml", ".yml")
_PREFIX = re.compile(r"^operational-best-practices-for-", re.IGNORECASE)
_TITLE = re.compile(r"^#\s+Conformance Pack:\s*\n#\s+(?P<title>\S.*?)\s*$", re.MULTILINE)
RULE_TYPE = "AWS::Config::ConfigRule"


class PackError(ValueError):
    """A pack file that is not a template we can read: names the file and what is wrong."""


def framework_name(file_name: str) -> str:
    """`Operational-Best-Practices-for-HIPAA-Security.yaml` -> `hipaa-security`: the file name
    without its extension and without the leading `Operational-Best-Practices-for-` (any case),
    lower-cased."""
    stem = file_name
    for suffix in PACK_SUFFIXES:
        if stem.lower().endswith(suffix):
            stem = stem[: -len(suffix)]
            break
    return _PREFIX.sub("", stem).lower()


class _Loader(yaml.SafeLoader):
    """Reads CloudFormation's short forms (`!Ref X`, `!If [...]`) as their long forms."""


def _short_form(loader: yaml.SafeLoader, tag_suffix: str, node: yaml.Node) -> dict[str, Any]:
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    key = tag_suffix if tag_suffix in ("Ref", "Condition") else f"Fn::{tag_suffix}"
    return {key: value}


_Loader.add_multi_constructor("!", _short_form)


def read_pack(path: Path) -> dict[str, Any]:
    """One framework record: the pack's title, parameters, conditions and rules, in file order."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise PackError(
            f"{path.name}: not UTF-8 text ({error.reason} at byte {error.start})"
        ) from None
    try:
        document = yaml.load(text, _Loader)
    except yaml.YAMLError as error:
        raise PackError(f"{path.name}: not valid YAML ({_one_line(error)})") from None
    if not isinstance(document, dict) or not isinstance(document.get("Resources"), dict):
        raise PackError(f"{path.name}: a conformance pack template needs a Resources mapping")
    rules: list[dict[str, Any]] = []
    other_rules: list[dict[str, str]] = []
    for key, resource in document["Resources"].items():
        if not isinstance(resource, dict) or resource.get("Type") != RULE_TYPE:
            continue
        properties = resource.get("Properties") or {}
        source = properties.get("Source") if isinstance(properties, dict) else None
        if not isinstance(source, dict):
            raise PackError(f"{path.name}: rule {key} needs Properties with a Source mapping")
        if source.get("Owner") != "AWS":
            # A custom rule needs the pack user's own function: we list it, we cannot deploy it.
            other_rules.append({"key": key, "owner": str(source.get("Owner"))})
            continue
        rules.append(_rule(path, key, resource, properties, source))
    return {
        "file": path.name,
        "title": _title(text, path),
        "parameters": document.get("Parameters") or {},
        "conditions": document.get("Conditions") or {},
        "rules": rules,
        "customRules": other_rules,
    }


def _one_line(error: yaml.YAMLError) -> str:
    """PyYAML's message spans lines (it quotes the text); the report keeps one line per fault."""
    mark = getattr(error, "problem_mark", None)
    problem = getattr(error, "problem", None) or str(error).splitlines()[0]
    return f"line {mark.line + 1}, column {mark.column + 1}: {problem}" if mark else problem


def _rule(
    path: Path, key: str, resource: dict[str, Any], properties: dict[str, Any], source: dict
) -> dict[str, Any]:
    identifier = source.get("SourceIdentifier")
    if not isinstance(identifier, str):
        raise PackError(f"{path.name}: rule {key} has no managed-rule SourceIdentifier")
    rule: dict[str, Any] = {
        "key": key,
        "name": str(properties.get("ConfigRuleName", key)),
        "identifier": identifier,
    }
    if properties.get("InputParameters"):
        rule["inputs"] = properties["InputParameters"]
    if "Scope" in properties:
        rule["scope"] = properties["Scope"]
    if "MaximumExecutionFrequency" in properties:
        rule["frequency"] = properties["MaximumExecutionFrequency"]
    if "Condition" in resource:
        rule["condition"] = resource["Condition"]
    return rule


def _title(text: str, path: Path) -> str:
    match = _TITLE.search(text)
    if match:
        return match.group("title")
    return path.name.rsplit(".", 1)[0].replace("-", " ")


def read_folder(folder: Path) -> tuple[dict[str, dict[str, Any]], list[str]]:
    """Every pack in `folder` by framework name, and notes for the maintainer (a pack kept in
    both .yaml and .yml: one framework; if their rules differ, the .yaml is kept and noted)."""
    frameworks: dict[str, dict[str, Any]] = {}
    notes: list[str] = []
    paths = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in PACK_SUFFIXES)
    # .yaml sorts before .yml, so the .yaml copy of a pair is read first and kept.
    for path in paths:
        name = framework_name(path.name)
        record = read_pack(path)
        if name in frameworks:
            kept = frameworks[name]
            if _without_file(kept) != _without_file(record):
                notes.append(f"{name}: {kept['file']} and {path.name} differ; kept {kept['file']}")
            continue
        frameworks[name] = record
    return frameworks, notes


def _without_file(record: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in record.items() if k != "file"}


def rule_inputs(rule: dict[str, Any]) -> dict[str, Any]:
    """A rule's inputs by key. A pack may choose the whole InputParameters with a condition
    (`Fn::If: [cond, {...}, {...}]`): the keys are then those of either branch, each with the
    value it has, or an `Fn::If` of its two values when they differ."""
    inputs = rule.get("inputs", {})
    branches = inputs.get("Fn::If") if len(inputs) == 1 else None
    if not (isinstance(branches, list) and len(branches) == 3):
        return dict(inputs)
    condition, *choices = branches
    yes, no = (
        choice if isinstance(choice, dict) and "Ref" not in choice else {} for choice in choices
    )
    merged: dict[str, Any] = {}
    for key in sorted(yes.keys() | no.keys()):
        if yes.get(key) == no.get(key):
            merged[key] = yes[key]
        else:
            merged[key] = {"Fn::If": [condition, yes.get(key), no.get(key)]}
    return merged
