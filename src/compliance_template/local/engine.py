"""An in-process interpreter of the Amazon States Language subset the org-central report uses.

moto can run a state machine, but its Lambda tasks would go through moto's Lambda, which runs
code in Docker; the emulator answers Lambda without Docker and the caller runs the real handler
in this process. `run_state_machine` walks a definition and hands every lambda:invoke task to the
caller's `invoke(function_arn, payload)`.

The subset (docs.aws.amazon.com/step-functions/latest/dg/concepts-amazon-states-language.html):
Pass (Parameters, Result, ResultPath), Task on arn:<partition>:states:::lambda:invoke
(Parameters FunctionName and Payload, ResultSelector, ResultPath, Retry), Choice (Variable with
StringEquals, BooleanEquals or NumericEquals; Default), Succeed, Fail, Next and End; paths `$`,
`$.a.b` and the context object's `$$.Execution.Id`, `$$.Execution.Input`, `$$.State.Name`. The
whole definition is checked before the first state runs: anything else raises UnsupportedState
naming the state and the field, so a definition the emulator would get wrong never half-runs.

Nothing sleeps: a retry records the interval Step Functions would wait (before jitter) in the
history instead.
"""

from __future__ import annotations

import copy
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

Invoke = Callable[[str, dict], Any]

LAMBDA_INVOKE = re.compile(r"^arn:[\w-]+:states:::lambda:invoke$")
COMMON = {"Type", "Comment"}
TRANSITION = {"Next", "End"}
FIELDS: dict[str, set[str]] = {
    "Pass": COMMON | TRANSITION | {"Parameters", "Result", "ResultPath"},
    "Task": COMMON
    | TRANSITION
    | {"Resource", "Parameters", "ResultSelector", "ResultPath", "Retry"},
    "Choice": COMMON | {"Choices", "Default"},
    "Succeed": COMMON,
    "Fail": COMMON | {"Error", "Cause"},
}
COMPARATORS = {"StringEquals": str, "BooleanEquals": bool, "NumericEquals": (int, float)}
RETRIER_FIELDS = {
    "ErrorEquals",
    "IntervalSeconds",
    "MaxAttempts",
    "BackoffRate",
    "JitterStrategy",
    "MaxDelaySeconds",
}
TASK_PARAMETERS = {"FunctionName", "Payload"}
# Step Functions' defaults for a retrier (Retry field reference).
DEFAULT_INTERVAL, DEFAULT_ATTEMPTS, DEFAULT_BACKOFF = 1, 3, 2.0
_PATH = re.compile(r"^\$\$?(\.[A-Za-z_][\w-]*)*$")


class UnsupportedState(ValueError):
    """The definition uses something outside the subset (or is not a valid definition)."""

    def __init__(self, state: str, name: str, why: str) -> None:
        super().__init__(f"state {state!r}, field {name!r}: {why}")
        self.state, self.field = state, name


class StepLimitExceeded(RuntimeError):
    """More states were entered than `max_steps` allows (a loop that never ends)."""


class TaskError(Exception):
    """What `invoke` raises to fail a task with a named error, as Lambda's service errors do
    ("Lambda.TooManyRequestsException"); any other exception is named by its class."""

    def __init__(self, error: str, cause: str = "") -> None:
        super().__init__(f"{error}: {cause}" if cause else error)
        self.error, self.cause = error, cause


class _StatesError(Exception):
    """An error inside the execution: it fails the execution unless a retrier takes it."""

    def __init__(self, error: str, cause: str) -> None:
        super().__init__(f"{error}: {cause}")
        self.error, self.cause = error, cause


# --- checking the definition --------------------------------------------------------------------


def check_definition(definition: dict) -> None:
    """Raise UnsupportedState for the first thing outside the subset."""
    states = definition.get("States") or {}
    extra = set(definition) - {"Comment", "StartAt", "States", "TimeoutSeconds", "Version"}
    if extra:
        raise UnsupportedState("(top level)", sorted(extra)[0], "not supported")
    if definition.get("StartAt") not in states:
        raise UnsupportedState("(top level)", "StartAt", "names no state of the definition")
    for name, state in states.items():
        _check_state(name, state, states)


