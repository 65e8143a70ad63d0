from collections.abc import Callable

from flask.testing import FlaskClient
from sqlalchemy import func, select

from service.masterdata.models import Consumer


def test_landing_page_requires_login(client: FlaskClient) -> None:
    response = client.get("/")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_wrong_password_is_refused_and_audited(
    client: FlaskClient, demo: object, session, csrf_token
) -> None:
    from service.audit.models import AuditEntry

    token = csrf_token(client.get("/login").get_data(as_text=True))
    response = client.post("/login", data={"username": "admin", "password": "nope-nope", "csrf_token": token})
    assert response.status_code == 401
    assert "Wrong username or password" in response.get_data(as_text=True)
    actions = session.scalars(select(AuditEntry.action).where(AuditEntry.entity_key == "admin")).all()
    assert actions == ["create", "login_failed"]


def test_login_form_without_csrf_token_is_refused(client: FlaskClient, demo: object) -> None:
    response = client.post("/login", data={"username": "admin", "password": "cmdms-demo"})
    assert response.status_code == 400


def test_admin_landing_shows_discom_counts(login: Callable[[str], FlaskClient], demo, session) -> None:
    client = login("admin")
    html = client.get("/").get_data(as_text=True)
    total = session.scalar(select(func.count(Consumer.id)))
    assert total == 300
    assert f'id="count-consumers">{total}<' in html
    assert 'id="count-feeders">4<' in html


def test_division_officer_landing_counts_only_their_division(
    login: Callable[[str], FlaskClient], demo, session
) -> None:
    from service.masterdata.models import OrgUnit

    client = login("ee_east")
    html = client.get("/").get_data(as_text=True)
    east = session.scalar(select(OrgUnit.path).where(OrgUnit.code == "BPLC-D1"))
    expected = session.scalar(
        select(func.count(Consumer.id))
        .join(OrgUnit, OrgUnit.id == Consumer.org_unit_id)
        .where(OrgUnit.path.startswith(east))
    )
    assert 0 < expected < 300
    assert f'id="count-consumers">{expected}<' in html
