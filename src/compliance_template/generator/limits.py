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

from ..errors import SettingsError
from ..intrinsics import substitute
from .parameters import RULE_PREFIX_MAX

MAX_RESOURCES = 500
MAX_TEMPLATE_BYTES = 1_000_000  # from S3; `deploy --s3-bucket` uploads it there
MAX_PARAMETERS = 200
MAX_OUTPUTS = 200
MAX_ENVIRONMENT_BYTES = 4096  # Lambda: all variables of a function together
# EventBridge quota "Event pattern size", in characters (adjustable; PutRule accepts up to 4,096).
MAX_EVENT_PATTERN_CHARS = 2048
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
    # The template's own bound on the prefix: every rule name is measured at its longest.
    prefix = document.get("Parameters", {}).get("RuleNamePrefix", {})
    prefix_length = int(prefix.get("MaxLength", RULE_PREFIX_MAX))
    for name, resource in document.get("Resources", {}).items():
        properties = resource.get("Properties", {})
        if resource.get("Type") == "AWS::Lambda::Function":
            variables = properties.get("Environment", {}).get("Variables", {})
            worst = worst_case_environment_bytes(variables, prefix_length)
            if worst > MAX_ENVIRONMENT_BYTES:
                raise SettingsError(
                    "rules",
                    f"{name} environment of up to {worst} bytes",
                    f"at most {MAX_ENVIRONMENT_BYTES} bytes (Lambda){hint}",
                )
        if resource.get("Type") == "AWS::Events::Rule" and "EventPattern" in properties:
            worst = worst_case_pattern_chars(properties["EventPattern"], prefix_length)
            if worst > MAX_EVENT_PATTERN_CHARS:
                raise SettingsError(
                    "rules",
                    f"{name} event pattern of up to {worst} characters",
                    f"at most {MAX_EVENT_PATTERN_CHARS} (EventBridge){hint}",
                )


def worst_case_environment_bytes(variables: dict, prefix_length: int = RULE_PREFIX_MAX) -> int:
    """Size of the variables with every deploy-time value at its longest."""
    return sum(len(key) + len(_longest(value, prefix_length)) for key, value in variables.items())


def worst_case_pattern_chars(pattern: object, prefix_length: int = RULE_PREFIX_MAX) -> int:
    """Length of the event pattern as JSON (with JSON's default spacing, which is no shorter than
    what CloudFormation sends) with every deploy-time value at its longest."""
    return len(json.dumps(_resolved(pattern, prefix_length)))


def _resolved(value: object, prefix_length: int) -> object:
    """The JSON value with each intrinsic function replaced by its longest text."""
    if isinstance(value, list):
        return [_resolved(item, prefix_length) for item in value]
    if isinstance(value, dict):
        key = next(iter(value), "")
        if len(value) == 1 and (key == "Ref" or key.startswith("Fn::")):
            return _longest(value, prefix_length)
        return {key: _resolved(item, prefix_length) for key, item in value.items()}
    return value


def _longest(value: object, prefix_length: int) -> str:
    """The longest text a value can resolve to: rule names with a prefix of `prefix_length`,
    every other reference as the longest ARN, the longer branch of each Fn::If."""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return "".join(_longest(item, prefix_length) for item in value)
    if not isinstance(value, dict) or len(value) != 1:
        return json.dumps(value)
    ((function, argument),) = value.items()
    if function == "Ref":
        return "" if argument == "AWS::NoValue" else LONGEST_ARN
    if function == "Fn::If":
        branches = (_longest(argument[1], prefix_length), _longest(argument[2], prefix_length))
        return max(branches, key=len)
    if function == "Fn::Join":
        parts = [_longest(part, prefix_length) for part in argument[1]]
        return argument[0].join(part for part in parts if part)
    if function == "Fn::Sub" and isinstance(argument, str):
        return substitute(
            argument,
            lambda p: "p" * prefix_length if p.name == "RuleNamePrefix" else LONGEST_ARN,
        )
    return LONGEST_ARN
