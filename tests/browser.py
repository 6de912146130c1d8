"""Headless Chromium for the browser tests and bench/console_fleet.py: where it is, how it is
launched, and what a page reports on its console.

Debian's `chromium` is the browser and playwright-python the driver (`.ci/run` installs both).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

sync_api = pytest.importorskip("playwright.sync_api")

CHROMIUM = os.environ.get("HYPERFLEET_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
VIEWPORT = {"width": 1366, "height": 860}


def require_chromium() -> None:
    """At a test module's top: skip it without Chromium, except under CI=true, where it fails
    (browser tests must not be skipped there)."""
    if shutil.which(CHROMIUM) is None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"no Chromium at {CHROMIUM} (CI=true: browser tests must not be skipped)")
        pytest.skip(f"no Chromium at {CHROMIUM}", allow_module_level=True)


@contextmanager
def chromium() -> Iterator[Any]:
    """A launched headless Chromium (a playwright `Browser`), closed on exit.

    Playwright's sync API runs an event loop in this thread while it is open: set up async
    fixtures (databases, servers) before entering it.
    """
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield browser
        finally:
            browser.close()


def console_errors(page: Any, *, warnings: bool = True) -> list[str]:
    """A list that fills with what `page` reports from now on: `console error: …` (and
    `console warning: …` with `warnings`) lines, and `page error: …` for uncaught errors."""
    levels = ("error", "warning") if warnings else ("error",)
    errors: list[str] = []

    def on_console(message: Any) -> None:
        if message.type in levels:
            errors.append(f"console {message.type}: {message.text}")

    page.on("console", on_console)
    page.on("pageerror", lambda e: errors.append(f"page error: {e}"))
    return errors
