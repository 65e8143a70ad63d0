"""The DO and RC lists by signed webhook (service/processes/webhooks.py, one verifier for all):
the same validation and per-row reasons as the POST API; a bad signature, a stale timestamp, a
replayed key and a list with every row refused (422, nothing stored) each get their exact answer."""

from __future__ import annotations

import json
import time
from typing import Any

from sqlalchemy import func, select

from integrations.billing.client import sign
from service.disconnections.models import CommandList, ListOrder, ListPart
from service.masterdata.models import Consumer
from service.processes.models import ProcessInstance, WebhookReceipt
from tests.disconnections.conftest import World
from tests.processes.conftest import BILLING_SECRET

URL = "/api/v1/webhooks/billing"


def _body(rows: list[Any], list_ref: str = "DO-WH-1", event_type: str = "disconnection.list") -> bytes:
    return json.dumps({"type": event_type, "data": {"list_ref": list_ref, "rows": rows}}).encode()


def _headers(
    body: bytes, key: str = "do-1", secret: str = BILLING_SECRET, at: int | None = None
) -> dict[str, str]:
    timestamp = str(at if at is not None else int(time.time()))
    return {"Content-Type": "application/json", "X-CMDMS-Timestamp": timestamp,
            "X-CMDMS-Signature": sign(secret, timestamp, body), "Idempotency-Key": key}  # fmt: skip


def _count(session: Any, model: Any) -> int:
    session.expire_all()
    return int(session.scalar(select(func.count()).select_from(model)) or 0)


def _rows(world: World) -> list[dict[str, Any]]:
    return [
        {"ivrs_number": n, "amount_due_inr": "900.00"} for d in ("DIV1", "DIV2") for n in world.ivrs[d][:3]
    ]


def test_a_signed_do_list_is_taken_like_the_post_api_and_a_replayed_key_answers_the_same(
    session: Any, client: Any, world: World
) -> None:
    body = _body([*_rows(world), {"ivrs_number": "NOBODY"}, {"ivrs_number": world.ivrs["DIV1"][0]}])
    answer = client.post(URL, data=body, headers=_headers(body))
    assert answer.status_code == 200, answer.get_json()
    result = answer.get_json()
    assert (result["accepted"], result["rejected"]) == (6, 2)
    assert result["rejects"] == [
        {"row": 6, "field": "ivrs_number", "error": "unknown_consumer", "message": "no consumer has this IVRS number"},
        {"row": 7, "field": "ivrs_number", "error": "duplicate_in_list", "message": "the consumer is already in this list"},
    ]  # fmt: skip
    assert sorted(p["division"] for p in result["parts"]) == ["DIV1", "DIV2"]
    parts = session.scalars(select(ListPart)).all()
    instances = session.scalars(
        select(ProcessInstance).where(ProcessInstance.process_id == "disconnect")
    ).all()
    assert sorted(i.business_key for i in instances) == ["disconnect:DO-WH-1:DIV1", "disconnect:DO-WH-1:DIV2"]
    assert {p.instance_id for p in parts} == {i.id for i in instances}
    stored = session.scalars(select(CommandList)).one()
    assert (stored.kind, stored.list_ref, stored.source, stored.rows_total) == (
        "disconnect",
        "DO-WH-1",
        "billing",
        8,
    )

    again = client.post(URL, data=body, headers=_headers(body))
    assert again.status_code == 200 and again.get_json() == {**result, "replayed": True}
    assert (_count(session, CommandList), _count(session, ListPart), _count(session, WebhookReceipt)) == (
        1,
        2,
        1,
    )
    other = _body(_rows(world), list_ref="DO-WH-2")
    reused = client.post(URL, data=other, headers=_headers(other))
    assert (reused.status_code, reused.get_json()["error"]) == (422, "idempotency_key_reused")
    assert _count(session, CommandList) == 1


def test_a_bad_signature_or_a_stale_timestamp_stores_nothing(session: Any, client: Any, world: World) -> None:
    body = _body(_rows(world))
    wrong = client.post(URL, data=body, headers=_headers(body, secret="not-billing"))
    assert (wrong.status_code, wrong.get_json()["error"]) == (401, "invalid_signature")
    tampered = client.post(URL, data=body.replace(b"900.00", b"000.01"), headers=_headers(body))
    assert (tampered.status_code, tampered.get_json()["error"]) == (401, "invalid_signature")
    stale = client.post(URL, data=body, headers=_headers(body, at=int(time.time()) - 301))
    assert (stale.status_code, stale.get_json()["error"]) == (401, "stale_timestamp")
    unsigned = client.post(
        URL, data=body, headers={"Content-Type": "application/json", "Idempotency-Key": "x"}
    )
    assert (unsigned.status_code, unsigned.get_json()["error"]) == (401, "missing_signature")
    assert (_count(session, CommandList), _count(session, ListOrder), _count(session, WebhookReceipt)) == (
        0,
        0,
        0,
    )
    # The good delivery afterwards is taken whole.
    good = client.post(URL, data=body, headers=_headers(body))
    assert good.status_code == 200 and good.get_json()["accepted"] == 6


