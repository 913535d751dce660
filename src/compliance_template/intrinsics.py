"""CloudFormation's intrinsic functions, read the same way by everything that reads a template.

Two parts:

- `Fn::Sub` text: `sub_parts` splits it into literal text and `Placeholder`s (`${AWS::Region}`,
  `${Param}`, `${Resource.Attribute}`). `${!Literal}` is no placeholder: CloudFormation renders it
  as the literal text `${Literal}`. `sub_arguments` reads the one- and two-argument forms.
- `Evaluator`: the value of an expression (Ref, Fn::GetAtt, Fn::Sub, Fn::Join, Fn::If,
  Fn::Select, Fn::Split, Fn::FindInMap, Fn::Equals, Fn::Not, Fn::And, Fn::Or, Fn::Contains,
  Condition) given parameter values, pseudo-parameter values, stand-in values for resources and
  the template's conditions; `AWS::NoValue` removes the element or key it is in. What it cannot
  evaluate raises `NotEvaluable`; subclasses supply resources' values and may read `Fn::If`
  differently (the security scan keeps both branches).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

NO_VALUE_NAME = "AWS::NoValue"
PSEUDO_PARAMETERS = frozenset(
    {
        "AWS::AccountId",
        "AWS::NotificationARNs",
        "AWS::Partition",
        "AWS::Region",
        "AWS::StackId",
        "AWS::StackName",
        "AWS::URLSuffix",
    }
)
# `${` up to the next `}`; CloudFormation has no nesting inside a placeholder.
_PLACEHOLDER = re.compile(r"\$\{([^}]*)\}")


class NotEvaluable(Exception):
    """An expression whose value the evaluator cannot know (an unknown name or function)."""


class _NoValue:
    """AWS::NoValue: the element disappears from its list or object."""

    def __repr__(self) -> str:
        return "NO_VALUE"


NO_VALUE: Any = _NoValue()


# -- Fn::Sub text -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Placeholder:
    """`${name}` of an Fn::Sub: a variable, a pseudo parameter, a parameter or resource (Ref), or
    `Resource.Attribute` (Fn::GetAtt; the attribute may itself contain dots)."""

    name: str

    @property
    def attribute(self) -> tuple[str, str] | None:
        """(logical id, attribute) when the placeholder is an Fn::GetAtt, else None."""
        if "." not in self.name or self.name in PSEUDO_PARAMETERS:
            return None
        logical_id, attribute = self.name.split(".", 1)
        return logical_id, attribute

    @property
    def target(self) -> str:
        """The name a Ref or Fn::GetAtt placeholder reaches (the logical id for an attribute)."""
        found = self.attribute
        return found[0] if found else self.name


def sub_parts(text: str) -> list[str | Placeholder]:
    """The Fn::Sub text as literal strings and placeholders, in order; adjacent literal text is
    one string, and `${!Literal}` is the literal `${Literal}`. `${}` is kept as literal text."""
    parts: list[str | Placeholder] = []
    literal: list[str] = []
    position = 0
    for match in _PLACEHOLDER.finditer(text):
        literal.append(text[position : match.start()])
        name = match.group(1)
        if name.startswith("!"):
            literal.append("${" + name[1:] + "}")
        elif not name:
            literal.append(match.group(0))
        else:
            if "".join(literal):
                parts.append("".join(literal))
            literal = []
            parts.append(Placeholder(name))
        position = match.end()
    literal.append(text[position:])
    if "".join(literal):
        parts.append("".join(literal))
    return parts


def sub_arguments(argument: object) -> tuple[str, Mapping[str, Any]]:
    """(text, variables) of `Fn::Sub: text` or `Fn::Sub: [text, {name: value}]`."""
    if isinstance(argument, str):
        return argument, {}
    if (
        isinstance(argument, list)
        and len(argument) == 2
        and isinstance(argument[0], str)
        and isinstance(argument[1], dict | None)
    ):
        return argument[0], argument[1] or {}
    raise NotEvaluable(f"Fn::Sub takes a string or [string, variables], not {argument!r}")


def substitute(text: str, value: Callable[[Placeholder], str]) -> str:
    """The Fn::Sub text with each placeholder replaced by `value(placeholder)`."""
    return "".join(part if isinstance(part, str) else value(part) for part in sub_parts(text))


def placeholders(text: str) -> list[Placeholder]:
    return [part for part in sub_parts(text) if isinstance(part, Placeholder)]


def referenced_names(value: object) -> set[str]:
    """Every name a Ref or an Fn::Sub placeholder reaches in a template fragment: parameters,
    pseudo parameters and logical ids (of `${Resource.Attribute}`), not a Sub's own variables."""
    found: set[str] = set()
    if isinstance(value, list):
        for item in value:
            found |= referenced_names(item)
        return found
    if not isinstance(value, dict):
        return found
    if isinstance(value.get("Ref"), str):
        found.add(value["Ref"])
    if "Fn::Sub" in value:
        try:
            text, variables = sub_arguments(value["Fn::Sub"])
        except NotEvaluable:
            text, variables = "", {}
        found |= {p.target for p in placeholders(text) if p.name not in variables}
        found |= referenced_names(list(variables.values()))
    for key, item in value.items():
        if key not in ("Ref", "Fn::Sub"):
            found |= referenced_names(item)
    return found


