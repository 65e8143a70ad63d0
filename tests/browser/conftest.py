"""Headless Chromium (Debian's, /usr/bin/chromium) against the test app on a live server thread."""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from werkzeug.serving import make_server

from tests.commands.conftest import add_hes  # noqa: F401  (shared fixtures)
from tests.disconnections.conftest import clock, world  # noqa: F401
from tests.notifications.conftest import engine, sms_only, twilio  # noqa: F401
from tests.processes.conftest import discom, org, processes_app  # noqa: F401  (shared fixtures)
from tests.web.conftest import refused_rule_file  # noqa: F401

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]  # fmt: skip


@pytest.fixture
def live_server(app: Flask) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    # Browser tests must run, never skip: a missing Chromium is a failure.
    # Module scope: Playwright's sync API keeps an asyncio loop running on this thread while it
    # is open, which breaks later tests that call asyncio.run (firebase-admin's close does).
    executable = CHROMIUM if CHROMIUM.exists() else Path(shutil.which("chromium") or "/missing/chromium")
    assert executable.exists(), "Chromium is missing: apt-get install -y chromium"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(executable), args=CHROMIUM_ARGS, headless=True
        )
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    opened = context.new_page()
    opened.set_default_timeout(15_000)
    yield opened
    context.close()
