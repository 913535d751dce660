"""CloudFormation and Lambda limits a generated template must stay within.

The generator refuses a configuration that would exceed one, with a message naming the limit
and the way out (fewer rules, or conformance-pack mode, where a whole rule set is one resource).
Figures: docs/organization.md, "Scale".
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable

from troposphere import Template

from .errors import SettingsError

MAX_RESOURCES = 500
MAX_TEMPLATE_BYTES = 1_000_000  # from S3; `deploy --s3-bucket` uploads it there
MAX_PARAMETERS = 200
MAX_OUTPUTS = 200
MAX_ENVIRONMENT_BYTES = 4096  # Lambda: all variables of a function together
LONGEST_RULE_PREFIX = "p" * 40  # RuleNamePrefix allows 40 characters
LONGEST_ARN = "arn:aws-us-gov:lambda:us-gov-west-1:123456789012:function:" + "f" * 64


# troposphere refuses the 501st resource (and the 201st parameter or output) while the template
# is built, with a ValueError of its own, before check_limits can count.
_TROPOSPHERE_LIMIT = re.compile(
    r"Maximum (?:number of )?(resources|parameters|outputs) (\d+) reached"
)


def build_within_limits(build: Callable[[], Template], kind: str) -> Template:
    """Build the template and check it against the limits; a limit reached is a SettingsError."""
    try:
        template = build()
    except ValueError as error:
        reached = _TROPOSPHERE_LIMIT.fullmatch(str(error))
        if reached is None:
            raise
        section, limit = reached.groups()
        raise SettingsError(
            "rules", f"more than {limit} {section}", f"at most {limit} per template{_hint(kind)}"
        ) from None
    check_limits(template, kind)
    return template


def _hint(kind: str) -> str:
    return "" if "conformance-pack" in kind else "; or use --kind conformance-pack"


def check_limits(template: Template, kind: str) -> None:
    document = template.to_dict()
    hint = _hint(kind)
    resources = len(document.get("Resources", {}))
    if resources > MAX_RESOURCES:
        raise SettingsError(
            "rules", f"{resources} resources", f"at most {MAX_RESOURCES} per template{hint}"
        )
    size = len(json.dumps(document, indent=2, sort_keys=True).encode())
    if size > MAX_TEMPLATE_BYTES:
        raise SettingsError("rules", f"{size} bytes", f"at most {MAX_TEMPLATE_BYTES}{hint}")
    for section, limit in (("Parameters", MAX_PARAMETERS), ("Outputs", MAX_OUTPUTS)):
        count = len(document.get(section, {}))
        if count > limit:
            raise SettingsError("rules", f"{count} {section.lower()}", f"at most {limit}{hint}")
    for name, resource in document.get("Resources", {}).items():
        if resource.get("Type") == "AWS::Lambda::Function":
            variables = resource["Properties"].get("Environment", {}).get("Variables", {})
            worst = worst_case_environment_bytes(variables)
            if worst > MAX_ENVIRONMENT_BYTES:
                raise SettingsError(
                    "rules",
                    f"{name} environment of up to {worst} bytes",
                    f"at most {MAX_ENVIRONMENT_BYTES} bytes (Lambda){hint}",
                )


def worst_case_environment_bytes(variables: dict) -> int:
    """Size of the variables with every deploy-time value at its longest."""
    return sum(len(key) + len(_longest(value)) for key, value in variables.items())


def _longest(value: object) -> str:
    """The longest text a value can resolve to: rule names with the longest prefix, every
    other reference as the longest ARN, the longer branch of each Fn::If."""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return "".join(_longest(item) for item in value)
    if not isinstance(value, dict) or len(value) != 1:
        return json.dumps(value)
    ((function, argument),) = value.items()
    if function == "Ref":
        return "" if argument == "AWS::NoValue" else LONGEST_ARN
    if function == "Fn::If":
        return max((_longest(argument[1]), _longest(argument[2])), key=len)
    if function == "Fn::Join":
        parts = [_longest(part) for part in argument[1]]
        return argument[0].join(part for part in parts if part)
    if function == "Fn::Sub" and isinstance(argument, str):
        text = argument.replace("${RuleNamePrefix}", LONGEST_RULE_PREFIX)
        return re.sub(r"\$\{[^}]+\}", LONGEST_ARN, text)
    return LONGEST_ARN
