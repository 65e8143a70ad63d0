"""Steps every browser test takes: log in as a demo user, save a screenshot under test-results/."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from service.masterdata.demo import DEMO_PASSWORD

RESULTS = Path(__file__).resolve().parents[2] / "test-results"


def login(page: Any, base: str, username: str) -> None:
    page.goto(f"{base}/login")
    page.fill("#username", username)
    page.fill("#password", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")


def shot(page: Any, folder: str, name: str, full_page: bool = False) -> None:
    (RESULTS / folder).mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(RESULTS / folder / f"{name}.png"), full_page=full_page)
