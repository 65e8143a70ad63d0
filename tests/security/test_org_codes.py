"""Issue 20 item 2: org-unit codes are plain, and scoping matches paths by prefix, not LIKE."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, insert, select

from service.masterdata.models import OrgUnit


def test_org_unit_codes_with_wildcards_or_slashes_are_refused_per_row(
    client: Any, session: Any, make_api_key: Any
) -> None:
    rows = [
        {"code": "RT", "name": "Root", "level": "discom"},
        {"code": "RT%", "name": "Wild", "level": "circle", "parent_code": "RT"},
        {"code": "RT_1", "name": "Under", "level": "circle", "parent_code": "RT"},
        {"code": "RT/X", "name": "Slash", "level": "circle", "parent_code": "RT"},
        {"code": "RT-C1", "name": "Fine", "level": "circle", "parent_code": "RT"},
    ]
    response = client.post(
        "/api/v1/masterdata/org-units", json=rows, headers=make_api_key("masterdata:write")
    )
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["created"] == 2
    assert [(r["index"], r["field"]) for r in body["rejected"]] == [(1, "code"), (2, "code"), (3, "code")]
    assert "letters, digits" in body["rejected"][0]["reason"]
    session.expire_all()
    assert set(session.scalars(select(OrgUnit.code))) == {"RT", "RT-C1"}


def test_a_user_at_a_code_with_a_wildcard_sees_only_its_own_subtree(
    client: Any, session: Any, login: Any
) -> None:
    """Codes written before the alphabet was enforced keep working, without the wildcard."""
    from service.audit.log import Actor
    from service.auth.users import create_user
    from tests.readings.conftest import add_meter

    def unit(code: str, level: str, parent: int | None, path: str) -> int:
        return session.execute(
            insert(OrgUnit).values(code=code, name=code, level=level, parent_id=parent, path=path)
            .returning(OrgUnit.id)
        ).scalar_one()  # fmt: skip

    root = unit("RT", "discom", None, "/RT/")
    wild = unit("RT%", "circle", root, "/RT/RT%/")
    sibling = unit("RTX", "circle", root, "/RT/RTX/")
    add_meter(session, "OWN-1", wild)
    add_meter(session, "SIB-1", sibling)
    create_user(session, "wild", "a-long-password-1", "viewer", "RT%", Actor("cli", "test"))
    session.commit()
    login("wild", "a-long-password-1")
    listing = client.get("/api/v1/masterdata/meters").get_json()
    assert (listing["total"], [m["serial_number"] for m in listing["items"]]) == (1, ["OWN-1"])
    assert client.get("/api/v1/masterdata/meters/SIB-1").status_code == 404
    assert session.scalar(select(func.count(OrgUnit.id))) == 3
