"""Issue 20 items 5 and 18: determinants never overflow on a failed value; parallel publishes of
one consumer and period serialise and both callers get the one revision."""

from __future__ import annotations

import threading
from typing import Any

from flask import Flask
from sqlalchemy import text

from tests.vee.test_determinants import _replacement_data


def test_a_failed_1e308_interval_leaves_determinants_get_and_publish_answering(
    session: Any, network: dict[str, int], ingest: Any, make_api_key: Any, client: Any
) -> None:
    _replacement_data(session, ingest)
    # Stored before the plausibility limits existed (or by an edit path): VEE marked it failed.
    session.execute(text("UPDATE interval_readings SET value = 1e308 WHERE quality = 'failed'"))
    session.commit()
    got = client.get(
        "/api/v1/determinants?consumer=VC2&period=2026-10", headers=make_api_key("determinants:read")
    )
    assert got.status_code == 200, got.get_json()
    body = got.get_json()
    assert (body["kwh"], body["md_kw"]["value"], body["validation"]["billable"]) == (570.0, 6.0, False)
    published = client.post(
        "/api/v1/determinants/publish",
        json={"consumer": "VC2", "period": "2026-10"},
        headers=make_api_key("readings:write", system="billing-ops"),
    )
    assert published.status_code == 202, published.get_json()
    assert session.execute(text("SELECT count(*) FROM billing_determinants")).scalar_one() == 1


def test_two_parallel_publishes_of_one_consumer_and_period_get_the_one_revision(
    app: Flask, session: Any, network: dict[str, int], ingest: Any, make_api_key: Any
) -> None:
    _replacement_data(session, ingest)
    # Two callers with their own keys (one key's last_used_at update would serialise them).
    keys = [make_api_key("readings:write", system=f"billing-ops-{n}") for n in (1, 2)]
    # One race lost 7 times in 11 before the lock: six rounds make a missing lock visible.
    for _ in range(6):
        session.execute(text("DELETE FROM outbox"))
        session.execute(text("DELETE FROM billing_determinants"))
        session.commit()
        barrier = threading.Barrier(2)
        answers: list[tuple[int, int | None]] = []

        def publish(headers: dict[str, str], barrier: threading.Barrier, answers: list[Any]) -> None:
            client = app.test_client()
            barrier.wait()
            response = client.post(
                "/api/v1/determinants/publish", json={"consumer": "VC2", "period": "2026-10"}, headers=headers
            )
            answers.append((response.status_code, (response.get_json() or {}).get("revision")))

        threads = [threading.Thread(target=publish, args=(k, barrier, answers)) for k in keys]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(answers) == [(200, 1), (202, 1)]
        assert session.execute(text("SELECT count(*) FROM billing_determinants")).scalar_one() == 1
        assert session.execute(text("SELECT count(*) FROM outbox")).scalar_one() == 1
