"""The consumer 360 view for customer care: one consumer as the principal may see it, with its
meters and installations, supply status now (from the latest relay and power events), last
readings, recent events, notifications sent, and the sections other domains fill (seams)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from integrations.is15959 import EVENT_CODES
from service.auth.principal import Principal
from service.consumers.seams import SEAMS, Section, section
from service.masterdata.cards import consumer_card
from service.notifications.listing import Filters, list_notifications

RELAY_OFF, RELAY_ON = 301, 302
POWER_FAIL, POWER_BACK = 101, 102
EVENT_WINDOW = timedelta(days=30)
RECENT_EVENTS = 20


@dataclass(frozen=True)
class Supply:
    state: str  # connected | disconnected | power_failed | unknown
    since: datetime | None
    recorded: str | None  # what master data holds (set by confirmed commands / billing)
    evidence: str  # the event the state comes from, or why it is unknown


_INSTALLATIONS = text(
    """
    SELECT m.id AS meter_id, m.serial_number, m.meter_class, m.make, m.model, m.hes_code,
           i.installed_at, i.removed_at, i.initial_kwh, i.final_kwh
      FROM installations i JOIN meters m ON m.id = i.meter_id
     WHERE i.consumer_id = :c ORDER BY i.installed_at DESC
    """
)

# The newest relay event and the newest power event of the meter installed now, by event time.
_LATEST = text(
    """
    SELECT DISTINCT ON (grp) grp, code, occurred_at, restored_at FROM (
      SELECT CASE WHEN e.code IN (301, 302) THEN 'relay' ELSE 'power' END AS grp,
             e.code, e.occurred_at, e.restored_at
        FROM meter_events e
       WHERE e.meter_id = :m AND e.code IN (101, 102, 301, 302) AND e.occurred_at <= :now
    ) x ORDER BY grp, occurred_at DESC, code DESC
    """
)

_EVENTS = text(
    """
    SELECT e.code, e.occurred_at, e.restored_at, m.serial_number
      FROM meter_events e JOIN meters m ON m.id = e.meter_id
     WHERE e.meter_id = ANY(:meters) AND e.occurred_at > :since AND e.occurred_at <= :now
     ORDER BY e.occurred_at DESC, e.code LIMIT :limit
    """
)

_LAST_DAYS = text(
    """
    SELECT d.day, d.kwh_import, m.serial_number FROM agg_meter_day d JOIN meters m ON m.id = d.meter_id
     WHERE d.meter_id = ANY(:meters) AND d.day > CAST(:since AS date)
     ORDER BY d.day DESC, m.serial_number LIMIT 7
    """
)

_LAST_REGISTERS = text(
    """
    SELECT DISTINCT ON (r.meter_id, r.kind) r.kind, r.read_at, r.value, r.quality, m.serial_number
      FROM register_reads r JOIN meters m ON m.id = r.meter_id
     WHERE r.meter_id = ANY(:meters) AND r.channel = 'kwh' AND r.tod_zone = 0 AND r.read_at > :since
       AND r.read_at <= :now
     ORDER BY r.meter_id, r.kind, r.read_at DESC
    """
)


def supply_now(session: Session, meter_id: int | None, recorded: str | None, now: datetime) -> Supply:
    """Disconnected when the latest relay event opened the switch; power failed when the latest
    power event is a failure not yet restored; connected when a relay or power event says so."""
    if meter_id is None:
        return Supply("unknown", None, recorded, "no meter installed")
    latest = {r.grp: r for r in session.execute(_LATEST, {"m": meter_id, "now": now})}
    relay, power = latest.get("relay"), latest.get("power")
    if relay is not None and relay.code == RELAY_OFF:
        return Supply("disconnected", relay.occurred_at, recorded, EVENT_CODES[RELAY_OFF])
    if power is not None and power.code == POWER_FAIL and power.restored_at is None:
        return Supply("power_failed", power.occurred_at, recorded, EVENT_CODES[POWER_FAIL])
    if relay is None and power is None:
        return Supply("unknown", None, recorded, "no relay or power event from the meter")
    newest = max((r for r in (relay, power) if r is not None), key=lambda r: r.occurred_at)
    since = newest.restored_at or newest.occurred_at
    return Supply("connected", since, recorded, EVENT_CODES.get(newest.code, str(newest.code)))


def consumer_360(
    session: Session, principal: Principal, ivrs_number: str, now: datetime
) -> dict[str, Any] | None:
    """Everything the page shows, or None when the consumer is unknown or outside the
    principal's org unit (the two look the same)."""
    card = consumer_card(session, principal, ivrs_number)
    if card is None:
        return None
    installations = [dict(r._mapping) for r in session.execute(_INSTALLATIONS, {"c": card["id"]})]
    meters = sorted({i["meter_id"] for i in installations})
    current = card["meter"]["id"] if card["meter"] else None
    since = now - EVENT_WINDOW
    args = {"meters": meters, "since": since, "now": now}
    events = [
        {**dict(r._mapping), "name": EVENT_CODES.get(r.code, f"code {r.code}")}
        for r in session.execute(_EVENTS, {**args, "limit": RECENT_EVENTS})
    ]
    old_since = now - timedelta(days=400)
    return {
        "consumer": card,
        "installations": installations,
        "supply": supply_now(session, current, card.get("supply_status"), now),
        "last_days": [dict(r._mapping) for r in session.execute(_LAST_DAYS, {**args, "since": since.date()})],
        "last_registers": [
            dict(r._mapping) for r in session.execute(_LAST_REGISTERS, {**args, "since": old_since})
        ],
        "events": events,
        "notifications": list_notifications(
            session, principal, Filters(consumer_ivrs=card["ivrs_number"], limit=10)
        ),
        "sections": {name: section(name, session, card["id"], now) for name in SEAMS},
    }


__all__ = ["Section", "Supply", "consumer_360", "supply_now"]
