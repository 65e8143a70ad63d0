"""Disconnection and reconnection end to end: a DO list of 50 consumers across two divisions,
officers drop and approve, the authority's OTP (three wrong codes lock it), commands to the HES
simulator in both wire forms with real RQ workers and the real engine, results, SMS, supply."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from integrations.hes.command_simulator import HesCommandSimulator
from service.commands.models import HesCommand
from service.disconnections.models import ListOrder, ListPart
from service.masterdata.models import Consumer, OrgUnit
from service.notifications.models import Notification, NotificationOptOut
from service.processes.models import Incident, ProcessInstance
from service.readings.models import MeterEvent
from tests.disconnections.conftest import World

IST = ZoneInfo("Asia/Kolkata")


def _otp(twilio: Any) -> str:
    match = re.match(r"^(\d{6}) is your CMDMS OTP", twilio.messages[-1]["Body"])
    assert match, twilio.messages[-1]["Body"]
    return match.group(1)


def _parts(
    client: Any, headers: dict[str, str], world: World, extra: list[dict[str, Any]] | None = None
) -> Any:
    rows = [{"ivrs_number": n, "amount_due_inr": "1250.50"} for d in ("DIV1", "DIV2") for n in world.ivrs[d]]
    answer = client.post("/api/v1/disconnections/orders", json={"list_ref": "DO-2026-12-01", "rows": rows + (extra or [])},
                         headers=headers)  # fmt: skip
    assert answer.status_code == 200, answer.get_json()
    return answer.get_json()


def _approve_and_confirm(staff: Any, twilio: Any, run_jobs: Any, parts: dict[str, int]) -> None:
    for division, part_id in parts.items():
        officer = staff("officer1" if division == "DIV1" else "officer2")
        assert officer.post(f"/api/v1/disconnections/parts/{part_id}/approve").status_code == 200
    authority = staff("authority")
    for part_id in parts.values():
        assert authority.post(f"/api/v1/disconnections/parts/{part_id}/otp").status_code == 200
        run_jobs("urgent")
        confirmed = authority.post(f"/api/v1/disconnections/parts/{part_id}/confirm", {"otp": _otp(twilio)})
        assert confirmed.status_code == 200, confirmed.get_json()


@pytest.mark.parametrize("wire_form", ["json", "cim", "json-batched"])
def test_a_do_list_of_50_across_two_divisions_is_verified_confirmed_and_carried_out(
    wire_form: str, session: Any, client: Any, make_api_key: Any, world: World, staff: Any, clock: Any,
    hes_sim: HesCommandSimulator, add_hes: Any, wired: Any, twilio: Any, run_jobs: Any,
) -> None:  # fmt: skip
    batched = wire_form == "json-batched"
    if batched:  # the HES answers in JSON lists of up to 16 outcomes and relay events
        wire_form, hes_sim.callback_batch, hes_sim.callback_linger_seconds = "json", 16, 0.2
    add_hes("HES-A", hes_sim.base_url, wire_form, batch_size=20, rate_per_second=1000)  # type: ignore[attr-defined]
    opted_out = world.consumer_ids[world.ivrs["DIV2"][5]]
    session.add(NotificationOptOut(consumer_id=opted_out))
    session.commit()
    billing = make_api_key("disconnections:write", system="billing")
    result = _parts(client, billing, world, extra=[
        {"ivrs_number": "NOBODY"}, {"ivrs_number": world.ivrs["DIV1"][0]}, {"amount_due_inr": "5"},
    ])  # fmt: skip
    assert result["accepted"] == 50
    assert result["rejects"] == [
        {"row": 50, "field": "ivrs_number", "error": "unknown_consumer", "message": "no consumer has this IVRS number"},
        {"row": 51, "field": "ivrs_number", "error": "duplicate_in_list", "message": "the consumer is already in this list"},
        {"row": 52, "field": "ivrs_number", "error": "invalid_field", "message": "ivrs_number: required, at most 32 characters"},
    ]  # fmt: skip
    parts = {p["division"]: p["part_id"] for p in result["parts"]}
    assert sorted(parts) == ["DIV1", "DIV2"]

    # The DIV1 officer drops two consumers who paid today, then approves; DIV2 approves all.
    officer = staff("officer1")
    view = officer.get(f"/api/v1/disconnections/parts/{parts['DIV1']}").get_json()
    assert (view["total"], view["totals"]) == (25, {"pending": 25})
    two = [o["id"] for o in view["orders"][:2]]
    dropped = officer.post(
        f"/api/v1/disconnections/parts/{parts['DIV1']}/drops", {"order_ids": two, "reason": "paid today"}
    )
    assert dropped.get_json() == {"dropped": two}
    # Nobody sends commands before the authority's OTP.
    run_jobs("default")
    assert session.scalar(select(func.count()).select_from(HesCommand)) == 0

    _approve_and_confirm(staff, twilio, run_jobs, parts)
    run_jobs("default")
    hes_sim.wait_idle()
    assert hes_sim.callback_errors == []
    assert len(hes_sim.received) == 48
    if batched:  # 48 outcomes + 48 relay events came in lists, at most 16 items each
        lists = [json.loads(body) for _, body in hes_sim.callbacks_sent]
        assert all(isinstance(items, list) and len(items) <= 16 for items in lists)
        assert sum(len(items) for items in lists) == 96 and len(lists) < 96
    session.expire_all()
    states = dict(
        session.execute(select(ListOrder.state, func.count()).group_by(ListOrder.state)).tuples().all()
    )
    assert states == {"done": 48, "dropped": 2, "rejected": 3}
    # The simulator's relay events (IS 15959 301) are in the event store, one per meter cut.
    relay = session.execute(
        select(MeterEvent.code, func.count(MeterEvent.meter_id.distinct())).group_by(MeterEvent.code)
    )
    assert relay.tuples().all() == [(301, 48)]
    assert (
        session.scalar(
            select(func.count()).select_from(Consumer).where(Consumer.supply_status == "disconnected")
        )
        == 48
    )
    # One SMS per command, through the notifications area; the consumer who opted out is not sent it.
    notes = list(
        session.scalars(select(Notification).where(Notification.message_type == "disconnected_for_dues"))
    )
    assert len(notes) == 48
    assert {n.consumer_id for n in notes if n.status == "suppressed"} == {opted_out}
    assert all(n.dedupe_key.startswith("hes-command:") for n in notes)
    instances = list(
        session.scalars(select(ProcessInstance).where(ProcessInstance.process_id == "disconnect"))
    )
    assert {(i.status, i.org_unit_id) for i in instances} == {
        ("completed", world.division_ids["DIV1"]),
        ("completed", world.division_ids["DIV2"]),
    }
    _summary_equals_the_stored_commands(session, staff("authority"))


def _summary_equals_the_stored_commands(session: Any, authority: Any) -> None:
    """The disconnection summary (page, CSV, XLSX) by division: its numbers are the HES commands."""
    created = session.scalar(select(func.min(ListOrder.created_at)))
    period = f"period={created.astimezone(IST):%Y-%m}&level=division"
    stored = dict(
        session.execute(
            select(OrgUnit.code, func.count())
            .select_from(HesCommand)
            .join(OrgUnit, OrgUnit.id == HesCommand.org_unit_id)
            .where(HesCommand.action == "disconnect", HesCommand.state == "succeeded")
            .group_by(OrgUnit.code)
        )
        .tuples()
        .all()
    )
    assert stored == {"DIV1": 23, "DIV2": 25}
    answer = authority.get(f"/reports/disconnection_summary.csv?{period}")
    assert answer.status_code == 200, answer.get_data(as_text=True)[:500]
    table = list(csv.reader(io.StringIO(answer.get_data(as_text=True).lstrip("\ufeff"))))
    rows = {row[0]: dict(zip(table[0], row, strict=True)) for row in table[1:]}
    assert {code: int(row["Disconnected"]) for code, row in rows.items()} == stored
    assert [(rows[d]["Ordered"], rows[d]["Dropped"], rows[d]["Approved"], rows[d]["Failed"], rows[d]["Pending"])
            for d in ("DIV1", "DIV2")] == [("25", "2", "23", "0", "0"), ("25", "0", "25", "0", "0")]  # fmt: skip
    sheet = load_workbook(io.BytesIO(authority.get(f"/reports/disconnection_summary.xlsx?{period}").data),
                          read_only=True).active  # fmt: skip
    cells = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert [str(v) for v in cells[1]] == table[0]
    heading = table[0].index("Disconnected")
    assert {str(r[0]): int(r[heading]) for r in cells[2:]} == stored
    page = authority.get(f"/reports/disconnection_summary?{period}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Disconnection and reconnection summary" in html and "DIV1" in html and "DIV2" in html


def test_three_wrong_otps_lock_it_and_a_new_otp_is_needed(
    session: Any, client: Any, make_api_key: Any, world: World, staff: Any, clock: Any, add_hes: Any,
    wired: Any, twilio: Any, run_jobs: Any,
) -> None:  # fmt: skip
    add_hes("HES-A", "http://127.0.0.1:9", "json")
    result = _parts(client, make_api_key("disconnections:write"), world)
    part_id = result["parts"][0]["part_id"]
    assert staff("officer1").post(f"/api/v1/disconnections/parts/{part_id}/approve").status_code == 200
    authority = staff("authority")
    authority.post(f"/api/v1/disconnections/parts/{part_id}/otp")
    run_jobs("urgent")
    code = _otp(twilio)
    wrong = "000000" if code != "000000" else "111111"
    answers = [
        authority.post(f"/api/v1/disconnections/parts/{part_id}/confirm", {"otp": wrong}) for _ in range(3)
    ]
    assert [(a.status_code, a.get_json()["error"], a.get_json()["attempts_left"]) for a in answers] == [
        (422, "otp_wrong", 2),
        (422, "otp_wrong", 1),
        (422, "otp_wrong", 0),
    ]
    assert answers[2].get_json()["locked"] is True
    late = authority.post(f"/api/v1/disconnections/parts/{part_id}/confirm", {"otp": code})
    assert (late.status_code, late.get_json()["error"]) == (422, "otp_attempts_exhausted")
    session.expire_all()
    assert session.get(ListPart, part_id).state == "approved"
    authority.post(f"/api/v1/disconnections/parts/{part_id}/otp")
    run_jobs("urgent")
    fresh = authority.post(f"/api/v1/disconnections/parts/{part_id}/confirm", {"otp": _otp(twilio)})
    assert fresh.status_code == 200
    session.expire_all()
    assert session.get(ListPart, part_id).state == "confirmed"


def test_silence_is_retried_then_an_incident_opens_on_the_part(
    session: Any, client: Any, make_api_key: Any, world: World, staff: Any, clock: Any,
    hes_sim: HesCommandSimulator, add_hes: Any, wired: Any, twilio: Any, run_jobs: Any,
) -> None:  # fmt: skip
    import time

    from service.outbox.jobs import sweep

    add_hes("HES-A", hes_sim.base_url, "cim", reply_timeout_seconds=1, max_attempts=2)  # type: ignore[attr-defined]
    silent = world.ivrs["DIV1"][3]
    hes_sim.outcomes = {f"SM1{3:05d}": "silence", f"SM1{4:05d}": "meter_offline"}
    result = _parts(client, make_api_key("disconnections:write"), world)
    parts = {p["division"]: p["part_id"] for p in result["parts"]}
    _approve_and_confirm(staff, twilio, run_jobs, parts)
    run_jobs("default")
    hes_sim.wait_idle()
    time.sleep(1.1)
    sweep()
    run_jobs("default")  # the silent command is re-sent
    time.sleep(2.1)
    sweep()
    run_jobs("default")  # still silent: timed out
    session.expire_all()
    orders = {o.ivrs_number: (o.state, o.reason) for o in session.scalars(select(ListOrder))}
    assert orders[silent] == ("failed", "timed_out: no answer from HES-A after 2 attempt(s)")
    assert orders[world.ivrs["DIV1"][4]] == ("failed", "failed: meter_offline")
    assert sum(1 for state, _ in orders.values() if state == "done") == 48
    part = session.get(ListPart, parts["DIV1"])
    incidents = list(session.scalars(select(Incident).where(Incident.instance_id == part.instance_id)))
    assert [(i.status, i.operation) for i in incidents] == [("open", "hes.disconnect")]
    assert "S1-" not in incidents[0].error and "D" in incidents[0].error
    supply = session.scalar(select(Consumer.supply_status).where(Consumer.ivrs_number == silent))
    assert supply == "connected"


def test_a_payment_cancels_one_held_disconnection_and_a_holiday_holds_until_the_next_working_day(
    session: Any, client: Any, make_api_key: Any, world: World, staff: Any, clock: Any,
    hes_sim: HesCommandSimulator, add_hes: Any, wired: Any, twilio: Any, run_jobs: Any,
) -> None:  # fmt: skip
    # Thursday 24 December 2026, 15:00 IST: confirmed late; 25 December is a holiday of MPCZ.
    clock[0] = datetime(2026, 12, 24, 9, 30, tzinfo=UTC)
    add_hes("HES-A", hes_sim.base_url, "json")  # type: ignore[attr-defined]
    key = make_api_key("disconnections:write")
    result = _parts(client, key, world)
    parts = {p["division"]: p["part_id"] for p in result["parts"]}
    clock[0] = datetime(2026, 12, 24, 11, 0, tzinfo=UTC)  # 16:30 IST: after working hours
    _approve_and_confirm(staff, twilio, run_jobs, parts)
    run_jobs("default")
    assert hes_sim.received == []
    session.expire_all()
    held = {c.state for c in session.scalars(select(HesCommand))}
    assert held == {"held"}
    not_before = {c.not_before for c in session.scalars(select(HesCommand))}
    assert not_before == {datetime(2026, 12, 26, 4, 30, tzinfo=UTC)}  # Saturday 26th, 10:00 IST
    payer = world.ivrs["DIV2"][7]
    paid = client.post(
        "/api/v1/disconnections/payments", json={"ivrs_number": payer, "reference": "RCPT-9"}, headers=key
    )
    assert paid.status_code == 200 and len(paid.get_json()["cancelled_orders"]) == 1
    session.expire_all()
    states = dict(
        session.execute(select(ListOrder.state, func.count()).group_by(ListOrder.state)).tuples().all()
    )
    assert states == {"commanded": 49, "cancelled": 1}
    cancelled = session.scalar(select(HesCommand).where(HesCommand.state == "cancelled"))
    assert cancelled is not None and cancelled.reason == "paid"
    assert session.scalar(select(ListOrder.ivrs_number).where(ListOrder.state == "cancelled")) == payer


def test_reconnection_goes_out_at_once_without_otp_and_tells_the_consumer(
    session: Any, client: Any, make_api_key: Any, world: World, clock: Any,
    hes_sim: HesCommandSimulator, add_hes: Any, wired: Any, run_jobs: Any,
) -> None:  # fmt: skip
    from sqlalchemy import update

    add_hes("HES-A", hes_sim.base_url, "cim")  # type: ignore[attr-defined]
    three = world.ivrs["DIV1"][:3]
    session.execute(
        update(Consumer).where(Consumer.ivrs_number.in_(three)).values(supply_status="disconnected")
    )
    session.commit()
    rows = [{"ivrs_number": n} for n in three] + [{"ivrs_number": world.ivrs["DIV1"][9]}]
    answer = client.post("/api/v1/reconnections/orders", json={"list_ref": "RC-1", "rows": rows},
                         headers=make_api_key("disconnections:write"))  # fmt: skip
    assert answer.get_json()["rejects"] == [
        {
            "row": 3,
            "field": "ivrs_number",
            "error": "already_connected",
            "message": "supply status is connected",
        }
    ]
    run_jobs("default")
    hes_sim.wait_idle()
    assert sorted(r.action for r in hes_sim.received) == ["connect"] * 3
    session.expire_all()
    assert set(session.scalars(select(Consumer.supply_status).where(Consumer.ivrs_number.in_(three)))) == {
        "connected"
    }
    assert (
        session.scalar(
            select(func.count()).select_from(Notification).where(Notification.message_type == "reconnection")
        )
        == 3
    )
    again = client.post("/api/v1/reconnections/orders", json={"list_ref": "RC-1", "rows": rows},
                        headers=make_api_key("disconnections:write"))  # fmt: skip
    assert again.get_json()["duplicate"] is True
    assert session.scalar(select(func.count()).select_from(HesCommand)) == 3
