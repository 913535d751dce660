"""Fixtures shared by the template tests (the generated templates as dicts, built in-process),
and the marking of slow tests (tests/slow_tests.py)."""

from __future__ import annotations

import functools
import socket

import pytest
from slow_tests import EMULATOR, FILE_MARKERS, REASONS, SLOW
from template_helpers import EXAMPLES, as_dict

from compliance_template.generator.settings import Settings, load_settings


@pytest.fixture(scope="session", autouse=True)
def _one_botocore_loader():
    """Every botocore session of the run shares one loader, so each service model is parsed once
    (a new session parses them again; the moto tests make one per test). The loader only caches
    what it read from botocore's data files."""
    import botocore.session

    shared = functools.cache(botocore.session.create_loader)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(botocore.session, "create_loader", shared)
        yield


@pytest.fixture(scope="session")
def default_template() -> dict:
    return as_dict(Settings())


@pytest.fixture(scope="session")
def all_rules_template() -> dict:
    return as_dict(load_settings(EXAMPLES / "all-rules.json"))


@pytest.fixture(scope="session")
def framework_template() -> dict:
    """The largest framework (130 rules), with pack parameters, conditions and manual controls."""
    return as_dict(load_settings(EXAMPLES / "framework-nist-800-53-rev-5.json"))


@pytest.fixture(scope="session", params=["default", "all-rules"])
def any_template(request, default_template, all_rules_template) -> dict:
    return default_template if request.param == "default" else all_rules_template


def pytest_ignore_collect(collection_path, config) -> bool | None:
    """`-m "not slow"` does not even import a file whose every test is slow: importing the
    emulator alone takes about two seconds."""
    if config.option.markexpr != f"not {SLOW}" or collection_path.suffix != ".py":
        return None
    if not collection_path.is_relative_to(config.rootpath):
        return None
    relative = collection_path.relative_to(config.rootpath).as_posix()
    return True if FILE_MARKERS.get(relative) else None


# First, so that `-m "not slow"` sees the markers added here.
@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items) -> None:
    """Each test gets its file's markers (tests/slow_tests.py), and `slow` when it has any."""
    root = config.rootpath
    for item in items:
        relative = item.path.relative_to(root).as_posix()
        reasons = FILE_MARKERS.get(relative, ())
        for reason in reasons:
            item.add_marker(reason)
        if reasons or any(item.get_closest_marker(reason) for reason in REASONS):
            item.add_marker(SLOW)


def _refuse_to_listen(_sock: socket.socket, *_args: object) -> None:
    raise AssertionError(
        f"this test starts a server: mark it `{EMULATOR}` (tests/slow_tests.py) or avoid the server"
    )


@pytest.fixture(autouse=True)
def _servers_only_in_emulator_tests(request, monkeypatch) -> None:
    """A unit test that starts moto's server (or any other) fails instead of slowing the loop."""
    if request.node.get_closest_marker(EMULATOR) is None:
        monkeypatch.setattr(socket.socket, "listen", _refuse_to_listen)
