"""`flask worker` (RQ worker + scheduler + periodic ticker) and `flask run-demo`."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import click
from flask import Flask, current_app
from rq import SimpleWorker

from service.queues import ALL_QUEUES, get_queue, redis_conn


def register(app: Flask) -> None:
    @app.cli.command("worker")
    @click.option("--queue", "queue_names", multiple=True, help="Queues to serve (default all)")
    @click.option("--burst", is_flag=True, help="Stop when the queues are empty")
    @click.option("--no-ticker", is_flag=True, help="Do not run periodic tasks from this worker")
    def worker(queue_names: tuple[str, ...], burst: bool, no_ticker: bool) -> None:
        """Serve RQ queues (urgent first) with the scheduler for retries and timers."""
        from service.ops.periodic import start_ticker

        names = queue_names or ALL_QUEUES
        queues = [get_queue(n) for n in names]
        stop = threading.Event()
        if not no_ticker and not burst:
            start_ticker(redis_conn(), stop)
        # SimpleWorker: no fork per job (LIBRARY-NOTES: ~4x the job rate of the forking worker).
        w = SimpleWorker(queues, connection=redis_conn())
        try:
            w.work(burst=burst, with_scheduler=not burst, logging_level="INFO")
        finally:
            stop.set()

    @app.cli.command("run-demo")
    @click.option("--host", default="127.0.0.1")
    @click.option("--port", default=5000, type=int)
    @click.option("--consumers", default=10_000, type=int)
    def run_demo(host: str, port: int, consumers: int) -> None:
        """Migrate, seed the demo discom (once), then serve web + worker until Ctrl-C."""
        from flask_migrate import upgrade
        from waitress import serve

        from service.config import child_environment
        from service.demo.seed import is_seeded, seed_demo
        from service.unit_of_work import unit_of_work

        def _stop(*_: Any) -> None:
            # Leave seeding or waitress; the finally below stops the worker and the servers.
            raise SystemExit(0)

        signal.signal(signal.SIGTERM, _stop)
        config = current_app.extensions["cmdms.config"]
        worker: subprocess.Popen[bytes] | None = None
        try:
            upgrade()
            with unit_of_work(remove=True) as uow:
                if not is_seeded(uow.session):
                    click.echo(f"seeding the demo discom ({consumers} consumers) ...")
                    summary = seed_demo(uow.session, consumers=consumers, seed=42)
                    uow.commit()
                    click.echo(summary.describe())
            env = child_environment({"DATABASE_URL": config.database_url, "REDIS_URL": config.redis_url})
            log_path = worker_log_path(config.var_dir)
            worker = start_worker(env, log_path)
            click.echo("")
            click.echo(f"CMDMS demo at http://{host}:{port}/  (API docs: /api/docs, health: /healthz)")
            click.echo(f"worker log: {log_path}  (tail -f it to watch jobs)")
            click.echo(
                "log in as admin / cmdms-demo  (every demo user has that password; see docs/operations.md)"
            )
            serve(current_app._get_current_object(), host=host, port=port, threads=8)  # type: ignore[attr-defined]
        finally:
            _shutdown(worker)


def worker_log_path(var_dir: Path) -> Path:
    """Where the demo's worker writes its log: var/log/worker.log (the directory made if needed)."""
    folder = var_dir / "log"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / "worker.log"


def start_worker(env: dict[str, str], log_path: Path, *args: str) -> subprocess.Popen[bytes]:
    """`flask worker` as a child whose output is appended to `log_path`, not the terminal, so its
    INFO lines do not bury the demo's start-up banner."""
    with log_path.open("ab") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "wsgi", "worker", *args],
            env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        )  # fmt: skip


def _shutdown(worker: subprocess.Popen[bytes] | None) -> None:
    """Stop the worker (if started), then the embedded servers this process started (if any)."""
    from service.extensions import db

    if worker is not None:
        worker.terminate()
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait(timeout=5)
    db.engine.dispose()
    current_app.extensions["cmdms.embedded"].stop()
    click.echo("CMDMS demo stopped.")
