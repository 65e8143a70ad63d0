"""API keys: missing, wrong, revoked and under-scoped keys; the CLI that creates and revokes them."""

from __future__ import annotations

from sqlalchemy import select

from service.audit.models import AuditEntry
from service.auth.models import ApiKey
from tests.masterdata.conftest import consumer_row

URL = "/api/v1/masterdata/consumers"


def test_no_credentials_is_401_missing_credentials(demo, client) -> None:
    response = client.get(URL)
    assert response.status_code == 401
    assert response.get_json()["error"] == "missing_credentials"
    assert client.post(URL, json=[]).get_json()["error"] == "missing_credentials"


def test_wrong_key_is_401_invalid_api_key(demo, client, make_api_key) -> None:
    real = make_api_key("masterdata:read")["Authorization"]
    forged = real[:-4] + ("AAAA" if not real.endswith("AAAA") else "BBBB")
    for header in (forged, "Bearer cmdms_000000000000_nothing", "Bearer not-a-key"):
        response = client.get(URL, headers={"Authorization": header})
        assert response.status_code == 401
        assert response.get_json()["error"] == "invalid_api_key"


def test_other_authorization_scheme_is_401(demo, client) -> None:
    response = client.get(URL, headers={"Authorization": "Basic YWRtaW46Y21kbXMtZGVtbw=="})
    assert response.status_code == 401
    assert response.get_json()["error"] == "invalid_authorization"


def test_key_without_the_scope_is_403_insufficient_scope(demo, client, make_api_key) -> None:
    reader = make_api_key("masterdata:read", system="consumer-app")
    assert client.get(URL, headers=reader).status_code == 200
    response = client.post(URL, json=[consumer_row("N9000000001")], headers=reader)
    assert response.status_code == 403
    assert response.get_json() == {
        "error": "insufficient_scope",
        "message": "This API key lacks the scope 'masterdata:write'.",
        "required_scope": "masterdata:write",
    }
    hes = make_api_key("readings:write", system="hes-a")
    assert client.get(URL, headers=hes).get_json()["error"] == "insufficient_scope"


def test_cli_creates_a_key_printed_alone_on_the_last_line_that_works(demo, app, client, session) -> None:
    runner = app.test_cli_runner()
    result = runner.invoke(args=["api-keys", "create", "--system", "billing", "--scope", "masterdata:write"])
    assert result.exit_code == 0, result.output
    raw = result.output.strip().splitlines()[-1]
    assert raw.startswith("cmdms_") and " " not in raw
    headers = {"Authorization": f"Bearer {raw}"}
    response = client.post(URL, json=[consumer_row("N9000000001")], headers=headers)
    assert response.status_code == 200 and response.get_json()["created"] == 1
    key = session.scalar(select(ApiKey).where(ApiKey.system == "billing"))
    assert key.key_hash != raw and raw not in key.key_hash  # stored hashed
    assert key.last_used_at is not None


def test_cli_refuses_an_unknown_scope(demo, app) -> None:
    result = app.test_cli_runner().invoke(args=["api-keys", "create", "--system", "x", "--scope", "root"])
    assert result.exit_code != 0 and "unknown scope" in result.output


def test_revoked_key_is_401_revoked_api_key_and_the_revocation_is_audited(demo, app, client, session) -> None:
    runner = app.test_cli_runner()
    created = runner.invoke(args=["api-keys", "create", "--system", "billing", "--scope", "masterdata:read"])
    raw = created.output.strip().splitlines()[-1]
    headers = {"Authorization": f"Bearer {raw}"}
    assert client.get(URL, headers=headers).status_code == 200
    prefix = raw.removeprefix("cmdms_").split("_")[0]

    revoked = runner.invoke(args=["api-keys", "revoke", prefix])

    assert revoked.exit_code == 0, revoked.output
    response = client.get(URL, headers=headers)
    assert response.status_code == 401
    assert response.get_json()["error"] == "revoked_api_key"
    actions = session.scalars(
        select(AuditEntry.action).where(AuditEntry.entity == "api_key", AuditEntry.entity_key == prefix)
    ).all()
    assert actions == ["create", "revoke"]


class _Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _cached_keys(app, clock):
    from service.auth.api_keys import CACHE_EXTENSION, KeyCache

    saved = app.extensions[CACHE_EXTENSION]
    app.extensions[CACHE_EXTENSION] = KeyCache(ttl_s=30, touch_every_s=60, clock=clock)
    return saved


def test_last_used_at_is_written_at_most_once_a_minute(demo, app, client, session, make_api_key) -> None:
    from service.auth.api_keys import CACHE_EXTENSION

    clock = _Clock()
    saved = _cached_keys(app, clock)
    try:
        headers = make_api_key("masterdata:write", system="billing-a")

        def use(n: int) -> object:
            answer = client.post(URL, json=[consumer_row(f"N91000000{n:02d}")], headers=headers)
            assert answer.status_code == 200, answer.get_json()
            session.expire_all()
            return session.scalar(select(ApiKey.last_used_at).where(ApiKey.system == "billing-a"))

        assert use(1) is not None
        session.execute(ApiKey.__table__.update().values(last_used_at=None))
        session.commit()
        clock.now += 59
        assert use(2) is None  # used again within the minute: no write
        clock.now += 2
        assert use(3) is not None
    finally:
        app.extensions[CACHE_EXTENSION] = saved


def test_a_revocation_made_elsewhere_takes_effect_within_the_cache_ttl(
    demo, app, client, session, make_api_key
) -> None:
    from datetime import UTC, datetime

    from service.auth.api_keys import CACHE_EXTENSION

    clock = _Clock()
    saved = _cached_keys(app, clock)
    try:
        headers = make_api_key("masterdata:read", system="billing-b")
        assert client.get(URL, headers=headers).status_code == 200
        # Another process (the CLI on another host) revokes it: this one learns within 30 s.
        session.execute(ApiKey.__table__.update().values(revoked_at=datetime.now(UTC)))
        session.commit()
        clock.now += 29
        assert client.get(URL, headers=headers).status_code == 200
        clock.now += 2
        response = client.get(URL, headers=headers)
        assert response.status_code == 401
        assert response.get_json()["error"] == "revoked_api_key"
    finally:
        app.extensions[CACHE_EXTENSION] = saved


def test_cli_creates_a_person_once_and_a_refused_one_stores_nothing(demo, app, session) -> None:
    from service.auth.models import User

    runner = app.test_cli_runner()
    base = ["users", "create", "je_cli", "--role", "field_officer", "--password", "a-long-cli-password"]
    refused = runner.invoke(args=[*base, "--org-unit", "NO-SUCH-UNIT"])
    assert refused.exit_code != 0
    session.rollback()
    assert session.scalar(select(User).where(User.username == "je_cli")) is None
    created = runner.invoke(args=[*base, "--org-unit", "BPLC-D1-S1-DC1"])
    assert created.exit_code == 0, created.output
    session.rollback()
    assert session.scalar(select(User.role).where(User.username == "je_cli")) == "field_officer"