def _check_state(name: str, state: dict, states: dict) -> None:
    kind = state.get("Type")
    if kind not in FIELDS:
        raise UnsupportedState(name, "Type", f"{kind!r} is not one of {', '.join(FIELDS)}")
    for key in state:
        if key not in FIELDS[kind]:
            raise UnsupportedState(name, key, f"not supported in a {kind} state")
    targets = [("Next", state["Next"])] if "Next" in state else []
    if "Next" in FIELDS[kind] and ("Next" in state) == bool(state.get("End")):
        raise UnsupportedState(name, "Next", "a state needs exactly one of Next and End: true")
    if kind == "Task":
        _check_task(name, state)
    if kind == "Choice":
        targets += _check_choice(name, state)
    for key in ("Parameters", "ResultSelector"):
        _check_template(name, key, state.get(key))
    result_path = state.get("ResultPath")
    if result_path is not None:  # null discards the result
        _check_path(name, "ResultPath", result_path)
        if result_path.startswith("$$"):
            raise UnsupportedState(name, "ResultPath", "cannot write the context object")
    for key, target in targets:
        if target not in states:
            raise UnsupportedState(name, key, f"names no state: {target!r}")


def _check_task(name: str, state: dict) -> None:
    if not LAMBDA_INVOKE.match(str(state.get("Resource", ""))):
        raise UnsupportedState(name, "Resource", "only arn:<partition>:states:::lambda:invoke")
    parameters = {key.removesuffix(".$") for key in state.get("Parameters") or {}}
    if "FunctionName" not in parameters or not parameters <= TASK_PARAMETERS:
        raise UnsupportedState(name, "Parameters", "FunctionName and Payload only")
    for retrier in state.get("Retry", []):
        for key in retrier:
            if key not in RETRIER_FIELDS:
                raise UnsupportedState(name, f"Retry.{key}", "not supported")


def _check_choice(name: str, state: dict) -> list[tuple[str, str]]:
    """The states the Choice can go to, each with the field that names it."""
    targets = [("Default", state["Default"])] if "Default" in state else []
    for rule in state.get("Choices") or []:
        comparators = set(rule) - {"Variable", "Next"}
        if "Variable" not in rule or len(comparators) != 1 or not comparators <= set(COMPARATORS):
            unknown = sorted(comparators - set(COMPARATORS)) or ["Variable"]
            raise UnsupportedState(
                name, f"Choices.{unknown[0]}", f"one of {', '.join(COMPARATORS)} with a Variable"
            )
        _check_path(name, "Choices.Variable", rule["Variable"])
        targets.append(("Choices.Next", rule.get("Next", "")))
    return targets


def _check_template(name: str, key: str, template: Any) -> None:
    if isinstance(template, dict):
        for inner, value in template.items():
            if inner.endswith(".$"):
                _check_path(name, f"{key}.{inner}", value)
            else:
                _check_template(name, key, value)
    elif isinstance(template, list):
        for value in template:
            _check_template(name, key, value)


def _check_path(name: str, key: str, path: Any) -> None:
    if not isinstance(path, str) or not _PATH.match(path):
        raise UnsupportedState(name, key, f"{path!r}: only $, $.a.b and $$.a.b paths")


# --- paths --------------------------------------------------------------------------------------


def _get(path: str, data: Any, context: dict) -> Any:
    value = context if path.startswith("$$") else data
    for name in path.lstrip("$").split(".")[1:]:
        if not isinstance(value, dict) or name not in value:
            raise _StatesError("States.Runtime", f"the path {path!r} matches nothing")
        value = value[name]
    return value


def _fill(template: Any, data: Any, context: dict) -> Any:
    """Parameters or ResultSelector: keys ending in .$ take the value at their path."""
    if isinstance(template, dict):
        return {
            key.removesuffix(".$"): (
                _get(value, data, context) if key.endswith(".$") else _fill(value, data, context)
            )
            for key, value in template.items()
        }
    if isinstance(template, list):
        return [_fill(value, data, context) for value in template]
    return template


def _place(result: Any, data: Any, result_path: str | None) -> Any:
    """ResultPath: "$" replaces the input, null keeps it, "$.a.b" sets a copy's field."""
    if result_path is None:
        return data
    names = result_path.lstrip("$").split(".")[1:]
    if not names:
        return result
    placed = copy.deepcopy(data) if isinstance(data, dict) else {}
    target = placed
    for name in names[:-1]:
        target = target.setdefault(name, {})
    target[names[-1]] = result
    return placed


# --- running ------------------------------------------------------------------------------------


