"""Demo data: a few notices to consumers, sent through the console channel by the demo worker."""

from __future__ import annotations

from datetime import UTC, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.demo.seed import DemoContext
from service.masterdata import Consumer
from service.notifications.sending import notify


def seed_notifications(session: Session, context: DemoContext) -> None:
    consumers = session.execute(
        select(Consumer.id, Consumer.ivrs_number)
        .where(Consumer.mobile.is_not(None))
        .order_by(Consumer.id)
        .limit(6)
    ).all()
    if not consumers:
        return
    # Daytime in India (11:30 IST), so the informational ones are not held for quiet hours, and
    # not after the seed's clock, so they are due at once whatever the hour of seeding.
    now = context.now.astimezone(UTC).replace(hour=6, minute=0, second=0, microsecond=0)
    if now > context.now:
        now -= timedelta(days=1)
    restored = (now + timedelta(hours=5, minutes=30)).strftime("%d-%m %H:%M")
    samples = [
        ("planned_outage", {"area": "Arera Colony feeder 11", "start": "10:00 tomorrow", "end": "14:00"}),
        ("supply_restored", {"area": "Arera Colony feeder 11", "time": restored}),
        ("disconnection_notice", {"amount_inr": "2,340.00", "due_date": "05-12-2026"}),
        ("low_prepaid_balance", {"balance_inr": "48.20", "days": "2"}),
        (
            "recharge_confirmation",
            {"amount_inr": "500.00", "balance_inr": "548.20", "reference": "RC20261128001"},
        ),
        ("reconnection", {"time": restored}),
    ]
    for (consumer_id, ivrs), (message_type, params) in zip(consumers, samples, strict=False):
        if message_type in (
            "disconnection_notice",
            "low_prepaid_balance",
            "recharge_confirmation",
            "reconnection",
        ):
            params = {"ivrs": ivrs[:12], **params}
        notify(
            session,
            consumer_id=consumer_id,
            message_type=message_type,
            params=params,
            dedupe_key=f"demo:{context.seed}:{message_type}:{consumer_id}",
            now=now,
        )
    context.notes.append(f"notifications: {len(consumers)} sample notices queued (console channel)")
