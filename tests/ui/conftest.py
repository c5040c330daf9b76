"""Headless Chromium (Debian's ``chromium`` package) driven by Playwright, and the whole system
(tests/e2e) for the flow test.

Without ``/usr/bin/chromium`` the browser tests skip with one line, except in CI
(``CI=true``), where they fail: CI installs it (``.ci/run``).
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, async_playwright

from tests.e2e.conftest import db, system  # noqa: F401  (the e2e fixtures, reused)
from tests.stripe_sync.conftest import sync_settings  # noqa: F401  (the worker's, on the fake)

CHROMIUM = Path("/usr/bin/chromium")


def require_chromium() -> None:
    """Called at the top of a browser test module: skips it, in one line, without chromium (or
    fails it, in CI)."""
    if CHROMIUM.exists():
        return
    message = f"{CHROMIUM} is missing: apt-get install chromium"
    if os.environ.get("CI") == "true":
        pytest.fail(message, pytrace=False)
    pytest.skip(message, allow_module_level=True)


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox"]
        )
        try:
            yield launched
        finally:
            await launched.close()


class Shots:
    """Screenshots of the pages a test saw, numbered in order, under the test's tmp_path (never
    in the repository)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.taken: list[Path] = []

    async def __call__(self, page: Page, name: str) -> Path:
        path = self.folder / f"{len(self.taken) + 1:02}-{name}.png"
        await page.screenshot(path=str(path), full_page=True)
        self.taken.append(path)
        return path


@pytest.fixture
def shots(tmp_path: Path) -> Shots:
    """``$TWOWAY_UI_SCREENSHOTS`` names another folder (docs/ui/make_screenshots.sh)."""
    folder = Path(os.environ.get("TWOWAY_UI_SCREENSHOTS") or tmp_path / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return Shots(folder)
