"""The console in a real browser: Debian's chromium driven by Playwright (its own browser download cannot
reach its host here), against `optiinfra serve` running as a real process. Screenshots of every page go to
the test's tmp dir (and `OPTIINFRA_SCREENSHOTS`, when set, to look at them)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from tests.conftest import serve_simulator, service_missing, serving

ROLES = ("viewer", "operator", "approver")
# Deadlines far off: a fast cloud clock must not escalate or expire a request while a test looks at it.
PATIENT = '{"levels": [{"role": "approver", "hours": 2000}]}'


@dataclass
class Console:
    url: str
    keys: dict[str, str]
    db: str
    shots: Path

    def sign_in(self, browser: Browser, role: str, width: int = 1366, height: int = 900) -> Page:
        page = browser.new_context(viewport={"width": width, "height": height}).new_page()
        page.goto(f"{self.url}/login")
        page.get_by_label("API key").fill(self.keys[role])
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(f"{self.url}/")
        return page

    def shot(self, page: Page, name: str) -> None:
        page.screenshot(path=self.shots / f"{name}.png", full_page=True)
        extra = os.environ.get("OPTIINFRA_SCREENSHOTS")
        if extra:
            Path(extra).mkdir(parents=True, exist_ok=True)
            shutil.copy(self.shots / f"{name}.png", Path(extra) / f"{name}.png")


def _keys(db: str) -> dict[str, str]:
    made = {}
    for role in ROLES:
        done = subprocess.run(
            [sys.executable, "-m", "api.cli", "apikey", "create", f"{role}-key", "--role", role, "--db", db],
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
        made[role] = done.stdout.strip()
    return made


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    chromium = shutil.which("chromium")
    if chromium is None:
        service_missing("Chromium", "no `chromium` on PATH (apt-get install -y chromium)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=chromium,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--no-first-run",
                "--disable-sync",
            ],
        )
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def still(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Console]:
    """The service on an in-process simulator whose clock stands still: figures to check against its API."""
    root = tmp_path_factory.mktemp("console")
    db = f"sqlite:///{root / 'console.db'}"
    keys = _keys(db)
    with serving(["serve", "--db", db], log=root / "serve.log") as (url, _):
        yield Console(url, keys, db, root)


@pytest.fixture(scope="module")
def moving(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Console]:
    """The service on a simulator server whose clock runs an hour a second: a rollout's quality watch takes a
    second of wall time a wave, long enough to watch its waves arrive."""
    root = tmp_path_factory.mktemp("console-live")
    db = f"sqlite:///{root / 'console.db'}"
    keys = _keys(db)
    with (
        serve_simulator(7, 300, speed=3600) as cloud,
        serving(
            ["serve", "--db", db, "--cloud", cloud],
            env={"OPTIINFRA_APPROVAL_POLICY": PATIENT},
            log=root / "serve.log",
        ) as (url, _),
    ):
        yield Console(url, keys, db, root)
