"""The daily aggregate's scalar consumption (what reports sum) counts both meters across a
replacement, exactly as the consumer's consumption does: one rule, in `agg_scalar_read`."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import text

from service.consumption import consumption
from tests.consumption.conftest import (
    SCALAR_FINAL,
    SCALAR_REPLACED_AT,
    TODAY,
    Consumers,
    scalar_batch,
)


def _agg(session: Any, meters: list[int]) -> list[tuple[str, float | None]]:
    return [
        (r[0].date().isoformat(), r[1])
        for r in session.execute(
            text(
                "SELECT read_at, consumption_kwh FROM agg_scalar_read WHERE meter_id = ANY(:ids) ORDER BY read_at"
            ),
            {"ids": meters},
        )
    ]


def test_the_new_meters_first_read_counts_from_its_initial_reading(session: Any, loaded: Consumers) -> None:
    rows = _agg(session, [loaded.ids["RS2"]])
    # 85 - 5 initial; before the fix the first read of a new meter had no consumption (NULL).
    assert rows == [("2026-09-05", 80.0), ("2026-10-05", 120.0), ("2026-11-05", 95.0)]
    old = _agg(session, [loaded.ids["RS1"]])
    assert old == [("2026-06-05", 1000.0), ("2026-07-05", 100.0), ("2026-08-05", 150.0)]


def test_a_stored_final_read_makes_the_aggregate_sum_equal_the_consumers_consumption(
    session: Any, loaded: Consumers, ingest_and_validate: Any
) -> None:
    at = SCALAR_REPLACED_AT.replace(tzinfo=None).isoformat(timespec="seconds")
    ingest_and_validate(scalar_batch([("RS1", at, float(SCALAR_FINAL))]))
    rows = _agg(session, [loaded.ids["RS1"], loaded.ids["RS2"]])
    assert ("2026-08-20", 50.0) in rows  # 1300 final - 1250 last read, on the removal day
    aggregate_total = sum(Decimal(str(v)) for _, v in rows if v is not None)
    series = consumption(session, loaded.ids["RC3"], "last_6_months", TODAY)
    assert aggregate_total == series.total_kwh == Decimal(1595)
    august = next(b for b in series.buckets if b.first_day == date(2026, 8, 1))
    assert august.kwh == Decimal(200) and august.scalar_reads == 2  # counted once, not twice


def test_a_replacement_sent_as_master_data_after_the_reads_recounts_the_aggregate(
    session: Any, people: Consumers, ingest_and_validate: Any
) -> None:
    from sqlalchemy import update

    from service.audit.log import Actor
    from service.masterdata.models import Installation
    from service.masterdata.upsert import upsert

    # RS2 reads arrive while master data still shows RS1 open and RS2 nowhere installed.
    session.execute(update(Installation).where(Installation.meter_id == people.ids["RS1"]).values(removed_at=None,
                                                                                                final_kwh=None))  # fmt: skip
    session.execute(text("DELETE FROM installations WHERE meter_id = :m"), {"m": people.ids["RS2"]})
    session.commit()
    ingest_and_validate(
        scalar_batch([("RS2", "2026-09-05T06:30:00", 85.0), ("RS2", "2026-10-05T06:30:00", 205.0)])
    )
    assert _agg(session, [people.ids["RS2"]]) == [("2026-09-05", None), ("2026-10-05", 120.0)]
    result = upsert(
        session(), "installations",
        [{"meter_serial": "RS2", "ivrs_number": "RC3", "installed_at": SCALAR_REPLACED_AT.isoformat(),
          "initial_kwh": "5", "previous_final_kwh": "1300"}],
        Actor("system", "billing"), None,
    )  # fmt: skip
    assert result.created == 1 and not result.rejected, result.as_dict()
    session.commit()
    assert _agg(session, [people.ids["RS2"]]) == [("2026-09-05", 80.0), ("2026-10-05", 120.0)]