def test_a_list_with_every_row_refused_is_a_422_with_reasons_and_may_come_again_corrected(
    session: Any, client: Any, world: World
) -> None:
    body = _body([{"ivrs_number": "NOBODY"}, {"ivrs_number": "N1" + "9" * 40}, {"amount_due_inr": "5"},
                  "not-an-object", {"ivrs_number": world.ivrs["DIV1"][0], "amount_due_inr": "-1"}])  # fmt: skip
    answer = client.post(URL, data=body, headers=_headers(body, key="do-bad"))
    assert answer.status_code == 422
    refused = answer.get_json()
    assert (refused["error"], refused["rejected"]) == ("all_rows_rejected", 5)
    assert [(r["row"], r["error"]) for r in refused["rejects"]] == [
        (0, "unknown_consumer"), (1, "invalid_field"), (2, "invalid_field"), (3, "invalid_row"), (4, "invalid_field"),
    ]  # fmt: skip
    assert refused["rejects"][4]["message"] == "amount_due_inr: must be 0 or more and below 10^12"
    assert (_count(session, CommandList), _count(session, ListOrder), _count(session, WebhookReceipt)) == (
        0,
        0,
        0,
    )
    assert _count(session, ProcessInstance) == 0
    # Billing corrects the list and sends it again under the same key and list_ref: taken.
    fixed = _body(_rows(world))
    taken = client.post(URL, data=fixed, headers=_headers(fixed, key="do-bad"))
    assert taken.status_code == 200 and taken.get_json()["accepted"] == 6


def test_malformed_and_oversized_list_bodies_are_refused_exactly(
    session: Any, client: Any, world: World
) -> None:
    cases = [
        (json.dumps({"type": "disconnection.list", "data": "rows"}).encode(), 400, "invalid_json"),
        (
            json.dumps({"type": "disconnection.list", "data": {"rows": _rows(world)}}).encode(),
            422,
            "invalid_field",
        ),
        (_body([], list_ref="DO-EMPTY"), 422, "invalid_field"),
        (_body(_rows(world), list_ref="x" * 41), 422, "invalid_field"),
        (_body([{"ivrs_number": "N10000"}] * 20_001, list_ref="DO-BIG"), 413, "too_many_rows"),
        (b'{"type": "disconnection.list", "data": {', 400, "invalid_json"),
        (_body(_rows(world), event_type="disconnection.lists"), 422, "unknown_event_type"),
    ]
    for n, (body, status, error) in enumerate(cases):
        answer = client.post(URL, data=body, headers=_headers(body, key=f"bad-{n}"))
        assert (answer.status_code, answer.get_json()["error"]) == (status, error), n
    assert (_count(session, CommandList), _count(session, WebhookReceipt)) == (0, 0)


def test_the_rc_list_by_webhook_rejects_connected_consumers_and_starts_the_reconnection(
    session: Any, client: Any, world: World
) -> None:
    cut = world.ivrs["DIV2"][:2]
    session.execute(
        Consumer.__table__.update().where(Consumer.ivrs_number.in_(cut)).values(supply_status="disconnected")
    )
    session.commit()
    connected = _body(
        [{"ivrs_number": world.ivrs["DIV1"][0]}], list_ref="RC-1", event_type="reconnection.list"
    )
    refused = client.post(URL, data=connected, headers=_headers(connected, key="rc-0"))
    assert (refused.status_code, refused.get_json()["rejects"][0]["error"]) == (422, "already_connected")
    body = _body([{"ivrs_number": n} for n in cut] + [{"ivrs_number": world.ivrs["DIV1"][0]}],
                 list_ref="RC-1", event_type="reconnection.list")  # fmt: skip
    answer = client.post(URL, data=body, headers=_headers(body, key="rc-1"))
    assert answer.status_code == 200, answer.get_json()
    assert (answer.get_json()["accepted"], answer.get_json()["rejects"][0]["row"]) == (2, 2)
    started = session.scalars(select(ProcessInstance).where(ProcessInstance.process_id == "reconnect")).one()
    assert started.business_key == "reconnect:RC-1:DIV2"


def test_the_post_api_refuses_a_list_with_every_row_rejected(
    session: Any, client: Any, make_api_key: Any, world: World
) -> None:
    billing = make_api_key("disconnections:write", system="billing")
    answer = client.post("/api/v1/disconnections/orders", headers=billing,
                         json={"list_ref": "DO-API-0", "rows": [{"ivrs_number": "NOBODY"}]})  # fmt: skip
    assert answer.status_code == 422
    assert answer.get_json()["rejects"] == [
        {
            "row": 0,
            "field": "ivrs_number",
            "error": "unknown_consumer",
            "message": "no consumer has this IVRS number",
        }
    ]
    assert _count(session, CommandList) == 0
    big = client.post("/api/v1/disconnections/orders", headers=billing,
                      json={"list_ref": "DO-API-1", "rows": [{"ivrs_number": "N10000"}] * 20_001})  # fmt: skip
    assert (big.status_code, big.get_json()["error"]) == (413, "too_many_rows")
