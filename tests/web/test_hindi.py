"""The staff pages in Hindi: a per-person setting (audited), the nav, home and queue in Hindi,
numbers in Indian grouping, and the compiled catalogue matching its source."""

from __future__ import annotations

from pathlib import Path

from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po
from sqlalchemy import select

from service.auth.models import User
from service.extensions import db
from tests.processes.helpers import inspection_data, start

CATALOGUE = Path(__file__).resolve().parents[2] / "service" / "web" / "translations" / "hi" / "LC_MESSAGES"


def test_a_person_switches_to_hindi_and_back(processes_app, org, login, csrf_token) -> None:
    for n in range(1, 4):
        start("field_inspection", inspection_data(n), org("BPLC-D1-S1-DC1"), key=f"INSP-{n:04d}")
    client = login("je_east11")
    token = csrf_token(client.get("/").get_data(as_text=True))
    switched = client.post(
        "/settings/language", data={"csrf_token": token, "language": "hi", "next": "/work"}
    )
    assert switched.status_code == 302 and switched.headers["Location"] == "/work"
    assert db.session.scalar(select(User.language).where(User.username == "je_east11")) == "hi"
    queue = client.get("/work").get_data(as_text=True)
    assert '<html lang="hi">' in queue and "<h1>कार्य सूची</h1>" in queue
    assert "<strong>1–3</strong> में से <strong" in queue and "लॉग आउट" in queue
    home = client.get("/").get_data(as_text=True)
    assert "मेरा काम" in home and "आपका क्षेत्र" in home
    assert "Consumers" not in home.split("<main>")[0]  # the nav is Hindi too
    missing = client.get("/no-such-page").get_data(as_text=True)
    assert "पृष्ठ नहीं मिला" in missing
    outside = client.post(
        "/settings/language", data={"csrf_token": token, "language": "hi", "next": "//evil.example"}
    )
    assert outside.headers["Location"] == "/"
    client.post("/settings/language", data={"csrf_token": token, "language": "en"})
    assert "<h1>Work queue</h1>" in client.get("/work").get_data(as_text=True)
    refused = client.post("/settings/language", data={"csrf_token": token, "language": "fr"})
    assert refused.status_code == 302
    assert db.session.scalar(select(User.language).where(User.username == "je_east11")) == "en"
    assert client.post("/settings/language", data={"language": "hi"}).status_code == 400  # CSRF


def test_the_compiled_catalogue_is_the_source_compiled() -> None:
    with (CATALOGUE / "messages.po").open("rb") as source:
        source_catalogue = read_po(source)
    with (CATALOGUE / "messages.mo").open("rb") as compiled:
        compiled_catalogue = read_mo(compiled)
    wanted = {m.id: m.string for m in source_catalogue if m.id}
    assert {m.id: m.string for m in compiled_catalogue if m.id} == wanted, "run pybabel compile"
    assert all(wanted.values()), "every message has its Hindi"
