"""Smoke test of the embedded default: `flask run-demo` with no URLs, as a fresh machine runs it.

Not collected by the normal suite (the file name has no test_ prefix); `.ci/run` runs it with
DATABASE_URL and REDIS_URL unset. It starts the demo in a subprocess with its own var directory,
waits for /healthz, logs in as admin, checks the landing page counts, sends SIGTERM and checks
that the process and its embedded PostgreSQL are gone.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parent.parent
CONSUMERS = 500
START_TIMEOUT_S = 180


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.fixture
def demo_process(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[bytes], str, Path]]:
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env["CMDMS_VAR_DIR"] = str(tmp_path / "var")
    log = (tmp_path / "demo.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "wsgi", "run-demo", "--consumers", str(CONSUMERS)]
        + ["--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        yield process, f"http://127.0.0.1:{port}", tmp_path
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=30)
        log.close()
        print((tmp_path / "demo.log").read_text(errors="replace")[-4000:])


def _wait_healthy(base: str, process: subprocess.Popen[bytes]) -> dict[str, object]:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        assert process.poll() is None, "the demo exited before it was healthy"
        try:
            response = requests.get(f"{base}/healthz", timeout=5)
            if response.status_code == 200:
                return response.json()
        except requests.ConnectionError:
            pass
        time.sleep(1)
    raise AssertionError(f"/healthz not ok within {START_TIMEOUT_S} s")


def test_run_demo_with_no_urls_serves_the_seeded_discom_and_stops_cleanly(demo_process) -> None:
    process, base, tmp = demo_process
    health = _wait_healthy(base, process)
    assert health["status"] == "ok"

    web = requests.Session()
    page = web.get(f"{base}/login", timeout=10)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.text)
    assert token, "no CSRF token on the login page"
    landed = web.post(
        f"{base}/login",
        data={"username": "admin", "password": "cmdms-demo", "csrf_token": token.group(1)},
        timeout=10,
    )
    assert landed.status_code == 200
    assert f'id="count-consumers">{CONSUMERS}<' in landed.text
    assert re.search(r'id="count-meters">\d+<', landed.text)
    assert web.get(f"{base}/consumers", timeout=10).status_code == 200

    pid_file = tmp / "var" / "pgdata" / "postmaster.pid"
    postgres_pid = int(pid_file.read_text().splitlines()[0])
    assert _alive(postgres_pid)

    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=60) == 0
    deadline = time.monotonic() + 30
    while _alive(postgres_pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not _alive(postgres_pid), "embedded PostgreSQL still running after the demo stopped"
    assert not pid_file.exists()
