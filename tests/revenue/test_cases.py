"""ATR cases through the real runtime: VEE's open_atr_case rules open them, a finding on a consumer
with an open case adds evidence, the field officer of the consumer's unit inspects and records the
action taken (theft with its assessment, no issue, a faulty meter replaced through assets), and an
overdue case escalates by its timer."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import text

from service.processes import queue
from service.processes.runtime import ProcessConflict
from service.processes.timers import sweep_timers
from service.revenue import Finding, add_findings
from tests.processes.helpers import open_items
from tests.revenue.conftest import actions, cases, evidence, principal
from tests.vee.conftest import intervals_batch, profile

NOW = datetime(2026, 11, 20, 6, 0, tzinfo=UTC)
DAY = date(2026, 11, 19)


def _find(session: Any, consumer: int, rule: str = "TEST-RULE", day: date = DAY, **kw: Any) -> Any:
    added = add_findings(session(), [Finding(rule, consumer, day, **kw)], NOW)
    session.commit()
    return added


def test_export_on_a_meter_that_is_not_net_metered_opens_a_case_through_vee(
    session: Any, network: dict[str, int], ingest: Any, run_jobs: Any
) -> None:
    ingest(intervals_batch("VM1", profile()))
    ingest(intervals_batch("VM1", [(40, 0.3)], channel="kwh_export"))
    run_jobs("vee")
    [case] = cases(session)
    assert (case["consumer_id"], case["meter_id"], case["status"], case["first_rule_id"]) == (
        network["VC1"], network["VM1"], "open", "SM-INT-REVERSE",
    )  # fmt: skip
    assert case["org_unit_id"] == network["org"]
    assert evidence(session) == [(case["id"], "SM-INT-REVERSE", "vee")]
    [item] = open_items(case["instance_id"])
    assert (item.bpmn_id, item.candidate_group, item.org_unit_id) == (
        "inspect",
        "field_officer",
        network["org"],
    )
    assert item.data["ivrs_number"] == "VC1" and item.business_key == f"atr-case-{case['id']}"
    # The same batch again (re-delivery, VEE re-run): no second case, no second evidence row.
    ingest(intervals_batch("VM1", [(40, 0.3)], channel="kwh_export"))
    run_jobs("vee")
    assert len(cases(session)) == 1 and len(evidence(session)) == 1


def test_a_second_finding_adds_evidence_to_the_open_case_and_a_closed_case_lets_a_new_one_open(
    session: Any, network: dict[str, int], drain: Any
) -> None:
    first = _find(session, network["VC1"], "ATR-TAMPER", meter_id=network["VM1"])
    again = _find(session, network["VC1"], "ATR-TAMPER", meter_id=network["VM1"])
    other = _find(session, network["VC1"], "ATR-PEER", meter_id=network["VM1"], score=2.5)
    assert (len(first.opened), first.evidence) == (1, 1)
    assert (again.opened, again.evidence) == ([], 0)
    assert (other.opened, other.evidence) == ([], 1)
    [case] = cases(session)
    assert [r for _, r, _ in evidence(session)] == ["ATR-TAMPER", "ATR-PEER"]
    assert session.execute(text("SELECT score FROM atr_cases")).scalar_one() == 3.5
    [item] = open_items(case["instance_id"])
    queue.complete(
        session(), principal("ee_east"), item.id, {"result": "no_issue", "remarks": "load is genuine"}
    )
    session.commit()
    drain()
    [closed] = cases(session)
    assert (closed["status"], closed["outcome"], closed["assessment_inr"]) == ("closed", "no_issue", None)
    assert open_items(case["instance_id"]) == []
    reopened = _find(session, network["VC1"], "ATR-TAMPER", day=date(2026, 11, 25))
    assert len(reopened.opened) == 1 and len(cases(session)) == 2


def test_theft_without_an_assessment_goes_back_to_the_officer_then_closes_with_the_amount(
    session: Any, network: dict[str, int], drain: Any
) -> None:
    _find(session, network["VC1"], meter_id=network["VM1"])
    [case] = cases(session)
    [item] = open_items(case["instance_id"])
    with pytest.raises(LookupError):
        queue.get_item(session(), principal("ee_west"), item.id)  # another division's officer
    with pytest.raises(queue.FormInvalid):
        queue.complete(session(), principal("ee_east"), item.id, {"result": "stolen"})
    session.rollback()
    queue.complete(session(), principal("ee_east"), item.id, {"result": "theft_confirmed"})
    session.commit()
    [again] = open_items(case["instance_id"])
    assert again.bpmn_id == "inspect" and again.id != item.id
    assert cases(session)[0]["status"] == "open"
    values = {"result": "theft_confirmed", "assessment_inr": 48250.5, "remarks": "hook on the service line"}
    queue.complete(session(), principal("ee_east"), again.id, values)
    session.commit()
    with pytest.raises(ProcessConflict):
        queue.complete(session(), principal("ee_east"), again.id, values)
    session.rollback()
    drain()
    [closed] = cases(session)
    assert (closed["status"], closed["outcome"], str(closed["assessment_inr"])) == (
        "closed", "theft_confirmed", "48250.50",
    )  # fmt: skip
    assert actions(session, closed["id"]) == ["opened", "theft_confirmed"]
    assert open_items(case["instance_id"]) == []


def test_an_overdue_case_escalates_by_its_timer_and_stays_with_the_officer(
    session: Any, network: dict[str, int], drain: Any
) -> None:
    add_findings(session(), [Finding("TEST-RULE", network["VC1"], DAY)], NOW, escalate_after="PT1S")
    session.commit()
    [case] = cases(session)
    time.sleep(1.2)
    assert sweep_timers() == 1
    drain()
    [escalated] = cases(session)
    assert escalated["escalated_at"] is not None and escalated["status"] == "open"
    assert actions(session, case["id"]) == ["opened", "escalated"]
    assert [i.bpmn_id for i in open_items(case["instance_id"])] == ["inspect"]


def test_a_faulty_meter_is_replaced_through_assets_and_a_refused_report_returns_with_its_reason(
    session: Any, network: dict[str, int], drain: Any
) -> None:
    from service.assets.moves import move
    from service.audit.log import Actor
    from service.masterdata.models import Meter

    spare = Meter(serial_number="VS2", make="Genus", meter_class="scalar", org_unit_id=network["org"])
    session.add(spare)
    session.flush()
    move(session(), spare.id, "in_store", datetime(2026, 2, 1, tzinfo=UTC), Actor("cli", "test"), "delivered")
    session.commit()
    _find(session, network["VC3"], meter_id=network["VS1"])
    [case] = cases(session)
    [item] = open_items(case["instance_id"])
    queue.complete(
        session(), principal("ee_east"), item.id, {"result": "meter_faulty", "remarks": "display dead"}
    )
    session.commit()
    drain()
    assert cases(session)[0]["status"] == "awaiting_replacement"
    [replace] = open_items(case["instance_id"])
    assert replace.bpmn_id == "replace_meter"
    report = {"new_meter_serial": "NOPE", "replaced_at": "2026-11-20T10:00:00+05:30", "final_kwh": 1200,
              "initial_kwh": 0.5}  # fmt: skip
    queue.complete(session(), principal("ee_east"), replace.id, report)
    session.commit()
    drain()
    [retry] = open_items(case["instance_id"])
    assert retry.bpmn_id == "replace_meter"
    assert retry.data["replacement"]["refusals"][0]["reason"] == "unknown_meter"
    queue.complete(session(), principal("ee_east"), retry.id, {**report, "new_meter_serial": "VS2"})
    session.commit()
    drain()
    [done] = cases(session)
    assert (done["status"], done["outcome"]) == ("closed", "meter_faulty")
    installed = session.execute(
        text("SELECT m.serial_number FROM installations i JOIN meters m ON m.id = i.meter_id"
             " WHERE i.consumer_id = :c AND i.removed_at IS NULL"), {"c": network["VC3"]},
    ).scalars().all()  # fmt: skip
    assert installed == ["VS2"]
    assert actions(session, case["id"]) == ["opened", "meter_faulty", "meter_replaced"]


def test_findings_on_unknown_consumers_open_nothing(session: Any, network: dict[str, int]) -> None:
    added = _find(session, 999_999)
    assert (added.opened, added.evidence) == ([], 0) and cases(session) == []
