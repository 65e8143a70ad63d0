"""URJAS/billing CSV of scalar -> scalar replacements: per-row reasons (malformed, duplicate,
hostile), rows applied in time order whatever the file's order, good rows kept beside bad ones,
422 when every row is refused (nothing stored), 413 past the limits."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import text

from service.assets import csv_rows, intake
from tests.assets.conftest import Site

HEADER = "ivrs_number,old_meter_serial,new_meter_serial,replaced_at,final_kwh,initial_kwh\n"


def _post(client: FlaskClient, key: dict[str, str], body: str | bytes) -> Any:
    data = body.encode() if isinstance(body, str) else body
    return client.post("/api/v1/replacements/import", data=data, headers={**key, "Content-Type": "text/csv"})


def _replacements(session: Any) -> list[tuple[str, str]]:
    return (
        session.execute(
            text(
                "SELECT o.serial_number, n.serial_number FROM meter_replacements r JOIN meters o ON o.id = r.old_meter_id"
                " JOIN meters n ON n.id = r.new_meter_id ORDER BY r.replaced_at"
            )
        )
        .tuples()
        .all()
    )


def test_good_rows_survive_beside_malformed_duplicate_and_hostile_rows(
    client: FlaskClient, session: Any, site: Site, urjas_key: dict[str, str]
) -> None:
    body = HEADER + "\n".join(
        [
            "A1,S1,N1,2026-11-20T10:00:00+05:30,1350,0",  # 0 good
            "A1,S1,N1,2026-11-20T10:00:00+05:30,1350,0",  # 1 duplicate of row 0
            "A2,S2,N2,2026-11-21T10:00:00+05:30,abc,0",  # 2 malformed number
            "=cmd|' /C calc'!A0,S2,N2,2026-11-21T10:00:00+05:30,600,0",  # 3 formula injection
            "A2,S2,N2,2026-11-21 10:00,600,0",  # 4 no offset
            "A2,S2,N2,2026-11-21T10:00:00+05:30,600,0,extra",  # 5 extra cell
            "A2,S2,N3,2026-11-22T10:00:00+05:30,400,0",  # 6 final below 500
            "A2,S2,N2,2026-11-23T10:00:00+05:30,620,1",  # 7 good
        ]
    )
    answer = _post(client, urjas_key, body)
    assert answer.status_code == 200, answer.json
    assert (answer.json["accepted"], answer.json["duplicates"], answer.json["rejected"]) == (2, 0, 6)
    assert [(r["row"], r["field"], r["error"]) for r in answer.json["rejects"]] == [
        (1, "old_meter_serial", "duplicate_in_file"),
        (2, "final_kwh", "invalid_field"),
        (3, "ivrs_number", "invalid_field"),
        (4, "replaced_at", "invalid_field"),
        (5, "", "invalid_row"),
        (6, "final_kwh", "below_last_read"),
    ]
    assert _replacements(session) == [("S1", "N1"), ("S2", "N2")]
    source = session.execute(text("SELECT DISTINCT source FROM meter_replacements")).scalars().all()
    assert source == ["urjas"]


def test_rows_out_of_time_order_are_applied_in_time_order(
    client: FlaskClient, session: Any, site: Site, urjas_key: dict[str, str]
) -> None:
    # N1 goes up on A1 on the 20th and comes down again on the 25th; the file lists the 25th first.
    body = HEADER + "A1,N1,N2,2026-11-25T10:00:00+05:30,30,0\nA1,S1,N1,2026-11-20T10:00:00+05:30,1350,2\n"
    answer = _post(client, urjas_key, body)
    assert answer.status_code == 200, answer.json
    assert answer.json["accepted"] == 2 and answer.json["rejects"] == []
    assert _replacements(session) == [("S1", "N1"), ("N1", "N2")]
    open_meter = (
        session.execute(
            text(
                "SELECT m.serial_number FROM installations i JOIN meters m ON m.id = i.meter_id"
                " WHERE i.consumer_id = :c AND i.removed_at IS NULL"
            ),
            {"c": site.ids["A1"]},
        )
        .scalars()
        .all()
    )
    assert open_meter == ["N2"]


def test_a_file_sent_again_records_nothing_new(
    client: FlaskClient, session: Any, site: Site, urjas_key: dict[str, str]
) -> None:
    body = HEADER + "A1,S1,N1,2026-11-20T10:00:00+05:30,1350,0\n"
    assert _post(client, urjas_key, body).json["accepted"] == 1
    again = _post(client, urjas_key, body)
    assert again.status_code == 200
    assert (again.json["accepted"], again.json["duplicates"]) == (0, 1)
    assert again.json["replacements"][0]["duplicate"] is True
    assert _replacements(session) == [("S1", "N1")]


def test_a_file_whose_every_row_is_refused_is_422_and_stores_nothing(
    client: FlaskClient, session: Any, site: Site, urjas_key: dict[str, str]
) -> None:
    body = HEADER + "A1,S1,NI,2026-11-20T10:00:00+05:30,1350,0\nA9,S1,N1,2026-11-21T10:00:00+05:30,1350,0\n"
    answer = _post(client, urjas_key, body)
    assert answer.status_code == 422
    assert answer.json["error"] == "all_rows_rejected"
    assert [(r["row"], r["error"]) for r in answer.json["rejects"]] == [
        (0, "not_in_store"),
        (1, "unknown_consumer"),
    ]
    counts = session.execute(
        text("SELECT (SELECT count(*) FROM meter_replacements), (SELECT count(*) FROM register_reads)")
    ).one()
    assert counts == (0, 4)


def test_unreadable_oversized_and_badly_headed_files_are_refused_whole(
    client: FlaskClient, session: Any, site: Site, urjas_key: dict[str, str]
) -> None:
    assert _post(client, urjas_key, b"\xff\xfe\x00bad").json["error"] == "not_utf8"
    assert _post(client, urjas_key, HEADER + "A1,S1\x00,N1\n").json["error"] == "binary_file"
    header = _post(client, urjas_key, "ivrs,old,new\nA1,S1,N1\n")
    assert header.status_code == 422 and header.json["error"] == "bad_header"
    assert header.json["missing"][0] == "ivrs_number"
    assert _post(client, urjas_key, HEADER).json["error"] == "no_rows"
    many = HEADER + "A1,S1,N1,2026-11-20T10:00:00+05:30,1350,0\n" * (intake.MAX_ROWS + 1)
    too_many = _post(client, urjas_key, many)
    assert too_many.status_code == 413 and too_many.json["error"] == "too_many_rows"
    big = _post(client, urjas_key, HEADER + "x" * (csv_rows.MAX_BYTES + 1))
    assert big.status_code == 413 and big.json["error"] == "too_large"
    cell = _post(client, urjas_key, HEADER + '"' + "x" * 200_000 + '",S1,N1,2026-11-20T10:00:00+05:30,1,0\n')
    assert cell.status_code == 400 and cell.json["error"] == "unreadable_csv"
    assert _replacements(session) == []


def test_a_multipart_upload_is_taken_like_a_body(
    client: FlaskClient, session: Any, site: Site, urjas_key: dict[str, str]
) -> None:
    import io

    data = {"file": (io.BytesIO((HEADER + "A1,S1,N1,2026-11-20T10:00:00+05:30,1350,0\n").encode()), "r.csv")}
    answer = client.post(
        "/api/v1/replacements/import", data=data, headers=urjas_key, content_type="multipart/form-data"
    )
    assert answer.status_code == 200 and answer.json["accepted"] == 1
