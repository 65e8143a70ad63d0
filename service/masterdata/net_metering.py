"""Net-metering master data: solar plants and agreements, upserted as billing sends them.

A plant belongs to a net-metered consumer (`is_net_metered`); an agreement names the consumer
and one of its plants, with the days it is in force [valid_from, valid_to) — one consumer's
agreements never overlap — and the settlement rule. `terms_for` is what determinants and VEE read.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from service.audit.log import Actor, record_many
from service.masterdata.batch import UpsertResult, bulk_update, lock_entity, string_key, validate_rows
from service.masterdata.models import Consumer, NetMeteringAgreement, SolarPlant
from service.masterdata.schemas import NetMeteringAgreementRow, SolarPlantRow

PLANT_FIELDS = ("capacity_kwp", "commissioning_date", "inverter_make")
AGREEMENT_FIELDS = (
    "valid_from",
    "valid_to",
    "settlement_rule",
    "settlement_start_month",
    "surplus_rate",
)
AGREEMENT_DEFAULTS: dict[str, Any] = {
    "valid_to": None,
    "settlement_start_month": 4,
    "surplus_rate": Decimal(0),
}


@dataclass(frozen=True)
class Terms:
    """An agreement in force, with its plant: what billing and VEE need of it."""

    consumer_id: int
    agreement_number: str
    valid_from: date
    valid_to: date | None
    settlement_rule: str
    settlement_start_month: int
    surplus_rate: Decimal
    plant_code: str
    capacity_kwp: Decimal
    commissioning_date: date

    def in_force(self, day: date) -> bool:
        return self.valid_from <= day and (self.valid_to is None or day < self.valid_to)


def terms_for(session: Session, consumer_ids: list[int], first: date, last: date) -> dict[int, list[Terms]]:
    """Each consumer's agreements in force on some day of [first, last], oldest first."""
    a, p = NetMeteringAgreement, SolarPlant
    rows = session.execute(
        select(
            a.consumer_id,
            a.agreement_number,
            a.valid_from,
            a.valid_to,
            a.settlement_rule,
            a.settlement_start_month,
            a.surplus_rate,
            p.code,
            p.capacity_kwp,
            p.commissioning_date,
        )
        .join(p, p.id == a.plant_id)
        .where(
            a.consumer_id.in_(consumer_ids),
            a.valid_from <= last,
            (a.valid_to.is_(None)) | (a.valid_to > first),
        )
        .order_by(a.consumer_id, a.valid_from)
    ).all()
    out: dict[int, list[Terms]] = defaultdict(list)
    for r in rows:
        out[r[0]].append(Terms(*r))
    return dict(out)


def _consumers(session: Session, ivrs: set[str]) -> dict[str, tuple[int, int, bool]]:
    """{ivrs: (id, org unit id, is_net_metered)} of the consumers that exist."""
    rows = session.execute(
        select(Consumer.ivrs_number, Consumer.id, Consumer.org_unit_id, Consumer.is_net_metered).where(
            Consumer.ivrs_number.in_(sorted(ivrs))
        )
    )
    return {r[0]: (r[1], r[2], r[3]) for r in rows}


def _consumer_refusal(
    consumers: dict[str, tuple[int, int, bool]], ivrs: str, visible_orgs: set[int] | None
) -> str | None:
    if ivrs not in consumers:
        return f"unknown consumer {ivrs!r}"
    _, org, net = consumers[ivrs]
    if visible_orgs is not None and org not in visible_orgs:
        return "outside your org unit"
    if not net:
        return f"consumer {ivrs!r} is not net metered (is_net_metered is false)"
    return None


def upsert_plants(
    session: Session, rows: list[Any], actor: Actor, visible_orgs: set[int] | None
) -> UpsertResult:
    result = UpsertResult("solar-plants", len(rows))
    valid = validate_rows(rows, SolarPlantRow(), "code", string_key("code"), lambda d: d["code"], result)
    if not valid:
        return result
    lock_entity(session, "solar-plants")
    consumers = _consumers(session, {d["ivrs_number"] for _, d in valid})
    current = {
        r.code: r
        for r in session.execute(
            select(SolarPlant.id, SolarPlant.code, SolarPlant.consumer_id, *_columns(SolarPlant, PLANT_FIELDS))
            .where(SolarPlant.code.in_([d["code"] for _, d in valid]))
        )
    }  # fmt: skip
    now = datetime.now(UTC)
    inserts, updates = [], []
    created: list[tuple[str, None, dict[str, Any]]] = []
    updated: list[tuple[str, dict[str, Any], dict[str, Any]]] = []
    for index, data in valid:
        code, ivrs = data["code"], data["ivrs_number"]
        refusal = _consumer_refusal(consumers, ivrs, visible_orgs)
        if refusal is not None:
            result.reject(index, code, "ivrs_number", refusal)
            continue
        consumer_id = consumers[ivrs][0]
        values = {f: data[f] for f in PLANT_FIELDS}
        old = current.get(code)
        if old is None:
            inserts.append({"code": code, "consumer_id": consumer_id, **values})
            created.append((code, None, {"code": code, "ivrs_number": ivrs, **values}))
            result.created += 1
            continue
        if old.consumer_id != consumer_id:
            result.reject(index, code, "ivrs_number", "the plant belongs to another consumer")
            continue
        changed = {f: v for f, v in values.items() if getattr(old, f) != v}
        if not changed:
            result.unchanged += 1
            continue
        updates.append({"id": old.id, **changed, "updated_at": now})
        updated.append((code, {f: getattr(old, f) for f in changed}, changed))
        result.updated += 1
    _write(session, actor, SolarPlant, "solar_plant", inserts, updates, created, updated)
    return result


