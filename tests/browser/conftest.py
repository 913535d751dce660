"""The browser tests' fixtures: one headless Chromium per session (compliance_template.local.
browser) and the reports of tests/browser/report_fixtures.py, built once per session.

Without the browser the tests skip, naming the install command, except when REQUIRE_BROWSER=1
(CI, .ci/run): there they fail, so CI can never pass by skipping them."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import report_fixtures

from compliance_template.local import browser


def need_browser() -> None:
    try:
        browser.find()
    except browser.BrowserMissing as missing:
        if os.environ.get("REQUIRE_BROWSER") == "1":
            pytest.fail(f"REQUIRE_BROWSER=1 but {missing}", pytrace=False)
        pytest.skip(str(missing))


@pytest.fixture(scope="session")
def driver() -> Iterator[Any]:
    need_browser()
    session = browser.start()
    yield session
    session.quit()


@pytest.fixture
def page(driver) -> Iterator[Any]:
    """The session's browser with a fresh viewport and screen media, its log drained."""
    browser.set_viewport(driver, browser.WIDTH)
    browser.emulate_media(driver, "")
    driver.get_log("browser")
    yield driver


@pytest.fixture(scope="session")
def reports(tmp_path_factory) -> dict[str, report_fixtures.Report]:
    out: Path = tmp_path_factory.mktemp("reports")
    return {name: build(out) for name, build in report_fixtures.BUILDERS.items()}
