"""Consumers as the revenue-protection analytics see them: who they are, where they hang on the
network on a day, and their tariff and sanctioned load (peer groups), read as columns."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import numpy.typing as npt
from sqlalchemy import text
from sqlalchemy.orm import Session

_PROFILES = """
WITH day AS (
  SELECT (CAST(:day AS date)::timestamp AT TIME ZONE 'Asia/Kolkata') AS s,
         ((CAST(:day AS date) + 1)::timestamp AT TIME ZONE 'Asia/Kolkata') AS e
)
SELECT c.id, c.org_unit_id, c.tariff_category,
  CAST(c.sanctioned_load AS float8) AS sanctioned_load, coalesce(l.dtr_id, 0) AS dtr_id,
  coalesce(l.feeder_id, df.feeder_id, 0) AS feeder_id, coalesce(i.meter_id, 0) AS meter_id
FROM day
JOIN consumer_supply_links l ON l.valid_from <= day.s AND (l.valid_to IS NULL OR l.valid_to > day.s)
JOIN consumers c ON c.id = l.consumer_id
LEFT JOIN dtr_feeder_links df ON df.dtr_id = l.dtr_id AND df.valid_from <= day.s
  AND (df.valid_to IS NULL OR df.valid_to > day.s)
LEFT JOIN LATERAL (
  SELECT i.meter_id FROM installations i
  WHERE i.consumer_id = c.id AND i.installed_at < day.e AND (i.removed_at IS NULL OR i.removed_at > day.s)
  ORDER BY i.installed_at DESC LIMIT 1
) i ON true
ORDER BY c.id
"""


@dataclass(frozen=True)
class Profiles:
    """One row per consumer connected on the day (0 = none for DT, feeder and meter)."""

    consumer_id: npt.NDArray[np.int64]
    org_unit_id: npt.NDArray[np.int64]
    tariff: npt.NDArray[np.object_]
    sanctioned_load: npt.NDArray[np.float64]
    dtr_id: npt.NDArray[np.int64]
    feeder_id: npt.NDArray[np.int64]
    meter_id: npt.NDArray[np.int64]

    def __len__(self) -> int:
        return len(self.consumer_id)


def consumer_profiles(session: Session, day: date) -> Profiles:
    rows = session.execute(text(_PROFILES), {"day": day}).all()
    cols = list(zip(*rows, strict=True)) if rows else [()] * 7
    return Profiles(
        consumer_id=np.array(cols[0], dtype=np.int64),
        org_unit_id=np.array(cols[1], dtype=np.int64),
        tariff=np.array(cols[2], dtype=object),
        sanctioned_load=np.array(cols[3], dtype=np.float64),
        dtr_id=np.array(cols[4], dtype=np.int64),
        feeder_id=np.array(cols[5], dtype=np.int64),
        meter_id=np.array(cols[6], dtype=np.int64),
    )


def consumers_of_meters(session: Session, meter_ids: list[int]) -> dict[int, tuple[int, int]]:
    """meter id -> (consumer id, consumer's org unit) of the meter's open installation."""
    if not meter_ids:
        return {}
    rows = session.execute(
        text(
            "SELECT i.meter_id, c.id, c.org_unit_id FROM installations i JOIN consumers c ON c.id = i.consumer_id"
            " WHERE i.meter_id = ANY(:m) AND i.removed_at IS NULL"
        ),
        {"m": meter_ids},
    )
    return {int(m): (int(c), int(o)) for m, c, o in rows}


def consumer_facts(session: Session, consumer_ids: list[int]) -> dict[int, tuple[str, int]]:
    """consumer id -> (IVRS number, org unit)."""
    if not consumer_ids:
        return {}
    rows = session.execute(
        text("SELECT id, ivrs_number, org_unit_id FROM consumers WHERE id = ANY(:c)"), {"c": consumer_ids}
    )
    return {int(i): (str(v), int(o)) for i, v, o in rows}
