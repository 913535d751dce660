"""Property-based tests: arbitrary JSON thrown at each handler and parser.

The only failure allowed is the function's own validation error; the handlers turn it into a
``rejected`` result (they must not raise, or Lambda would retry a hopeless event).
"""

from __future__ import annotations

import copy

import changes
import findings
from conftest import lambda_context, load_app
from function_events import change_event, finding
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from validation import ValidationError

processing = load_app("processing")
remediation = load_app("remediation")
reporting = load_app("reporting")

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=15), children, max_size=5)
    ),
    max_leaves=25,
)
HANDLER_SETTINGS = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def paths(document, prefix=()):
    """Every path to a value inside a JSON document."""
    yield prefix
    if isinstance(document, dict):
        for key, value in document.items():
            yield from paths(value, (*prefix, key))


def mutated(document, path, value):
    """The document with the value at ``path`` replaced (or the key removed when value is ...)."""
    result = copy.deepcopy(document)
    if not path:
        return value
    target = result
    for key in path[:-1]:
        target = target[key]
    if value is Ellipsis:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return result


def mutations(document):
    return st.tuples(st.sampled_from(list(paths(document))), json_values | st.just(Ellipsis)).map(
        lambda pair: mutated(document, *pair)
    )


@settings(max_examples=300, deadline=None)
@given(json_values | mutations(change_event()))
def test_the_event_parser_only_ever_raises_its_validation_error(event):
    try:
        changes.parse_event(event)
    except ValidationError as error:
        assert str(error).split(":")[0] == error.field


@settings(max_examples=300, deadline=None)
@given(json_values)
def test_the_finding_parser_only_ever_raises_its_validation_error(message):
    try:
        findings.parse_finding(message)
    except ValidationError as error:
        assert str(error).startswith(f"{error.field}: expected ")


@HANDLER_SETTINGS
@given(event=json_values | mutations(change_event()))
def test_processing_handles_any_json(world, event):
    result = processing.handler(event, lambda_context("req-prop"))
    assert result["status"] in ("rejected", "ignored", "recorded", "duplicate", "recovered")


@HANDLER_SETTINGS
@given(message=json_values | mutations(finding("AWS::S3::Bucket", "data-bucket")))
def test_remediation_handles_any_json(world, message):
    result = remediation.handler(message, lambda_context("req-prop", "remediation"))
    assert result["status"] in ("rejected", "ignored", "decided")


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(event=json_values)
def test_reporting_handles_any_json(world, event):
    from function_fakes import FakeConfig

    fake = FakeConfig()
    fake.attach(world.aws.client("config"))
    result = reporting.handler(event, lambda_context("req-prop", "reporting"))
    assert result["status"] in ("rejected", "reported")
