"""Shared by the browser tests: Debian's Chromium under Playwright, and the axe-core check."""

from __future__ import annotations

from pathlib import Path

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page

CHROMIUM = Path("/usr/bin/chromium")
#: Headless as root, no first-run work, and no background connections (the machine's network is closed).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def accessible(page: Page) -> None:
    """Zero axe-core violations on the page as it is now."""
    results = Axe().run(page)
    assert results.violations_count == 0, results.generate_report()
