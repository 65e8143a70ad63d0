"""Messages/s through the notification outbox -> real RQ worker -> Twilio stand-in.

Baseline in the same run: the bare SDK send loop (TwilioSms.send, i.e. twilio's
client.messages.create) against the same stand-in, no database and no queue.

    .venv/bin/python benchmarks/notifications.py --messages 2000
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from decimal import Decimal
from pathlib import Path
from tempfile import mkdtemp

from sqlalchemy import insert, select

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.benchdb import FreshDatabase
from notifications.simulators import TwilioStandIn
from notifications.sms_twilio import TwilioSms

SID, TOKEN = "AC" + "0" * 32, "bench-token"
PARAMS = {"ivrs": "N000000001", "amount_inr": "2340.00", "due_date": "05-12-2026"}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument(
        "--database-url",
        default=os.environ.get("CMDMS_BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres"),
    )
    parser.add_argument(
        "--redis-url", default=os.environ.get("CMDMS_BENCH_REDIS_URL", "redis://127.0.0.1:6379/9")
    )
    args = parser.parse_args()
    logging.disable(logging.WARNING)

    twilio = TwilioStandIn(SID, TOKEN).start()
    sender = TwilioSms(SID, TOKEN, "+15005550006", base_url=twilio.url)
    fresh = FreshDatabase("notifications", args.database_url)
    url = fresh.create()
    try:
        baseline = bare_sdk_loop(sender, args.messages)
        twilio.messages.clear()
        through_outbox(url, args.redis_url, sender, twilio, args.messages, baseline)
    finally:
        fresh.drop()
        twilio.stop()


def bare_sdk_loop(sender: TwilioSms, n: int) -> float:
    started = time.perf_counter()
    for i in range(n):
        sender.send(f"98260{i:05d}", "Consumer N000000001: Rs 2340.00 is overdue.", None)
    rate = n / (time.perf_counter() - started)
    print(f"baseline  bare SDK send loop (twilio messages.create) : {rate:8.0f} messages/s")
    return rate


def through_outbox(
    db_url: str, redis_url: str, sender: TwilioSms, twilio: TwilioStandIn, n: int, baseline: float
) -> None:
    from flask_migrate import upgrade
    from rq import SimpleWorker

    from service import create_app
    from service.config import Config
    from service.extensions import db
    from service.masterdata.models import Consumer, OrgUnit
    from service.notifications import notify
    from service.notifications.models import Notification
    from service.queues import get_queue, redis_conn

    config = Config(database_url=db_url, redis_url=redis_url, var_dir=Path(mkdtemp()), secret_key="bench")
    app = create_app(config, sms=sender)
    with app.app_context():
        upgrade()
        redis_conn().flushdb()
        session = db.session()
        unit = OrgUnit(code="B", name="Bench", level="discom", path="/B/")
        session.add(unit)
        session.flush()
        session.execute(
            insert(Consumer),
            [
                dict(
                    ivrs_number=f"N{i:09d}",
                    name=f"C{i}",
                    mobile=f"98260{i:05d}",
                    language="en",
                    tariff_category="LV1",
                    sanctioned_load=Decimal("2"),
                    org_unit_id=unit.id,
                )
                for i in range(n)
            ],
        )
        session.commit()
        ids = session.scalars(select(Consumer.id).order_by(Consumer.id)).all()

        started = time.perf_counter()
        for i, consumer_id in enumerate(ids):
            notify(
                session,
                consumer_id=consumer_id,
                message_type="disconnection_notice",
                params=PARAMS,
                dedupe_key=f"bench:{i}",
            )
        session.commit()  # enqueues one RQ job per notification
        notify_s = time.perf_counter() - started

        worker = SimpleWorker([get_queue("urgent")], connection=redis_conn())
        started = time.perf_counter()
        worker.work(burst=True, logging_level="WARNING")
        send_s = time.perf_counter() - started

        sent = session.scalar(select(db.func.count()).where(Notification.status == "sent"))
        assert sent == n and len(twilio.messages) == n, (sent, len(twilio.messages))
        print(f"notify() + commit (rows written, jobs enqueued)     : {n / notify_s:8.0f} notifications/s")
        print(f"one SimpleWorker: claim -> SDK send -> record         : {n / send_s:8.0f} messages/s")
        print(
            f"end to end (notify .. sent)                           : {n / (notify_s + send_s):8.0f} messages/s"
        )
        print(f"outbox worker vs bare SDK loop                        : {n / send_s / baseline:8.2f} x")
        print(f"({n} messages, each sent exactly once: {len(twilio.messages)} at the stand-in)")
        db.session.remove()


if __name__ == "__main__":
    main()
