"""MIOS CDF XML: D1..D5 read, IST -> UTC exact, row faults reported, hostile files refused."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from integrations.amr.cdf import parse_cdf
from integrations.amr.simulator import cdf_file
from integrations.canonical import ParseError
from integrations.simulation import SimMeter, simulate_day
from tests.integrations.conftest import reasons, sample, utc


def test_load_survey_interval_n_ends_at_local_midnight_plus_n_periods_in_utc(now: int) -> None:
    batch = parse_cdf(sample("cdf_ht_meter.xml"), now=now, file_name="cdf_ht_meter.xml")
    iv = batch.intervals
    kwh = iv.channel == "kwh"
    # 27-11-2026 IST: interval 1 ends 00:30 IST = 26-11 19:00 UTC; interval 48 ends 28-11 00:00 IST.
    assert iv.interval_end[kwh].tolist() == [
        utc("2026-11-26T19:00:00"),
        utc("2026-11-26T19:30:00"),
        utc("2026-11-27T18:30:00"),
    ]
    assert iv.value[kwh].tolist() == [41.5, 40.25, 39.0]
    assert set(iv.interval_minutes.tolist()) == {30}
    assert set(iv.meter.tolist()) == {"M00000101"}
    assert batch.source == "amr-cdf" and batch.message_id == "cdf_ht_meter.xml"


def test_nameplate_is_read_from_d1_with_extra_attributes_ignored(now: int) -> None:
    (plate,) = parse_cdf(sample("cdf_ht_meter.xml"), now=now).nameplates
    assert plate.meter == "M00000101"
    assert (plate.make, plate.ct_ratio, plate.pt_ratio, plate.firmware) == (
        "Secure Meters",
        "100/5",
        "11000/110",
        "v3.2",
    )
    assert plate.demand_integration_minutes == 30
    assert plate.meter_clock == utc("2026-11-28T00:34:10")
    assert plate.read_at == utc("2026-11-28T00:35:00")


def test_billing_history_keeps_tod_zones_md_time_and_pf(now: int) -> None:
    rg = parse_cdf(sample("cdf_ht_meter.xml"), now=now).registers
    billing = rg.kind == "billing"
    rows = {
        (c, z): (v, o)
        for c, z, v, o in zip(
            rg.channel[billing], rg.tod_zone[billing], rg.value[billing], rg.occurred_at[billing], strict=True
        )
    }
    assert rows[("kwh", 0)][0] == 46000.0
    assert rows[("kwh", 1)][0] == 30000.0 and rows[("kwh", 2)][0] == 16000.0
    assert rows[("md_kw", 0)] == (182.4, utc("2026-10-17T14:00:00"))
    assert rows[("avg_pf", 0)][0] == 0.944
    assert set(rg.read_at[billing].tolist()) == {utc("2026-10-31T18:30:00")}


def test_instantaneous_energies_stored_and_other_instant_values_reported_once(now: int) -> None:
    batch = parse_cdf(sample("cdf_ht_meter.xml"), now=now)
    rg = batch.registers
    instant = rg.kind == "instant"
    assert sorted(zip(rg.channel[instant], rg.value[instant], strict=True)) == [
        ("kvah", 51020.25),
        ("kwh", 48211.5),
    ]
    assert set(rg.read_at[instant].tolist()) == {utc("2026-11-28T00:35:00")}
    assert reasons(batch) == [
        (
            "D2",
            "INSTPARAM",
            "2 instantaneous values (P1-2-1-1-0, P9-1-0-0-0) have no register channel and were not stored",
        )
    ]


def test_events_are_read_with_snapshot_and_utc_time(now: int) -> None:
    ev = parse_cdf(sample("cdf_ht_meter.xml"), now=now).events
    assert ev.code.tolist() == [201, 202]
    assert ev.occurred_at.tolist() == [utc("2026-11-27T08:40:05"), utc("2026-11-27T09:10:00")]
    assert ev.snapshot[0] == {"current_r": 3.2}


def test_each_bad_row_is_reported_and_good_rows_kept(now: int) -> None:
    batch = parse_cdf(sample("cdf_row_faults.xml"), now=now)
    assert batch.intervals.value.tolist() == [0.5, 0.45]
    got = {(r.locator, r.field, r.reason, r.meter) for r in batch.rejects}
    assert got == {
        ("D4/DAYPROFILE[0]/IP[2]", "kwh", "not a number: 'abc'", "M00000102"),
        ("D4/DAYPROFILE[0]/IP[3]", "PARAMCODE", "unknown parameter code 'P7-9-9-9-9'", "M00000102"),
        ("D4/DAYPROFILE[0]/IP[97]", "INTERVAL", "interval '97' is off the grid (1..96)", "M00000102"),
        (
            "D4/DAYPROFILE[0]/IP[1]",
            "kwh",
            "duplicate interval in this message (the first one is kept)",
            "M00000102",
        ),
        ("D4/DAYPROFILE[1]", "DATE", "unreadable date '31-02-2026' (dd-MM-yyyy)", "M00000102"),
        ("D4/DAYPROFILE[2]/IP[1]", "kwh", "timestamp is in the future", "M00000102"),
        ("D5/EVENT[0]", "CODE", "unknown IS 15959 event code '999'", "M00000102"),
    }


@pytest.mark.parametrize(
    ("name", "code", "reason"),
    [
        ("billion_laughs.xml", "forbidden_xml", "document type declarations (DTD) are not accepted"),
        ("external_entity.xml", "forbidden_xml", "document type declarations (DTD) are not accepted"),
        ("cdf_truncated.xml", "unparseable", "not well-formed XML: no element found: line 2, column 125"),
        ("cdf_no_meter.xml", "unparseable", "the file has no meter number (D1/G1)"),
    ],
)
def test_unreadable_or_hostile_file_is_refused_whole(name: str, code: str, reason: str, now: int) -> None:
    with pytest.raises(ParseError) as caught:
        parse_cdf(sample(name), now=now)
    assert (caught.value.code, caught.value.reason) == (code, reason)


def test_file_over_the_size_limit_is_refused_before_parsing(now: int) -> None:
    with pytest.raises(ParseError) as caught:
        parse_cdf(sample("cdf_ht_meter.xml"), now=now, max_bytes=100)
    assert caught.value.code == "too_large"


def test_wrong_root_element_is_refused(now: int) -> None:
    with pytest.raises(ParseError, match="root element 'MeterReadings' is not CDF"):
        parse_cdf(b"<MeterReadings/>", now=now)


def test_simulated_file_round_trips_every_present_interval(now: int) -> None:
    meter = SimMeter(
        "M00000999", shape="industrial", interval_minutes=15, phases=3, faults=("gap", "tamper_magnet")
    )
    sim = simulate_day(meter, date(2026, 11, 26))
    batch = parse_cdf(cdf_file([sim]), now=now)
    assert batch.rejects == []
    kwh = batch.intervals.channel == "kwh"
    assert kwh.sum() == sim.present.sum() < 96
    np.testing.assert_allclose(batch.intervals.value[kwh], sim.channels["kwh"][sim.present])
    assert batch.intervals.interval_end[kwh].astype(np.int64).tolist() == sim.utc_ends[sim.present].tolist()
    assert batch.events.code.tolist() == [201]
