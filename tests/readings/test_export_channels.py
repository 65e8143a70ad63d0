"""A net meter's export through each source's endpoint arrives in the store as export.

HES JSON, IEC 61968-9, MIOS CDF, SCADA CSV and scalar CSV each carry import and export (and, where
the meter gives them, kvarh by quadrant while exporting); the store keeps each as its own channel.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import insert, text

from tests.readings.conftest import add_meter
from tests.readings.test_adapters_http import CSV, JSON, XML, sample

NET = "N00000501"


@pytest.fixture
def grid(session: Any) -> dict[str, int]:
    from service.masterdata.models import Dtr, Feeder, Meter, OrgUnit

    org = session.execute(
        insert(OrgUnit).values(code="T", name="T", level="discom", path="/T/").returning(OrgUnit.id)
    ).scalar_one()
    net = session.execute(
        insert(Meter)
        .values(serial_number=NET, make="Genus", meter_class="net", org_unit_id=org)
        .returning(Meter.id)
    ).scalar_one()
    session.execute(
        insert(Feeder).values(code="FDR-001", name="F1", voltage_kv=11, feeder_type="urban", org_unit_id=org)
    )
    session.execute(insert(Dtr).values(code="DTR-0001", name="D1", capacity_kva=100, org_unit_id=org))
    add_meter(session, "S00000201", org)
    session.commit()
    return {"org": org, "net": net}


@pytest.fixture
def writer(make_api_key: Any) -> dict[str, str]:
    return make_api_key("readings:write", system="hes-a")


def interval_channels(session: Any) -> dict[str, list[float]]:
    rows = session.execute(
        text(
            "SELECT i.channel, i.value FROM interval_readings i JOIN meters m ON m.id = i.meter_id"
            " WHERE m.serial_number = :s ORDER BY i.channel, i.interval_end"
        ),
        {"s": NET},
    )
    out: dict[str, list[float]] = {}
    for channel, value in rows:
        out.setdefault(channel, []).append(value)
    return out


def register_channels(session: Any) -> dict[tuple[str, str, int], float]:
    rows = session.execute(
        text(
            "SELECT r.kind, r.channel, r.tod_zone, r.value FROM register_reads r JOIN meters m ON m.id = r.meter_id"
            " WHERE m.serial_number = :s"
        ),
        {"s": NET},
    )
    return {(k, c, z): v for k, c, z, v in rows}


def test_hes_json_export_is_stored_as_export(client: Any, session: Any, grid: Any, writer: Any) -> None:
    response = client.post(
        "/api/v1/hes/readings", data=sample("hes_readings_net_meter.json"), headers={**writer, **JSON}
    )
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["rejected"] == []
    assert interval_channels(session) == {
        "kvah": [0.06, 0.05],
        "kvah_export": [1.48, 1.43],
        "kvarh_lag": [0.01],
        "kvarh_lead": [0.0],
        "kvarh_q2": [0.21, 0.2],
        "kvarh_q3": [0.03, 0.02],
        "kwh": [0.05, 0.04],
        "kwh_export": [1.42, 1.37],
    }
    registers = register_channels(session)
    assert registers[("daily", "kwh_export", 0)] == 4120.25
    assert (registers[("billing", "kwh_export", 1)], registers[("billing", "kwh_export", 2)]) == (3900.0, 0.0)


def test_cim_reverse_flow_is_stored_as_export(client: Any, session: Any, grid: Any, writer: Any) -> None:
    response = client.post(
        "/api/v1/cim/meter-readings",
        data=sample("cim_meter_readings_net_meter.xml"),
        headers={**writer, **XML},
    )
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["rejected"] == []
    assert interval_channels(session) == {
        "kvah_export": [1.48],
        "kvarh_q2": [0.21],
        "kvarh_q3": [0.03],
        "kwh": [0.05],
        "kwh_export": [1.42],
        "kwh_net": [-1.37],
    }
    assert register_channels(session) == {
        ("daily", "kwh_export", 0): 4120.25,
        ("billing", "kwh_export", 1): 3900.0,
    }


def test_cdf_export_parameters_are_stored_as_export(
    client: Any, session: Any, grid: Any, writer: Any
) -> None:
    response = client.post(
        "/api/v1/amr/cdf?file_name=net.xml", data=sample("cdf_net_meter.xml"), headers={**writer, **XML}
    )
    assert response.status_code == 200, response.get_json()
    assert interval_channels(session) == {"kvah_export": [1.48], "kwh": [0.05], "kwh_export": [1.42]}
    registers = register_channels(session)
    assert registers[("instant", "kwh_export", 0)] == 4120.25
    assert registers[("billing", "kwh_export", 1)] == 3900.0
    assert registers[("billing", "kvah_export", 0)] == 4050.5


def test_scada_reverse_flow_is_stored_as_feeder_and_dt_export(
    client: Any, session: Any, grid: Any, writer: Any
) -> None:
    body = client.post(
        "/api/v1/scada/energy", data=sample("scada_energy_export.csv"), headers={**writer, **CSV}
    )
    assert body.status_code == 200 and body.get_json()["stored"] == 3
    rows = session.execute(
        text("SELECT network_kind, channel, value FROM network_energy ORDER BY network_kind, channel")
    ).all()
    assert [tuple(r) for r in rows] == [
        ("dtr", "kwh_export", 12.5),
        ("feeder", "kwh", 410.5),
        ("feeder", "kwh_export", 96.25),
    ]


def test_scalar_export_register_is_stored_and_a_bad_one_is_refused_by_line(
    client: Any, session: Any, grid: Any, writer: Any
) -> None:
    response = client.post(
        "/api/v1/billing/scalar-reads", data=sample("scalar_reads_net_meter.csv"), headers={**writer, **CSV}
    )
    body = response.get_json()
    assert response.status_code == 200 and body["stored"] == 4
    assert [(r["locator"], r["field"], r["reason"]) for r in body["rejected"]] == [
        ("line 3", "kwh_export", "not a number: 'lots'")
    ]
    assert register_channels(session) == {
        ("scalar", "kwh", 0): 2150.5,
        ("scalar", "md_kw", 0): 1.8,
        ("scalar", "kwh_export", 0): 4010.75,
        ("scalar", "kvah_export", 0): 4180.0,
    }


def test_negative_export_is_refused_and_the_rest_of_the_push_kept(
    client: Any, session: Any, grid: Any, writer: Any
) -> None:
    data = sample("hes_readings_net_meter.json").replace(b'"kwh_export": 1.37', b'"kwh_export": -1.37')
    body = client.post("/api/v1/hes/readings", data=data, headers={**writer, **JSON}).get_json()
    assert [(r["meter"], r["timestamp"], r["field"], r["reason"]) for r in body["rejected"]] == [
        (NET, "2026-11-27T07:30:00Z", "value", "kwh_export -1.37 is below the plausible limit of 0 kWh")
    ]
    assert interval_channels(session)["kwh_export"] == [1.42]
