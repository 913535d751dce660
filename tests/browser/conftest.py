"""The browser tests' fixtures: one headless Chromium per session (compliance_template.local.
browser) and the reports of tests/browser/report_fixtures.py, built once per session.

Without the browser they skip or fail as tests/browser/browser_required.py decides."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import report_fixtures
from browser_required import need_browser

from compliance_template.local import browser


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
