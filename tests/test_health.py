from flask.testing import FlaskClient


def test_healthz_reports_database_redis_and_migrations_ok(client: FlaskClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "ok"
    assert body["checks"]["database"] == {"ok": True}
    assert body["checks"]["redis"] == {"ok": True}
    assert body["checks"]["migrations"]["ok"] is True
    assert body["checks"]["migrations"]["current"] == body["checks"]["migrations"]["heads"]
