"""Listing, lookup and org scoping in the API, the consumers page and the landing page."""

from __future__ import annotations

from sqlalchemy import func, select

from service.masterdata.models import Consumer, OrgUnit

URL = "/api/v1/masterdata/consumers"


def _east_ivrs(session) -> set[str]:
    east = session.scalar(select(OrgUnit.path).where(OrgUnit.code == "BPLC-D1"))
    return set(
        session.scalars(
            select(Consumer.ivrs_number)
            .join(OrgUnit, OrgUnit.id == Consumer.org_unit_id)
            .where(OrgUnit.path.startswith(east))
        )
    )


def test_listing_is_paginated_with_a_total(demo, client, billing) -> None:
    first = client.get(f"{URL}?page=1&page_size=100", headers=billing).get_json()
    last = client.get(f"{URL}?page=3&page_size=100", headers=billing).get_json()
    assert (first["total"], first["page"], first["page_size"], len(first["items"])) == (300, 1, 100, 100)
    assert len(last["items"]) == 100
    beyond = client.get(f"{URL}?page=4&page_size=100", headers=billing).get_json()
    assert beyond["items"] == [] and beyond["total"] == 300
    keys = {i["ivrs_number"] for i in first["items"]} & {i["ivrs_number"] for i in last["items"]}
    assert keys == set()


def test_page_size_over_1000_and_unknown_parameters_are_refused(demo, client, billing) -> None:
    assert client.get(f"{URL}?page_size=1001", headers=billing).status_code == 422
    response = client.get(f"{URL}?colour=blue", headers=billing)
    assert response.status_code == 422
    response = client.get(f"{URL}?meter_class=scalar", headers=billing)
    assert response.status_code == 400
    assert response.get_json() == {
        "error": "unknown_filter",
        "message": "meter_class: not a filter of consumers",
    }


def test_filters_narrow_the_listing(demo, client, billing, session) -> None:
    body = client.get(f"{URL}?tariff_category=LV5&page_size=1000", headers=billing).get_json()
    expected = session.scalar(select(func.count(Consumer.id)).where(Consumer.tariff_category == "LV5"))
    assert body["total"] == expected > 0
    assert {i["tariff_category"] for i in body["items"]} == {"LV5"}

    east = client.get(f"{URL}?org_unit=BPLC-D1&page_size=1000", headers=billing).get_json()
    assert {i["ivrs_number"] for i in east["items"]} == _east_ivrs(session)

    meters = client.get("/api/v1/masterdata/meters?meter_class=dt", headers=billing).get_json()
    assert meters["total"] == 12 and {m["meter_class"] for m in meters["items"]} == {"dt"}
    agri = client.get("/api/v1/masterdata/feeders?feeder_type=agricultural", headers=billing).get_json()
    assert {f["feeder_type"] for f in agri["items"]} == {"agricultural"}


def test_text_search_matches_ivrs_or_name_and_treats_wildcards_literally(
    demo, client, billing, session
) -> None:
    consumer = session.scalar(select(Consumer).order_by(Consumer.id).limit(1))
    found = client.get(f"{URL}?q={consumer.ivrs_number}", headers=billing).get_json()
    assert [i["ivrs_number"] for i in found["items"]] == [consumer.ivrs_number]
    assert client.get(f"{URL}?q=%25", headers=billing).get_json()["total"] == 0


def test_updated_since_lists_only_recent_changes(demo, client, billing, post_rows, session) -> None:
    import urllib.parse

    from tests.masterdata.conftest import consumer_row

    since = session.scalar(select(func.now()))
    session.rollback()
    post_rows("consumers", [consumer_row("N9000000001")])
    query = urllib.parse.quote(since.isoformat())
    later = client.get(f"{URL}?updated_since={query}", headers=billing).get_json()
    assert [i["ivrs_number"] for i in later["items"]] == ["N9000000001"]


def test_one_record_by_natural_key_or_404(demo, client, billing) -> None:
    dtr = client.get("/api/v1/masterdata/dtrs/DTR-0001", headers=billing).get_json()
    assert dtr["code"] == "DTR-0001" and dtr["feeder_code"].startswith("FDR-")
    missing = client.get("/api/v1/masterdata/dtrs/DTR-9999", headers=billing)
    assert missing.status_code == 404 and missing.get_json()["error"] == "not_found"
    installs = client.get("/api/v1/masterdata/installations?page_size=1", headers=billing).get_json()
    key = installs["items"][0]["key"]
    one = client.get(f"/api/v1/masterdata/installations/{key}", headers=billing).get_json()
    assert one["key"] == key
    assert client.get("/api/v1/masterdata/installations/garbage", headers=billing).status_code == 404


def test_division_officer_sees_only_their_division_in_the_api(demo, login, session) -> None:
    client = login("ee_east")
    body = client.get(f"{URL}?page_size=1000").get_json()
    east = _east_ivrs(session)
    assert 0 < body["total"] == len(east) < 300
    assert {i["ivrs_number"] for i in body["items"]} == east
    # another division's consumer is not found, even by its key
    other = session.scalar(
        select(Consumer.ivrs_number)
        .join(OrgUnit, OrgUnit.id == Consumer.org_unit_id)
        .where(OrgUnit.code.startswith("SHR"))
        .limit(1)
    )
    assert client.get(f"{URL}/{other}").status_code == 404
    assert client.get(f"{URL}?q={other}").get_json()["total"] == 0
    meters = client.get("/api/v1/masterdata/meters?page_size=1000").get_json()["items"]
    assert {m["org_unit_code"][:7] for m in meters} == {"BPLC-D1"}


def test_division_officer_sees_only_their_division_on_the_consumers_page(demo, login, session) -> None:
    client = login("ee_east")
    east = _east_ivrs(session)
    html = client.get("/consumers").get_data(as_text=True)
    assert f'<strong class="list-total">{len(east)}</strong> consumers' in html
    other = session.scalar(
        select(Consumer.ivrs_number)
        .join(OrgUnit, OrgUnit.id == Consumer.org_unit_id)
        .where(OrgUnit.code.startswith("SHR"))
        .limit(1)
    )
    searched = client.get(f"/consumers?q={other}").get_data(as_text=True)
    assert f">{other}<" not in searched and "No consumers match" in searched
    mine = sorted(east)[0]
    assert f'class="ivrs primary"><a href="/consumers/{mine}">{mine}</a><' in client.get(
        f"/consumers?q={mine}"
    ).get_data(as_text=True)


def test_consumers_page_pages_and_survives_bad_page_numbers(demo, login) -> None:
    client = login("admin")
    html = client.get("/consumers?page=2").get_data(as_text=True)
    assert "Page 2 of 6" in html and 'rel="prev"' in html
    assert client.get("/consumers?page=abc").status_code == 200
    assert 'href="/consumers"' in client.get("/").get_data(as_text=True)  # in the navigation


def test_consumers_page_requires_login(client) -> None:
    response = client.get("/consumers")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_division_officer_landing_page_never_counts_another_division(demo, login, session) -> None:
    east = _east_ivrs(session)
    html = login("ee_east").get("/").get_data(as_text=True)
    assert f'id="count-consumers">{len(east)}<' in html
    assert 'id="count-consumers">300<' not in html
