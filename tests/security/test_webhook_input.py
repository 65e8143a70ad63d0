"""Issue 20 item 10 (webhooks): nested bodies, non-ASCII signatures and object request ids get
400 / 401 / 422 with a reason, and start nothing."""

from __future__ import annotations

import json
import time
from typing import Any

from sqlalchemy import func, select

from integrations.billing.client import sign
from service.extensions import db
from service.processes.models import ProcessInstance, WebhookReceipt
from tests.processes.conftest import BILLING_SECRET

URL = "/api/v1/webhooks/billing"


def _signed(body: bytes, key: str) -> dict[str, str]:
    at = str(int(time.time()))
    return {
        "Content-Type": "application/json",
        "X-CMDMS-Timestamp": at,
        "X-CMDMS-Signature": sign(BILLING_SECRET, at, body),
        "Idempotency-Key": key,
    }


def _nothing_started() -> bool:
    db.session.expire_all()
    return (
        db.session.scalar(select(func.count(ProcessInstance.id))) == 0
        and db.session.scalar(select(func.count(WebhookReceipt.id))) == 0
    )


def test_a_deeply_nested_signed_body_is_a_400(processes_app: Any, discom: Any, client: Any) -> None:
    body = ('{"type": "inspection.requested", "data": ' + "[" * 100_000 + "]" * 100_000 + "}").encode()
    answer = client.post(URL, data=body, headers=_signed(body, "deep-1"))
    assert (answer.status_code, answer.get_json()["error"]) == (400, "too_deeply_nested")
    assert _nothing_started()


def test_a_non_ascii_signature_is_a_401(processes_app: Any, discom: Any, client: Any) -> None:
    body = b'{"type": "inspection.requested", "data": {}}'
    headers = _signed(body, "sig-1")
    headers["X-CMDMS-Signature"] = "\u00e9" + headers["X-CMDMS-Signature"][1:]
    answer = client.post(URL, data=body, headers=headers)
    assert (answer.status_code, answer.get_json()["error"]) == (401, "invalid_signature")
    assert _nothing_started()


def test_a_request_id_sent_as_an_object_is_a_422_naming_the_field(
    processes_app: Any, discom: Any, client: Any
) -> None:
    event = {"type": "inspection.requested", "data": {"request_id": {"a": 1}, "org_unit_code": "BPLC-D1-S1-DC1",
                                                      "ivrs_number": "N0000001", "reason": "tamper"}}  # fmt: skip
    body = json.dumps(event).encode()
    answer = client.post(URL, data=body, headers=_signed(body, "obj-1"))
    assert answer.status_code == 422
    assert (answer.get_json()["error"], answer.get_json()["field"]) == (
        "invalid_business_key",
        "data.request_id",
    )
    assert _nothing_started()
