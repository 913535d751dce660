"""Headless Chromium for looking at report.html: the browser tests (tests/browser/), the sample
report's screenshot (`make report-sample`) and the page timings of `make bench`.

Debian's chromium and chromedriver (scripts/install-browser.sh), driven by Selenium. The page is
loaded by file:// URL with every host name resolving to nothing, so a page that needed anything
from a network would show it (a console error, a missing part) instead of quietly fetching it.
"""

from __future__ import annotations

import base64
import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
INSTALL = "scripts/install-browser.sh"
WIDTH, HEIGHT, SCALE = 1280, 900, 1
# Records securitypolicyviolation events from the first script of every document on, for
# csp_violations(): a blocked fetch may not reach the console log in every Chromium version.
_CSP_LISTENER = """
window.__cspViolations = [];
document.addEventListener('securitypolicyviolation', e => window.__cspViolations.push(
  e.violatedDirective + ' blocked ' + (e.blockedURI || '(inline)')));
"""


class BrowserMissing(RuntimeError):
    """chromium, chromedriver or selenium is not installed."""


@dataclass(frozen=True)
class Browser:
    chromium: str
    chromedriver: str


def find() -> Browser:
    """The installed browser and driver, or BrowserMissing saying how to install them."""
    chromium = shutil.which("chromium") or (CHROMIUM if os.access(CHROMIUM, os.X_OK) else None)
    driver = shutil.which("chromedriver") or (
        CHROMEDRIVER if os.access(CHROMEDRIVER, os.X_OK) else None
    )
    missing = [
        name for name, path in (("chromium", chromium), ("chromedriver", driver)) if not path
    ]
    if missing:
        raise BrowserMissing(f"{' and '.join(missing)} not found: run sudo {INSTALL}")
    try:
        import selenium  # noqa: F401
    except ModuleNotFoundError:
        raise BrowserMissing("selenium is not installed: run `make venv`") from None
    return Browser(chromium or CHROMIUM, driver or CHROMEDRIVER)


def arguments(width: int = WIDTH, height: int = HEIGHT) -> list[str]:
    args = [
        "--headless=new",
        "--disable-gpu",
        f"--window-size={width},{height}",
        f"--force-device-scale-factor={SCALE}",
        # No network: every name resolves to nothing; file:// needs none.
        "--host-resolver-rules=MAP * ~NOTFOUND",
        "--disable-dev-shm-usage",  # containers often give /dev/shm 64 MB, too little for tabs
        "--no-first-run",
        "--disable-extensions",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
    ]
    if os.geteuid() == 0:
        # Chromium refuses to start its sandbox as root (a CI container's default user); the
        # pages it opens here are our own generated files, not the web.
        args.append("--no-sandbox")
    return args


def start(width: int = WIDTH, height: int = HEIGHT) -> Any:
    """A headless Chromium session (selenium WebDriver); the caller quits it."""
    found = find()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = found.chromium
    for argument in arguments(width, height):
        options.add_argument(argument)
    # chromedriver hands the console log (get_log("browser")) only when asked for it.
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    # The driver's path is given, so Selenium Manager (which downloads drivers) never runs.
    driver = webdriver.Chrome(service=Service(executable_path=found.chromedriver), options=options)
    driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": _CSP_LISTENER})
    return driver


def open_file(driver: Any, path: Path) -> None:
    driver.get(path.resolve().as_uri())


def set_viewport(driver: Any, width: int, height: int = HEIGHT) -> None:
    """The layout viewport, exactly (a window size would include the window's frame)."""
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": width, "height": height, "deviceScaleFactor": SCALE, "mobile": False},
    )


def emulate_media(driver: Any, media: str) -> None:
    """'print' or '' (screen)."""
    driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": media})


def full_page_png(driver: Any, height: int | None = None) -> bytes:
    """The whole page, not just the viewport, as PNG; only its top ``height`` CSS pixels when
    given."""
    metrics = driver.execute_cdp_cmd("Page.getLayoutMetrics", {})
    size = metrics.get("cssContentSize") or metrics["contentSize"]
    tall = size["height"] if height is None else min(size["height"], height)
    shot = driver.execute_cdp_cmd(
        "Page.captureScreenshot",
        {
            "format": "png",
            "captureBeyondViewport": True,
            "clip": {
                "x": 0,
                "y": 0,
                "width": size["width"],
                "height": tall,
                "scale": 1,
            },
        },
    )
    return base64.b64decode(shot["data"])


def screenshot(report: Path, out: Path, width: int = WIDTH, height: int | None = None) -> Path:
    """A full-page PNG of ``report`` at ``width`` CSS pixels (only the top ``height`` pixels
    when given), written to ``out``."""
    driver = start(width)
    try:
        open_file(driver, report)
        set_viewport(driver, width)
        out.write_bytes(full_page_png(driver, height))
    finally:
        driver.quit()
    return out


def print_pdf(driver: Any) -> bytes:
    """The page printed as Chromium prints it, with the page size its CSS asks for."""
    printed = driver.execute_cdp_cmd(
        "Page.printToPDF", {"preferCSSPageSize": True, "printBackground": True}
    )
    return base64.b64decode(printed["data"])


_MEDIA_BOX = re.compile(rb"/MediaBox\s*\[\s*([-\d.]+)\s+([-\d.]+)\s+([-\d.]+)\s+([-\d.]+)\s*\]")


def pdf_page_sizes(pdf: bytes) -> list[tuple[float, float]]:
    """Each page's MediaBox width and height in points (Chromium writes page dictionaries
    uncompressed, one MediaBox each)."""
    return [
        (float(x1) - float(x0), float(y1) - float(y0)) for x0, y0, x1, y1 in _MEDIA_BOX.findall(pdf)
    ]
