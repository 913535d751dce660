"""Whether the browser tests run: without Chromium they skip, naming the install command,
except when REQUIRE_BROWSER=1 (CI, .ci/run): there they fail, so CI can never pass by skipping."""

from __future__ import annotations

import os

import pytest

from compliance_template.local import browser


def need_browser() -> None:
    try:
        browser.find()
    except browser.BrowserMissing as missing:
        if os.environ.get("REQUIRE_BROWSER") == "1":
            pytest.fail(f"REQUIRE_BROWSER=1 but {missing}", pytrace=False)
        pytest.skip(str(missing))
