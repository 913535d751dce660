"""Fixtures shared by the template tests: the generated templates as dicts, built in-process."""

from __future__ import annotations

import pytest
from template_helpers import EXAMPLES, as_dict

from compliance_template.settings import Settings, load_settings


@pytest.fixture(scope="session")
def default_template() -> dict:
    return as_dict(Settings())


@pytest.fixture(scope="session")
def all_rules_template() -> dict:
    return as_dict(load_settings(EXAMPLES / "all-rules.json"))


@pytest.fixture(scope="session", params=["default", "all-rules"])
def any_template(request, default_template, all_rules_template) -> dict:
    return default_template if request.param == "default" else all_rules_template
