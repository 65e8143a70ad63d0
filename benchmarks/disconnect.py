"""A DO list from upload to every command acknowledged by the HES simulator (zero delay), time
per stage, beside the bare simulator round-trip of the same commands in the same run.
.venv/bin/python benchmarks/disconnect.py [--consumers 10000] [--wire-form json|cim]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.benchdb import FreshDatabase, redis_url


def _stage(label: str, started: float, figures: dict[str, float]) -> float:
    now = time.perf_counter()
    figures[label] = now - started
    print(f"  {label:<44} {now - started:8.2f} s", flush=True)
    return now


def measure(consumers: int, wire_form: str) -> dict[str, float]:
    from flask_migrate import upgrade
    from rq import SimpleWorker
    from sqlalchemy import func, select
    from werkzeug.serving import make_server

    from integrations.hes.command_simulator import HesCommandSimulator
    from integrations.hes.commands import Command, HttpHesClient
    from notifications.sealing import unseal
    from service import create_app
    from service.audit.log import Actor
    from service.auth.api_keys import create_key
    from service.auth.models import User
    from service.auth.principal import for_user
    from service.commands.issuing import upsert_hes_system
    from service.commands.models import HesCommand
    from service.config import Config
    from service.disconnections import flow, intake
    from service.disconnections.models import ListPart
    from service.extensions import db
    from service.notifications.models import Notification
    from service.outbox.jobs import sweep
    from service.queues import get_queue, redis_conn
    from tests.disconnections.conftest import TUESDAY_11_IST, make_world

    fresh = FreshDatabase("disconnect")
    url = fresh.create()
    figures: dict[str, float] = {}
    try:
        config = Config(
            database_url=url, redis_url=redis_url(), secret_key="bench", var_dir=Path(tempfile.mkdtemp())
        )
        app = create_app(config, clock=lambda: TUESDAY_11_IST)
        with app.app_context():
            upgrade()
            redis_conn(app).flushdb()
            session = db.session
            world = make_world(session, per_division=consumers // 2)
            server = make_server("127.0.0.1", 0, app, threaded=True)
            threading.Thread(target=server.serve_forever, daemon=True).start()
            _, token = create_key(session, "hes-sim", ["hes:write"], Actor("cli", "bench"), None)
            session.commit()
            sim = HesCommandSimulator(callback_url=f"http://127.0.0.1:{server.server_port}/api/v1/hes/callbacks",
                                      callback_token=token, emit_events=False)  # fmt: skip
            base = sim.start()
            upsert_hes_system(session, "HES-A", base_url=base, wire_form=wire_form, batch_size=1000,
                              rate_per_second=100_000)  # fmt: skip
            session.commit()

            # Baseline: the bare simulator round-trip, one POST per command, no database.
            bare_sim = HesCommandSimulator()
            bare = HttpHesClient(bare_sim.start(), wire_form)
            started = time.perf_counter()
            for i in range(consumers):
                bare.send(Command(f"B{i}", "disconnect", f"SM{i}"))
            figures["baseline: bare simulator round-trip"] = time.perf_counter() - started
            bare_sim.stop()
            print(
                f"  {'baseline: bare simulator round-trip':<44} {figures['baseline: bare simulator round-trip']:8.2f} s"
            )

            rows = [
                {"ivrs_number": n, "amount_due_inr": "900.00"}
                for d in ("DIV1", "DIV2")
                for n in world.ivrs[d]
            ]
            started = time.perf_counter()
            result = intake.take_list(session, "disconnect", "DO-BENCH", rows, Actor("system", "billing"))
            session.commit()
            started = _stage(f"upload and check {consumers} rows, start 2 parts", started, figures)
            officers = {
                u.org_unit_id: u for u in session.scalars(select(User).where(User.role == "field_officer"))
            }
            authority = session.scalars(select(User).where(User.role == "control_centre")).one()
            now = datetime.now(UTC)
            for part in result.parts:
                division = session.get(ListPart, part["part_id"]).division_id
                flow.approve(session, for_user(officers[division]), part["part_id"], "", now)
            session.commit()
            started = _stage("approve both parts", started, figures)
            for part in result.parts:
                # The authority's code, read back from the sealed SMS as the phone would show it.
                issued = flow.send_otp(session, for_user(authority), part["part_id"], now)
                sealed = session.get(Notification, issued.notification_id).sealed_params["otp"]
                confirmed = flow.confirm(
                    session, for_user(authority), part["part_id"], unseal("bench", sealed), now
                )
                assert confirmed.ok, confirmed
            session.commit()
            after_otp = started = _stage("OTP confirmation of both parts", started, figures)
            worker = SimpleWorker([get_queue("default", app)], connection=redis_conn(app))
            while True:
                worker.work(burst=True)
                db.session.remove()
                open_count = db.session.scalar(
                    select(func.count())
                    .select_from(HesCommand)
                    .where(HesCommand.state.in_(("queued", "held")))
                )
                if not open_count:
                    break
                sweep()
            started = _stage("commands created, sent in batches, acknowledged", started, figures)
            sim.wait_idle(timeout=600)
            db.session.remove()
            states = dict(
                db.session.execute(select(HesCommand.state, func.count()).group_by(HesCommand.state))
                .tuples()
                .all()
            )
            _stage("callbacks recorded (orders, supply, SMS rows)", started, figures)
            figures["after OTP to all acknowledged"] = time.perf_counter() - after_otp
            print(
                f"  {'after OTP to every command answered':<44} {figures['after OTP to all acknowledged']:8.2f} s   (goal < 120 s)"
            )
            print(f"  command states: {states}; simulator received {len(sim.received)}")
            sim.stop()
            server.shutdown()
            db.session.remove()
            db.engine.dispose()
    finally:
        fresh.drop()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--consumers", type=int, default=10_000)
    parser.add_argument("--wire-form", default="json", choices=("json", "cim"))
    args = parser.parse_args()
    print(f"disconnect: {args.consumers} consumers, wire form {args.wire_form}")
    measure(args.consumers, args.wire_form)


if __name__ == "__main__":
    main()