def _columns(model: Any, names: tuple[str, ...]) -> list[Any]:
    return [getattr(model, n) for n in names]


def _write(
    session: Session,
    actor: Actor,
    model: Any,
    record: str,
    inserts: list[dict[str, Any]],
    updates: list[dict[str, Any]],
    created: list[tuple[str, None, dict[str, Any]]],
    updated: list[tuple[str, dict[str, Any], dict[str, Any]]],
) -> None:
    """The batch's new rows in one INSERT, its changes in one UPDATE, each audited."""
    if inserts:
        session.execute(insert(model), inserts)
    bulk_update(session, model, updates)
    record_many(session, actor, "create", record, created)
    record_many(session, actor, "update", record, updated)


def _overlaps(a_from: date, a_to: date | None, b_from: date, b_to: date | None) -> bool:
    return (b_to is None or a_from < b_to) and (a_to is None or b_from < a_to)


def upsert_agreements(
    session: Session, rows: list[Any], actor: Actor, visible_orgs: set[int] | None
) -> UpsertResult:
    result = UpsertResult("net-metering-agreements", len(rows))
    valid = validate_rows(
        rows,
        NetMeteringAgreementRow(),
        "agreement_number",
        string_key("agreement_number"),
        lambda d: d["agreement_number"],
        result,
    )
    if not valid:
        return result
    lock_entity(session, "net-metering-agreements")
    consumers = _consumers(session, {d["ivrs_number"] for _, d in valid})
    plants = {
        r.code: r
        for r in session.execute(
            select(SolarPlant.id, SolarPlant.code, SolarPlant.consumer_id, SolarPlant.commissioning_date)
            .where(SolarPlant.code.in_({d["plant_code"] for _, d in valid}))
        )
    }  # fmt: skip
    a = NetMeteringAgreement
    held: dict[int, dict[str, dict[str, Any]]] = defaultdict(dict)  # consumer id -> number -> row
    for r in session.execute(
        select(a.id, a.agreement_number, a.consumer_id, a.plant_id, *_columns(a, AGREEMENT_FIELDS)).where(
            a.consumer_id.in_([c[0] for c in consumers.values()])
            | a.agreement_number.in_([d["agreement_number"] for _, d in valid])
        )
    ).mappings():
        held[r["consumer_id"]][r["agreement_number"]] = dict(r)
    by_number = {n: row for rows_ in held.values() for n, row in rows_.items()}
    now = datetime.now(UTC)
    inserts, updates = [], []
    created: list[tuple[str, None, dict[str, Any]]] = []
    updated: list[tuple[str, dict[str, Any], dict[str, Any]]] = []
    for index, data in valid:
        number, ivrs = data["agreement_number"], data["ivrs_number"]
        refusal = _consumer_refusal(consumers, ivrs, visible_orgs)
        if refusal is not None:
            result.reject(index, number, "ivrs_number", refusal)
            continue
        consumer_id = consumers[ivrs][0]
        plant = plants.get(data["plant_code"])
        if plant is None:
            result.reject(index, number, "plant_code", f"unknown solar plant {data['plant_code']!r}")
            continue
        if plant.consumer_id != consumer_id:
            result.reject(
                index, number, "plant_code", f"the plant {plant.code!r} belongs to another consumer"
            )
            continue
        if data["valid_from"] < plant.commissioning_date:
            reason = f"before the plant's commissioning date {plant.commissioning_date.isoformat()}"
            result.reject(index, number, "valid_from", reason)
            continue
        old = by_number.get(number)
        if old is not None and old["consumer_id"] != consumer_id:
            result.reject(index, number, "ivrs_number", "the agreement belongs to another consumer")
            continue
        base = old if old is not None else AGREEMENT_DEFAULTS
        values = {f: data[f] if f in data else base[f] for f in AGREEMENT_FIELDS}
        clash = next(
            (
                other
                for n, other in held[consumer_id].items()
                if n != number
                and _overlaps(
                    values["valid_from"], values["valid_to"], other["valid_from"], other["valid_to"]
                )
            ),
            None,
        )
        if clash is not None:
            until = clash["valid_to"].isoformat() if clash["valid_to"] else "open"
            reason = f"overlaps agreement {clash['agreement_number']!r} ({clash['valid_from'].isoformat()} to {until})"
            result.reject(index, number, "valid_from", reason)
            continue
        snapshot = {**values, "agreement_number": number, "consumer_id": consumer_id, "plant_id": plant.id}
        held[consumer_id][number] = snapshot  # later rows of the batch see it
        if old is None:
            inserts.append(dict(snapshot))
            created.append((number, None, {"ivrs_number": ivrs, "plant_code": plant.code, **values}))
            result.created += 1
            continue
        changed = {f: v for f, v in values.items() if old[f] != v}
        if old["plant_id"] != plant.id:
            changed["plant_id"] = plant.id
        if not changed:
            result.unchanged += 1
            continue
        updates.append({"id": old["id"], **changed, "updated_at": now})
        updated.append((number, {f: old[f] for f in changed}, changed))
        result.updated += 1
    _write(session, actor, NetMeteringAgreement, "net_metering_agreement", inserts, updates, created, updated)
    return result