@dataclass
class _Run:
    definition: dict
    invoke: Invoke
    context: dict
    history: list[dict] = field(default_factory=list)

    def pass_state(self, state: dict, data: Any) -> Any:
        if "Parameters" in state:
            result = _fill(state["Parameters"], data, self.context)
        else:
            result = state.get("Result", data)
        return _place(result, data, state.get("ResultPath", "$"))

    def task_state(self, name: str, state: dict, data: Any) -> Any:
        parameters = _fill(state["Parameters"], data, self.context)
        result = self._with_retries(name, state, parameters)
        if "ResultSelector" in state:
            result = _fill(state["ResultSelector"], result, self.context)
        return _place(result, data, state.get("ResultPath", "$"))

    def _with_retries(self, name: str, state: dict, parameters: dict) -> dict:
        retriers = state.get("Retry", [])
        attempts = [0] * len(retriers)
        while True:
            try:
                payload = self.invoke(parameters["FunctionName"], parameters.get("Payload", {}))
                return {"Payload": payload, "StatusCode": 200}
            except Exception as raised:  # the handler's own failure, as Lambda reports it
                error = _task_error(raised)
                index = _retrier(retriers, error.error)
                if index is None or attempts[index] >= _max_attempts(retriers[index]):
                    raise error from raised
                attempts[index] += 1
                self.context["State"]["RetryCount"] = sum(attempts)
                self.history.append(
                    {
                        "retry": name,
                        "error": error.error,
                        "attempt": attempts[index],
                        "interval": _interval(retriers[index], attempts[index]),
                    }
                )

    def choice_state(self, name: str, state: dict, data: Any) -> str:
        for rule in state.get("Choices", []):
            value = _get(rule["Variable"], data, self.context)
            (comparator,) = set(rule) - {"Variable", "Next"}
            expected = rule[comparator]
            if _same_type(value, COMPARATORS[comparator]) and value == expected:
                return str(rule["Next"])
        if "Default" not in state:
            raise _StatesError("States.NoChoiceMatched", f"no choice of {name!r} matched")
        return str(state["Default"])


def _same_type(value: Any, kind: Any) -> bool:
    # A boolean is an int in Python, but never a number in JSON (nor a number a boolean).
    if kind is bool:
        return isinstance(value, bool)
    return isinstance(value, kind) and not isinstance(value, bool)


def _task_error(raised: Exception) -> _StatesError:
    if isinstance(raised, TaskError):
        return _StatesError(raised.error, raised.cause)
    return _StatesError(type(raised).__name__, str(raised))


def _retrier(retriers: list[dict], error: str) -> int | None:
    """The first retrier naming the error; a task failure matches States.ALL and
    States.TaskFailed besides its own name."""
    for index, retrier in enumerate(retriers):
        if {error, "States.ALL", "States.TaskFailed"} & set(retrier.get("ErrorEquals", [])):
            return index
    return None


def _max_attempts(retrier: dict) -> int:
    return int(retrier.get("MaxAttempts", DEFAULT_ATTEMPTS))


def _interval(retrier: dict, attempt: int) -> float:
    interval = float(retrier.get("IntervalSeconds", DEFAULT_INTERVAL)) * float(
        retrier.get("BackoffRate", DEFAULT_BACKOFF)
    ) ** (attempt - 1)
    most = retrier.get("MaxDelaySeconds")
    return min(interval, float(most)) if most is not None else interval


def _execute(run: _Run, data: Any, max_steps: int) -> Any:
    """The execution's output; a _StatesError when it fails."""
    states, name = run.definition["States"], run.definition["StartAt"]
    for _ in range(max_steps):
        state, kind = states[name], states[name]["Type"]
        run.history.append({"entered": name})
        run.context["State"] = {"Name": name, "RetryCount": 0}
        if kind == "Succeed":
            return data
        if kind == "Fail":
            raise _StatesError(state.get("Error", ""), state.get("Cause", ""))
        if kind == "Choice":
            name = run.choice_state(name, state, data)
            continue
        data = run.pass_state(state, data) if kind == "Pass" else run.task_state(name, state, data)
        if state.get("End"):
            return data
        name = state["Next"]
    raise StepLimitExceeded(f"more than {max_steps} states entered; the next was {name!r}")


def run_state_machine(
    definition: dict,
    input: dict,  # Step Functions' own name for it
    invoke: Invoke,
    max_steps: int = 10_000,
    execution_id: str = "",
) -> dict:
    """Run the definition on `input`: {"status": "SUCCEEDED", "output", "history"} or
    {"status": "FAILED", "error", "cause", "history"}. The history lists {"entered": state} and
    {"retry": state, "error", "attempt", "interval"} in order."""
    check_definition(definition)
    execution_id = execution_id or f"arn:aws:states:local:000000000000:execution:{uuid.uuid4()}"
    run = _Run(definition, invoke, {"Execution": {"Id": execution_id, "Input": input}})
    try:
        output = _execute(run, copy.deepcopy(input), max_steps)
    except _StatesError as failed:
        return {
            "status": "FAILED",
            "error": failed.error,
            "cause": failed.cause,
            "history": run.history,
        }
    return {"status": "SUCCEEDED", "output": output, "history": run.history}
