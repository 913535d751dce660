"""E9009: a Lambda function whose local code does not contain the module its Handler names."""

from __future__ import annotations

import os
import zipfile
from collections.abc import Callable
from typing import ClassVar

from cfnlint.rules import CloudFormationLintRule, RuleMatch
from cfnlint.template import Template

from compliance_template.cfn_rules._helpers import (
    Expected,
    branches,
    expected_module,
    properties,
    resources_of_type,
)


def _lister(location: str) -> Callable[[str], bool] | None:
    """A test for whether a relative path exists in a code folder or zip; None when the code is
    a single file that is not a zip (nothing to look into).
    """
    if os.path.isdir(location):
        return lambda relative: os.path.exists(os.path.join(location, relative))
    if zipfile.is_zipfile(location):
        with zipfile.ZipFile(location) as archive:
            names = set(archive.namelist())
        # Zips need not list folders as entries: derive every ancestor of every file.
        folders = {
            "/".join(parts[:depth])
            for parts in (name.split("/") for name in names)
            for depth in range(1, len(parts))
        }
        return lambda relative: relative in names or relative in folders
    return None


class LambdaLocalCodeHandler(CloudFormationLintRule):
    id = "E9009"
    shortdesc = "Local Lambda code must contain the module the Handler names"
    description = (
        "A Lambda function whose Code is a local path (for aws cloudformation package, relative "
        "to the template's folder) must contain the handler's module: app.handler needs app.py "
        "(Python) or app.js/.mjs/.cjs (Node.js), pkg.mod.handler needs pkg/mod.py. TypeScript "
        "sources without compiled JavaScript fail at the first invocation."
    )
    source_url = "https://docs.aws.amazon.com/lambda/latest/dg/python-handler.html"
    tags: ClassVar[list[str]] = ["resources", "lambda"]

    def match(self, cfn: Template) -> list[RuleMatch]:
        # Paths are relative to the template's folder: nothing to resolve for stdin or data.
        if not cfn.filename or cfn.filename == "-":
            return []
        folder = os.path.dirname(os.path.abspath(cfn.filename))
        matches = []
        for name, resource in resources_of_type(cfn, "AWS::Lambda::Function"):
            props = properties(resource)
            handler, runtime = props.get("Handler"), props.get("Runtime")
            if not (isinstance(handler, str) and isinstance(runtime, str) and "." in handler):
                continue
            expected = expected_module(runtime, handler)
            base = ["Resources", name, "Properties", "Code"]
            for code, path in branches(props.get("Code"), base):
                if expected is None or not isinstance(code, str) or "://" in code:
                    continue
                problem = _problem(os.path.join(folder, code), expected)
                if problem:
                    matches.append(
                        RuleMatch(path, f"Code {code!r} of {name} {problem} (Handler {handler!r})")
                    )
        return matches


def _problem(location: str, expected: Expected) -> str | None:
    if not os.path.exists(location):
        return "does not exist (relative to the template's folder)"
    exists = _lister(location)
    if exists is None:
        return None
    if any(exists(f) for f in expected.files) or (
        expected.folder_resolves and exists(expected.module)
    ):
        return None
    if any(exists(f) for f in expected.uncompiled):
        return (
            f"has TypeScript sources for {expected.module} but no compiled JavaScript "
            f"({', '.join(expected.files)}): compile before packaging"
        )
    return f"has no {' or '.join(expected.files)}"
