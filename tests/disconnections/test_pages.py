"""The DO-list pages: the division officer filters, selects, drops with a reason and approves its part;
the control-centre authority sends the OTP, three wrong codes lock it, a new one confirms. Scoped
by org unit, CSRF-protected, times in IST, Hindi as well as English."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select

from service.auth.models import User
from service.disconnections.models import ListOrder, ListPart
from service.masterdata.models import ConsumerSupplyLink, Dtr, DtrFeederLink, Feeder, OrgUnit
from tests.disconnections.conftest import World

# Arrears by row: the first five of DIV1 owe 25,000 (band >= 20,000), the rest 1,250.50.
BIG, SMALL = Decimal("25000.00"), Decimal("1250.50")


def _network(session: Any, world: World) -> None:
    """DT-A on feeder F-1 supplies the first five DIV1 consumers; the others have no supply link."""
    dc = session.scalar(select(OrgUnit.id).where(OrgUnit.code == "DC1"))
    feeder = Feeder(
        code="F-1", name="Feeder 1", voltage_kv=Decimal("11"), feeder_type="urban", org_unit_id=dc
    )
    dtr = Dtr(code="DT-A", name="DT A", capacity_kva=Decimal("100"), org_unit_id=dc)
    session.add_all([feeder, dtr])
    session.flush()
    since = datetime(2025, 1, 1, tzinfo=UTC)
    session.add(DtrFeederLink(dtr_id=dtr.id, feeder_id=feeder.id, valid_from=since))
    for number in world.ivrs["DIV1"][:5]:
        session.add(
            ConsumerSupplyLink(consumer_id=world.consumer_ids[number], dtr_id=dtr.id, valid_from=since)
        )
    session.commit()


def _post_list(client: Any, headers: dict[str, str], world: World) -> dict[str, int]:
    rows = [
        {"ivrs_number": n, "amount_due_inr": str(BIG if d == "DIV1" and i < 5 else SMALL)}
        for d in ("DIV1", "DIV2")
        for i, n in enumerate(world.ivrs[d])
    ]
    answer = client.post(
        "/api/v1/disconnections/orders", json={"list_ref": "DO-PAGES", "rows": rows}, headers=headers
    )
    assert answer.status_code == 200, answer.get_json()
    return {p["division"]: p["part_id"] for p in answer.get_json()["parts"]}


def _text(answer: Any) -> str:
    return str(answer.get_data(as_text=True))


def _order_ids(html: str) -> list[int]:
    return [int(i) for i in re.findall(r'name="order" value="(\d+)"', html)]


def _states(session: Any, part_id: int) -> dict[str, int]:
    session.expire_all()
    rows = session.execute(
        select(ListOrder.state, func.count()).where(ListOrder.part_id == part_id).group_by(ListOrder.state)
    )
    return dict(rows.tuples().all())


def test_the_officer_filters_drops_two_with_a_reason_and_approves_the_division_list(
    session: Any, client: Any, make_api_key: Any, world: World, staff: Any, clock: Any, add_hes: Any
) -> None:
    add_hes("HES-A", "http://127.0.0.1:9", "json")
    _network(session, world)
    parts = _post_list(client, make_api_key("disconnections:write"), world)
    officer = staff("officer1")
    url = f"/disconnections/parts/{parts['DIV1']}"
    page = _text(officer.get(url))
    assert '<strong>1–25</strong> of <strong class="list-total">25</strong> consumers' in page
    # 5 x 25,000 + 20 x 1,250.50 = 1,50,010 to disconnect; nothing dropped yet.
    assert (
        '<strong class="to-disconnect-count">25</strong> · ₹<span class="to-disconnect-arrears">1,50,010.00</span>'
        in page
    )
    assert '<strong class="dropped-count">0</strong>' in page
    assert 'id="filter-dt"' in page and '<option value="DT-A"' in page and '<option value="F-1"' in page

    on_dt = _text(officer.get(url + "?dt=DT-A"))
    assert len(_order_ids(on_dt)) == 5 and "DC1 / DT-A / F-1" in on_dt
    assert len(_order_ids(_text(officer.get(url + "?feeder=F-1")))) == 5
    big = _text(officer.get(url + "?band=ge20000"))
    assert "All 5 pending consumers matching the filter (₹1,25,000.00)" in big
    assert len(_order_ids(_text(officer.get(url + "?band=lt1000")))) == 0
    searched = _text(officer.get(url + f"?q={world.ivrs['DIV1'][7]}"))
    assert re.findall(r'data-ivrs="([^"]+)"', searched) == [world.ivrs["DIV1"][7]]
    paged = _text(officer.get(url + "?per_page=25&page=1"))
    assert len(_order_ids(paged)) == 25

    ids = _order_ids(page)
    drop = url + "/drop"
    # No reason, no token, nothing selected: refused, nothing dropped.
    assert officer.client.post(drop, data={"order": ids[:2], "reason": "paid"}).status_code == 400
    officer.client.post(drop, data={"csrf_token": officer.token, "order": ids[:2], "reason": "  "})
    officer.client.post(drop, data={"csrf_token": officer.token, "reason": "paid today"})
    assert _states(session, parts["DIV1"]) == {"pending": 25}
    answer = officer.client.post(
        drop, data={"csrf_token": officer.token, "order": ids[:2], "reason": "paid today"}
    )
    assert answer.status_code == 302
    after = _text(officer.get(url))
    assert "2 consumer(s) dropped from the list." in after
    assert (
        '<strong class="dropped-count">2</strong> · ₹<span class="dropped-arrears">50,000.00</span>' in after
    )
    assert '<strong class="to-disconnect-count">23</strong>' in after
    assert "dropped by officer1: paid today" in after
    assert _states(session, parts["DIV1"]) == {"pending": 23, "dropped": 2}

    # Select-all-matching drops the filtered pending rows, if the count is still the one shown.
    stale = officer.client.post(drop, data={"csrf_token": officer.token, "all_matching": "1", "query": "band=ge20000",
                                            "expected": "5", "reason": "disputed bill"})  # fmt: skip
    assert stale.status_code == 302
    assert "The list changed: 3 consumers match now." in _text(officer.get(url))
    assert _states(session, parts["DIV1"]) == {"pending": 23, "dropped": 2}
    officer.client.post(drop, data={"csrf_token": officer.token, "all_matching": "1", "query": "band=ge20000",
                                    "expected": "3", "reason": "disputed bill"})  # fmt: skip
    assert _states(session, parts["DIV1"]) == {"pending": 20, "dropped": 5}

    assert officer.client.post(url + "/approve", data={"remarks": "ok"}).status_code == 400  # CSRF
    approved = officer.client.post(url + "/approve", data={"csrf_token": officer.token, "remarks": "checked"})
    assert approved.status_code == 302
    session.expire_all()
    assert session.get(ListPart, parts["DIV1"]).state == "approved"
    done = _text(officer.get(url))
    assert "approve-form" not in done and 'drop-form"' in done and "drop-selected" not in done
    assert re.search(r"approved by officer1 <time datetime=\"[^\"]+\+05:30\">[^<]+ IST</time>", done)
    late = officer.client.post(drop, data={"csrf_token": officer.token, "order": ids[5:6], "reason": "late"})
    assert late.status_code == 302
    assert _states(session, parts["DIV1"]) == {"pending": 20, "dropped": 5}


def test_an_officer_of_another_division_gets_404_and_an_officer_no_otp_page(
    session: Any, client: Any, make_api_key: Any, world: World, staff: Any, clock: Any, add_hes: Any
) -> None:
    add_hes("HES-A", "http://127.0.0.1:9", "json")
    parts = _post_list(client, make_api_key("disconnections:write"), world)
    other = staff("officer2")
    url = f"/disconnections/parts/{parts['DIV1']}"
    assert other.get(url).status_code == 404
    assert other.get(url + "?export=csv").status_code == 404
    ids = list(session.scalars(select(ListOrder.id).where(ListOrder.part_id == parts["DIV1"])))
    refused = other.client.post(
        url + "/drop", data={"csrf_token": other.token, "order": ids[:3], "reason": "x"}
    )
    assert refused.status_code == 404
    assert other.client.post(url + "/approve", data={"csrf_token": other.token}).status_code == 404
    assert _states(session, parts["DIV1"]) == {"pending": 25}
    assert session.get(ListPart, parts["DIV1"]).state == "verifying"
    # Their own part is theirs; the OTP page is the control centre's alone.
    assert other.get(f"/disconnections/parts/{parts['DIV2']}").status_code == 200
    assert other.get(f"/disconnections/parts/{parts['DIV2']}/confirm").status_code == 403
    assert other.client.post(f"/disconnections/parts/{parts['DIV2']}/otp",
                             data={"csrf_token": other.token}).status_code == 403  # fmt: skip
    exported = staff("officer1").get(url + "?export=csv")
    assert exported.status_code == 200 and exported.get_data(as_text=True).count("\n") == 26


def _otp(twilio: Any) -> str:
    match = re.match(r"^(\d{6}) is your CMDMS OTP", twilio.messages[-1]["Body"])
    assert match, twilio.messages[-1]["Body"]
    return match.group(1)


def test_the_authority_sends_the_otp_three_wrong_codes_lock_it_and_a_new_one_confirms(
    session: Any, client: Any, make_api_key: Any, world: World, staff: Any, clock: Any, add_hes: Any,
    wired: Any, twilio: Any, run_jobs: Any,
) -> None:  # fmt: skip
    add_hes("HES-A", "http://127.0.0.1:9", "json")
    parts = _post_list(client, make_api_key("disconnections:write"), world)
    part_id = parts["DIV2"]
    authority = staff("authority")
    url = f"/disconnections/parts/{part_id}/confirm"
    assert "The division has not approved this list yet." in _text(authority.get(url))
    officer = staff("officer2")
    officer.client.post(f"/disconnections/parts/{part_id}/approve", data={"csrf_token": officer.token})

    page = _text(authority.get(url))
    assert "An OTP will be sent to your mobile." in page and ">Send OTP<" in page
    assert '<strong class="to-disconnect-count">25</strong>' in page
    assert authority.client.post(f"/disconnections/parts/{part_id}/otp").status_code == 400  # CSRF
    sent = authority.client.post(f"/disconnections/parts/{part_id}/otp", data={"csrf_token": authority.token})
    assert sent.status_code == 302
    run_jobs("urgent")
    code = _otp(twilio)
    page = _text(authority.get(url))
    assert "An OTP was sent to your mobile." in page and ">Resend OTP<" in page
    assert re.search(
        r"OTP sent at <time datetime=\"[^\"]+\+05:30\">[^<]+ IST</time>; valid until <time", page
    )
    assert "3 attempt(s) left." in page

    wrong = "000000" if code != "000000" else "111111"
    answers = [
        authority.client.post(url, data={"csrf_token": authority.token, "otp": wrong}) for _ in range(3)
    ]
    assert [a.status_code for a in answers] == [422, 422, 422]
    assert "The OTP does not match; 2 attempt(s) left." in _text(answers[0])
    assert "The OTP does not match; 1 attempt(s) left." in _text(answers[1])
    assert "Three wrong codes: this OTP is locked. Request a new OTP." in _text(answers[2])
    assert 'id="confirm-form"' not in _text(answers[2])
    late = authority.client.post(url, data={"csrf_token": authority.token, "otp": code})
    assert late.status_code == 422 and "locked" in _text(late)
    session.expire_all()
    assert session.get(ListPart, part_id).state == "approved"

    authority.client.post(f"/disconnections/parts/{part_id}/otp", data={"csrf_token": authority.token})
    run_jobs("urgent")
    assert authority.client.post(url, data={"otp": _otp(twilio)}).status_code == 400  # CSRF
    confirmed = authority.client.post(url, data={"csrf_token": authority.token, "otp": _otp(twilio)})
    assert confirmed.status_code == 302
    session.expire_all()
    assert session.get(ListPart, part_id).state == "confirmed"
    final = _text(authority.get(url))
    assert "Confirmed: the commands go to the HES." in final
    assert re.search(r"confirmed by authority <time datetime=\"[^\"]+\+05:30\">[^<]+ IST</time>", final)


def test_the_pages_speak_hindi_to_a_person_who_chose_it(
    session: Any, client: Any, make_api_key: Any, world: World, staff: Any, clock: Any, add_hes: Any
) -> None:
    add_hes("HES-A", "http://127.0.0.1:9", "json")
    parts = _post_list(client, make_api_key("disconnections:write"), world)
    for name in ("officer1", "authority"):
        session.execute(User.__table__.update().where(User.username == name).values(language="hi"))
    session.commit()
    page = _text(staff("officer1").get(f"/disconnections/parts/{parts['DIV1']}"))
    assert '<html lang="hi">' in page and "डीओ सूची का सत्यापन" in page and "सूची स्वीकृत करें" in page
    otp_page = _text(staff("authority").get(f"/disconnections/parts/{parts['DIV1']}/confirm"))
    assert "ओटीपी से विच्छेदन की पुष्टि करें" in otp_page


def test_a_fourth_otp_within_the_window_is_refused_on_the_page_and_the_api_not_a_500(
    session: Any, client: Any, make_api_key: Any, world: World, staff: Any, clock: Any, add_hes: Any,
    wired: Any, twilio: Any,
) -> None:  # fmt: skip
    add_hes("HES-A", "http://127.0.0.1:9", "json")
    parts = _post_list(client, make_api_key("disconnections:write"), world)
    part_id = parts["DIV1"]
    officer = staff("officer1")
    officer.client.post(f"/disconnections/parts/{part_id}/approve", data={"csrf_token": officer.token})
    authority = staff("authority")
    for _ in range(3):
        sent = authority.client.post(
            f"/disconnections/parts/{part_id}/otp", data={"csrf_token": authority.token}
        )
        assert sent.status_code == 302
    fourth = authority.client.post(
        f"/disconnections/parts/{part_id}/otp", data={"csrf_token": authority.token}
    )
    assert fourth.status_code == 302
    assert "3 codes for this disconnection part in 15 minutes" in _text(
        authority.get(f"/disconnections/parts/{part_id}/confirm")
    )
    refused = authority.post(f"/api/v1/disconnections/parts/{part_id}/otp")
    assert (refused.status_code, refused.get_json()["error"]) == (429, "otp_limit")
    assert refused.get_json()["retry_after_seconds"] > 0
