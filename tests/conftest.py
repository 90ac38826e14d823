"""Fixtures: one running system per test session (real NATS JetStream and PostgreSQL), and a real browser."""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, async_playwright

from tests.support import System

CHROMIUM = os.environ.get("CADRE_CHROMIUM", "/usr/bin/chromium")


@pytest.fixture(scope="session")
def system(tmp_path_factory: pytest.TempPathFactory) -> Iterator[System]:
    """Every service, started as `make run` starts it, shared by the session's tests."""
    root: Path = tmp_path_factory.mktemp("system")
    sys_ = System(root, services=("ledger", "assessment", "audit", "rotation")).start()
    yield sys_
    sys_.stop()


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[Browser]:
    """Debian's Chromium driven by Playwright (never a downloaded browser), headless, one per test module."""
    assert shutil.which(CHROMIUM), f"{CHROMIUM} missing: `make test` installs Debian's chromium"
    async with async_playwright() as pw:
        chromium = await pw.chromium.launch(executable_path=CHROMIUM, headless=True,
                                            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        yield chromium
        await chromium.close()
