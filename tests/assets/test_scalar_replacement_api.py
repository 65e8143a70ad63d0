"""A scalar -> scalar replacement reported by billing: recorded (assets, installations, final
read, consumption across it), re-sent without effect, refused with every reason and nothing stored."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import text

from service.consumption import consumption
from tests.assets.conftest import Site, scalar_reads

REPLACED_AT = "2026-11-20T10:00:00+05:30"
BODY = {
    "kind": "scalar", "ivrs_number": "A1", "old_meter_serial": "S1", "new_meter_serial": "N1",
    "replaced_at": REPLACED_AT, "final_kwh": "1350", "initial_kwh": "2.5",
}  # fmt: skip


def _installations(session: Any, consumer_id: int) -> list[tuple[Any, ...]]:
    return session.execute(
        text(
            "SELECT m.serial_number, i.installed_at, i.removed_at, i.initial_kwh, i.final_kwh FROM installations i"
            " JOIN meters m ON m.id = i.meter_id WHERE i.consumer_id = :c ORDER BY i.installed_at"
        ),
        {"c": consumer_id},
    ).all()


def _counts(session: Any) -> dict[str, int]:
    return {
        t: session.execute(text(f"SELECT count(*) FROM {t}")).scalar_one()  # noqa: S608 - fixed names
        for t in ("meter_replacements", "installations", "register_reads", "meter_asset_statuses")
    }


def test_a_reported_replacement_switches_the_installation_at_the_instant_and_moves_both_assets(
    client: FlaskClient, session: Any, site: Site, billing_key: dict[str, str], run_jobs: Any
) -> None:
    answer = client.post("/api/v1/replacements", json=BODY, headers=billing_key)
    assert answer.status_code == 201, answer.json
    assert answer.json["state"] == "done" and answer.json["duplicate"] is False
    at = datetime(2026, 11, 20, 4, 30, tzinfo=UTC)
    rows = _installations(session, site.ids["A1"])
    assert rows == [
        ("S1", datetime(2026, 1, 1, tzinfo=UTC), at, Decimal("0.000"), Decimal("1350.000")),
        ("N1", at, None, Decimal("2.500"), None),
    ]
    status = dict(session.execute(text("SELECT meter_id, status FROM meter_assets")).tuples().all())
    assert status[site.ids["S1"]] == "removed" and status[site.ids["N1"]] == "installed"
    history = (
        session.execute(
            text("SELECT status FROM meter_asset_statuses WHERE meter_id = :m ORDER BY id"),
            {"m": site.ids["N1"]},
        )
        .scalars()
        .all()
    )
    assert history == ["in_store", "issued", "installed"]
    final = session.execute(
        text("SELECT value, kind FROM register_reads WHERE meter_id = :m AND read_at = :at"),
        {"m": site.ids["S1"], "at": at},
    ).one()
    assert final == (1350.0, "scalar")
    stored = session.execute(
        text("SELECT source, state, kind FROM meter_replacements WHERE id = :i"),
        {"i": answer.json["replacement_id"]},
    ).one()
    assert stored == ("billing", "done", "scalar")
    audited = session.execute(
        text("SELECT count(*) FROM audit_log WHERE entity = 'meter_replacement'")
    ).scalar_one()
    assert audited == 1


def test_consumption_across_the_replacement_counts_both_meters_in_aggregate_and_consumer_view(
    client: FlaskClient, session: Any, site: Site, billing_key: dict[str, str], run_jobs: Any
) -> None:
    from service.readings.ingest import ingest_batch
    from tests.assets.conftest import ACTOR

    assert client.post("/api/v1/replacements", json=BODY, headers=billing_key).status_code == 201
    run_jobs("vee")
    ingest_batch(session(), scalar_reads([("N1", "2026-11-28T06:30:00", 42.5)]), actor=ACTOR)
    session.commit()
    run_jobs("vee")
    agg = session.execute(
        text(
            "SELECT m.serial_number, s.read_at, s.consumption_kwh FROM agg_scalar_read s JOIN meters m"
            " ON m.id = s.meter_id WHERE s.meter_id IN (:a, :b) ORDER BY s.read_at"
        ),
        {"a": site.ids["S1"], "b": site.ids["N1"]},
    ).all()
    # 1200 on 5 Oct from the installation's 0; Nov: 1300 - 1200 on the 5th; the final
    # 1350 - 1300 at the replacement; the new meter's 42.5 - 2.5 initial.
    assert [(r[0], r[2]) for r in agg] == [("S1", 1200.0), ("S1", 100.0), ("S1", 50.0), ("N1", 40.0)]
    series = consumption(session, site.ids["A1"], "last_6_months", date(2026, 11, 30))
    assert series.buckets[-1].first_day == date(2026, 11, 1)
    assert series.buckets[-1].kwh == Decimal("190.000")


def test_the_same_replacement_sent_twice_is_recorded_once(
    client: FlaskClient, session: Any, site: Site, billing_key: dict[str, str]
) -> None:
    first = client.post("/api/v1/replacements", json=BODY, headers=billing_key)
    before = _counts(session)
    again = client.post("/api/v1/replacements", json=BODY, headers=billing_key)
    assert again.status_code == 200
    assert again.json == {"replacement_id": first.json["replacement_id"], "duplicate": True, "state": "done"}
    assert _counts(session) == before


def _refused(client: FlaskClient, session: Any, key: dict[str, str], body: dict[str, Any]) -> Any:
    before = _counts(session)
    answer = client.post("/api/v1/replacements", json=body, headers=key)
    assert answer.status_code == 422, answer.json
    assert _counts(session) == before  # nothing stored
    return answer.json


def test_a_new_meter_not_in_store_is_refused(
    client: FlaskClient, session: Any, site: Site, billing_key: dict[str, str]
) -> None:
    issued = _refused(client, session, billing_key, {**BODY, "new_meter_serial": "NI"})
    assert (issued["error"], issued["field"]) == ("not_in_store", "new_meter_serial")
    assert issued["message"] == "the new meter is issued, not in store"
    unknown_asset = _refused(client, session, billing_key, {**BODY, "new_meter_serial": "NX"})
    assert unknown_asset["message"] == "the new meter is not an asset, not in store"
    on_a_wall = _refused(client, session, billing_key, {**BODY, "new_meter_serial": "S2"})
    assert on_a_wall["error"] == "not_in_store"


def test_a_final_read_below_the_last_read_is_refused_with_every_other_reason(
    client: FlaskClient, session: Any, site: Site, billing_key: dict[str, str]
) -> None:
    answer = _refused(client, session, billing_key, {**BODY, "final_kwh": "1299.5", "initial_kwh": "75"})
    assert answer["reasons"] == [
        {
            "field": "final_kwh",
            "error": "below_last_read",
            "message": "final read 1299.500 is below the last read 1300.000",
        },
        {
            "field": "initial_kwh",
            "error": "implausible",
            "message": "initial read 75.000 is outside 0-50 kWh",
        },
    ]


def test_the_old_meter_must_be_on_that_consumer_and_the_instant_after_its_last_read(
    client: FlaskClient, session: Any, site: Site, billing_key: dict[str, str]
) -> None:
    other = _refused(client, session, billing_key, {**BODY, "ivrs_number": "A2"})
    assert (other["error"], other["field"]) == ("not_installed", "old_meter_serial")
    early = _refused(client, session, billing_key, {**BODY, "replaced_at": "2026-11-01T10:00:00+05:30"})
    assert (early["error"], early["field"]) == ("before_last_read", "replaced_at")
    future = _refused(client, session, billing_key, {**BODY, "replaced_at": "2026-12-02T10:00:00+05:30"})
    assert future["error"] == "in_future"
    smart = _refused(client, session, billing_key, {**BODY, "new_meter_serial": "SM1"})
    assert (smart["error"], smart["field"]) == ("not_scalar", "new_meter_serial")


def test_malformed_and_hostile_bodies_are_refused_by_field(
    client: FlaskClient, session: Any, site: Site, billing_key: dict[str, str]
) -> None:
    assert client.post("/api/v1/replacements", data="[1", headers=billing_key).status_code == 400
    naive = _refused(client, session, billing_key, {**BODY, "replaced_at": "2026-11-20T10:00:00"})
    assert (naive["error"], naive["field"]) == ("invalid_replacement", "replaced_at")
    hostile = _refused(client, session, billing_key, {**BODY, "new_meter_serial": '=HYPERLINK("x")'})
    assert hostile["field"] == "new_meter_serial"
    script = _refused(client, session, billing_key, {**BODY, "ivrs_number": "<script>"})
    assert script["field"] == "ivrs_number"
    nan = _refused(client, session, billing_key, {**BODY, "final_kwh": "NaN"})
    assert nan["field"] == "final_kwh"
    extra = _refused(client, session, billing_key, {**BODY, "consumer_id": 1})
    assert extra["field"] == "consumer_id"
    huge = _refused(client, session, billing_key, {**BODY, "final_kwh": "1e30"})
    assert huge["field"] == "final_kwh"


def test_keys_need_the_scope_and_see_only_their_org_units_consumers(
    client: FlaskClient, session: Any, site: Site, make_api_key: Any
) -> None:
    no_scope = make_api_key("readings:write")
    assert client.post("/api/v1/replacements", json=BODY, headers=no_scope).status_code == 403
    other_division = make_api_key("assets:write", system="urjas", org_unit_id=site.orgs["DIV2"])
    answer = _refused(client, session, other_division, BODY)
    assert answer["error"] == "unknown_consumer"