# -- evaluation ---------------------------------------------------------------------------------


def is_intrinsic(value: object) -> bool:
    """True for `{"Ref": ...}` and `{"Fn::...": ...}` (both YAML spellings decode to this)."""
    if not isinstance(value, dict) or len(value) != 1:
        return False
    key = next(iter(value))
    return isinstance(key, str) and (key == "Ref" or key.startswith("Fn::"))


def is_condition_reference(value: object) -> bool:
    """`{"Condition": "Name"}`, which only conditions and Rules use (a policy statement's
    `Condition` is an object, and never the statement's only key)."""
    return isinstance(value, dict) and len(value) == 1 and isinstance(value.get("Condition"), str)


class Evaluator:
    """Evaluates intrinsics. `parameters` and `pseudo_parameters` hold values by name;
    `conditions` is the template's Conditions section; resources' values come from `resource`
    and `attribute`, which a subclass overrides (by default they are not evaluable)."""

    def __init__(
        self,
        parameters: Mapping[str, Any] | None = None,
        pseudo_parameters: Mapping[str, Any] | None = None,
        conditions: Mapping[str, Any] | None = None,
        mappings: Mapping[str, Any] | None = None,
    ) -> None:
        self.parameters = parameters or {}
        self.pseudo_parameters = pseudo_parameters or {}
        self.conditions = conditions or {}
        self.mappings = mappings or {}

    # What a subclass supplies.

    def resource(self, logical_id: str) -> Any:
        """What `Ref` of a resource (or of a name nothing declares) returns."""
        raise NotEvaluable(f"Ref to {logical_id}, which has no value here")

    def attribute(self, logical_id: str, attribute: str) -> Any:
        raise NotEvaluable(f"Fn::GetAtt {logical_id}.{attribute} has no value here")

    def fn_if(self, condition: str, when_true: Any, when_false: Any) -> Any:
        return self.evaluate(when_true if self.condition(condition) else when_false)

    # The rules of CloudFormation.

    def evaluate(self, value: Any) -> Any:
        if isinstance(value, list):
            return self.evaluate_list(value)
        if is_intrinsic(value) or is_condition_reference(value):
            ((name, argument),) = value.items()
            return self.function(name, argument)
        if isinstance(value, dict):
            return self.evaluate_object(value)
        return value

    def evaluate_list(self, values: Sequence[Any]) -> Any:
        return [item for item in (self.evaluate(v) for v in values) if item is not NO_VALUE]

    def evaluate_object(self, value: Mapping[str, Any]) -> Any:
        evaluated = {key: self.evaluate(item) for key, item in value.items()}
        return {key: item for key, item in evaluated.items() if item is not NO_VALUE}

    def ref(self, name: str) -> Any:
        if name == NO_VALUE_NAME:
            return NO_VALUE
        if name in self.pseudo_parameters:
            return self.pseudo_parameters[name]
        if name in self.parameters:
            return self.parameters[name]
        return self.resource(name)

    def condition(self, name: str) -> bool:
        if name not in self.conditions:
            raise NotEvaluable(f"condition {name} is not declared")
        return bool(self.evaluate(self.conditions[name]))

    def text(self, value: Any, where: str) -> str:
        """A value that must be a single string (or number) where it is used."""
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise NotEvaluable(f"{where} needs a single text value, got {value!r}")
        return str(value)

    def sub(self, argument: Any) -> str:
        text, variables = sub_arguments(argument)

        def value(placeholder: Placeholder) -> str:
            if placeholder.name in variables:
                return self.text(self.evaluate(variables[placeholder.name]), "Fn::Sub")
            attribute = placeholder.attribute
            if attribute:
                return self.text(self.attribute(*attribute), "Fn::Sub")
            return self.text(self.ref(placeholder.name), "Fn::Sub")

        return substitute(text, value)

    def function(self, name: str, argument: Any) -> Any:
        handler = _FUNCTIONS.get(name)
        if handler is None:
            raise NotEvaluable(f"{name} cannot be evaluated here")
        try:
            return handler(self, argument)
        except (TypeError, ValueError, IndexError, KeyError) as malformed:
            raise NotEvaluable(f"{name}: {argument!r} ({malformed})") from None


