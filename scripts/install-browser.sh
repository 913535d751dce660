#!/usr/bin/env bash
# Headless Chromium for the report's browser tests (tests/browser/) and `make report-sample`'s
# screenshot: Debian's chromium and chromium-driver, installed only when either is missing.
# Needs root (CI runs as root; elsewhere: sudo scripts/install-browser.sh). Recommended packages
# are kept: they bring the fonts (fonts-liberation) the tests' pages were measured with.
set -euo pipefail
if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq chromium chromium-driver >/dev/null
fi
chromium --version
chromedriver --version