def _getatt(evaluator: Evaluator, argument: Any) -> Any:
    logical_id, attribute = argument.split(".", 1) if isinstance(argument, str) else argument
    return evaluator.attribute(logical_id, attribute)


def _join(evaluator: Evaluator, argument: Any) -> str:
    delimiter, parts = argument
    values = evaluator.evaluate(parts)
    return delimiter.join(evaluator.text(part, "Fn::Join") for part in values)


def _select(evaluator: Evaluator, argument: Any) -> Any:
    index, items = argument
    values = evaluator.evaluate(items)
    if not isinstance(values, list):
        raise NotEvaluable(f"Fn::Select needs a list, got {values!r}")
    return values[int(evaluator.evaluate(index))]


def _split(evaluator: Evaluator, argument: Any) -> list[str]:
    delimiter, text = argument
    return evaluator.text(evaluator.evaluate(text), "Fn::Split").split(delimiter)


def _find_in_map(evaluator: Evaluator, argument: Any) -> Any:
    name, first, second = (evaluator.text(evaluator.evaluate(a), "Fn::FindInMap") for a in argument)
    return evaluator.mappings[name][first][second]


def _contains(evaluator: Evaluator, argument: Any) -> bool:
    container, item = argument
    values = evaluator.evaluate(container)
    return isinstance(values, list) and evaluator.evaluate(item) in values


_FUNCTIONS: Mapping[str, Callable[[Evaluator, Any], Any]] = {
    "Ref": lambda e, name: e.ref(name),
    "Condition": lambda e, name: e.condition(name),
    "Fn::GetAtt": _getatt,
    "Fn::Sub": lambda e, argument: e.sub(argument),
    "Fn::If": lambda e, argument: e.fn_if(*argument),
    "Fn::Join": _join,
    "Fn::Select": _select,
    "Fn::Split": _split,
    "Fn::FindInMap": _find_in_map,
    "Fn::Equals": lambda e, pair: e.evaluate(pair[0]) == e.evaluate(pair[1]),
    "Fn::Not": lambda e, single: not e.evaluate(single[0]),
    "Fn::And": lambda e, items: all(e.evaluate(item) for item in items),
    "Fn::Or": lambda e, items: any(e.evaluate(item) for item in items),
    "Fn::Contains": _contains,
}
