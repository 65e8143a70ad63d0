"""A deterministic, realistic demo discom: org hierarchy, network, consumers, meters, users.

Shape (default 10,000 consumers): one discom > one region > 2 circles > 6 divisions >
12 subdivisions > 24 DCs; 7 substations; 20 feeders (urban, rural mixed, agricultural,
industrial); 400 DTRs; tariff and meter-class mix as in a central-India discom.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from service.masterdata.models import (
    Consumer,
    ConsumerSupplyLink,
    Dtr,
    DtrFeederLink,
    Feeder,
    FeederSubstationLink,
    Installation,
    Meter,
    OrgUnit,
    Substation,
)

DEMO_PASSWORD = "cmdms-demo"  # noqa: S105 - the published demo password
NETWORK_SINCE = datetime(2020, 4, 1, tzinfo=UTC)

FIRST = [
    "Ramesh",
    "Sunita",
    "Anil",
    "Kavita",
    "Suresh",
    "Pooja",
    "Mahesh",
    "Rekha",
    "Rajesh",
    "Anita",
    "Vijay",
    "Geeta",
    "Manoj",
    "Neha",
    "Dinesh",
    "Seema",
    "Prakash",
    "Asha",
    "Rakesh",
    "Meena",
    "Arvind",
    "Lata",
    "Santosh",
    "Kiran",
    "Ashok",
    "Usha",
    "Mukesh",
    "Savita",
    "Harish",
    "Priya",
    "Naresh",
    "Shobha",
    "Gopal",
    "Jyoti",
    "Kailash",
    "Radha",
    "Devendra",
    "Mamta",
    "Bharat",
    "Nirmala",
]
LAST = [
    "Sharma",
    "Verma",
    "Patel",
    "Yadav",
    "Singh",
    "Gupta",
    "Tiwari",
    "Mishra",
    "Dubey",
    "Chouhan",
    "Rajput",
    "Jain",
    "Khan",
    "Ahirwar",
    "Kushwaha",
    "Lodhi",
    "Malviya",
    "Pandey",
    "Shrivastava",
    "Saxena",
    "Meena",
    "Thakur",
    "Sahu",
    "Rathore",
]
LOCALITIES = [
    "Arera Colony",
    "Kolar Road",
    "Shahpura",
    "MP Nagar",
    "Ayodhya Nagar",
    "Berasia Road",
    "Bairagarh",
    "Govindpura",
    "Misrod",
    "Karond",
    "Jahangirabad",
    "Ashoka Garden",
    "Sehore",
    "Ashta",
    "Ichhawar",
    "Budhni",
    "Nasrullaganj",
    "Rehti",
]
MAKES = ("Secure Meters", "Genus Power", "HPL Electric", "L&T", "Landis+Gyr", "Schneider", "Allied")

# (tariff, weight, connection_type, phase choices, load range kW, feeder types it sits on)
TARIFF_MIX: list[tuple[str, float, str, tuple[int, ...], tuple[float, float]]] = [
    ("LV1", 0.70, "LT", (1, 1, 1, 3), (1.0, 5.0)),
    ("LV2", 0.11, "LT", (1, 3), (2.0, 15.0)),
    ("LV3", 0.02, "LT", (3,), (5.0, 40.0)),
    ("LV4", 0.03, "LT", (3,), (10.0, 100.0)),
    ("LV5", 0.13, "LT", (3,), (3.0, 10.0)),
    ("HV1", 0.007, "HT", (3,), (150.0, 2000.0)),
    ("HV2", 0.003, "HT", (3,), (100.0, 800.0)),
]


@dataclass
class DemoSummary:
    org_units: int = 0
    substations: int = 0
    feeders: int = 0
    dtrs: int = 0
    consumers: int = 0
    meters: int = 0
    users: list[tuple[str, str, str]] = field(default_factory=list)  # username, role, org code

    def describe(self) -> str:
        lines = [
            f"{self.consumers} consumers, {self.meters} meters, {self.dtrs} DTRs, "
            f"{self.feeders} feeders, {self.substations} substations, {self.org_units} org units",
            f"demo users (password {DEMO_PASSWORD!r}):",
        ]
        lines += [f"  {u:<14} {r:<15} {o}" for u, r, o in self.users]
        return "\n".join(lines)


def _bulk(session: Session, model: Any, rows: list[dict[str, Any]]) -> list[int]:
    if not rows:
        return []
    return list(session.scalars(insert(model).returning(model.id, sort_by_parameter_order=True), rows))


def _org_units(session: Session) -> dict[str, list[tuple[int, str]]]:
    """Returns ids and codes by level."""
    levels: dict[str, list[tuple[int, str]]] = {}

    def add(code: str, name: str, level: str, parent: tuple[int, str, str] | None) -> tuple[int, str, str]:
        path = (parent[2] if parent else "/") + code + "/"
        (oid,) = _bulk(
            session,
            OrgUnit,
            [dict(code=code, name=name, level=level, parent_id=parent[0] if parent else None, path=path)],
        )
        levels.setdefault(level, []).append((oid, code))
        return oid, code, path

    discom = add("MPCZ", "Madhya Pradesh Madhya Kshetra Vidyut Vitaran Co.", "discom", None)
    region = add("BPL", "Bhopal Region", "region", discom)
    circles = [("BPLC", "Bhopal City Circle"), ("SHR", "Sehore Circle")]
    division_names = [["East", "West", "South"], ["Sehore", "Ashta", "Budhni"]]
    for (ccode, cname), divs in zip(circles, division_names, strict=True):
        circle = add(ccode, cname, "circle", region)
        for di, dname in enumerate(divs, 1):
            division = add(f"{ccode}-D{di}", f"{dname} Division", "division", circle)
            for si in (1, 2):
                sub = add(f"{ccode}-D{di}-S{si}", f"{dname} Subdivision {si}", "subdivision", division)
                for dc in (1, 2):
                    add(f"{ccode}-D{di}-S{si}-DC{dc}", f"{dname} DC {si}.{dc}", "dc", sub)
    return levels


def _weighted(rng: random.Random, items: list[Any], weights: list[float]) -> Any:
    return rng.choices(items, weights=weights, k=1)[0]


def _meter_class(rng: random.Random, tariff: str, phase: int, net: bool) -> str:
    if net:
        return "net"
    if tariff.startswith("HV"):
        return "ht_amr"
    if tariff == "LV4":
        return _weighted(rng, ["lt_amr", "ltct", "smart_3ph"], [0.5, 0.3, 0.2])
    if tariff == "LV5":
        return _weighted(rng, ["scalar", "smart_3ph"], [0.8, 0.2])
    if tariff in ("LV2", "LV3"):
        return _weighted(
            rng, ["lt_amr", "scalar", "smart_3ph" if phase == 3 else "smart_1ph"], [0.25, 0.35, 0.4]
        )
    return _weighted(rng, ["scalar", "smart_3ph" if phase == 3 else "smart_1ph"], [0.45, 0.55])


def _meter_row(
    rng: random.Random, serial: str, meter_class: str, org_unit_id: int, hes: str
) -> dict[str, Any]:
    smart = meter_class.startswith("smart") or meter_class == "net"
    ct = {"ht_amr": "100/5", "ltct": "200/5", "feeder": "400/5", "dt": "200/5"}.get(meter_class)
    pt = {"ht_amr": "11000/110", "feeder": "11000/110"}.get(meter_class)
    mf = Decimal(1)
    if ct:
        p, s = ct.split("/")
        mf = Decimal(p) / Decimal(s)
    if pt:
        p, s = pt.split("/")
        mf *= Decimal(p) / Decimal(s)
    po = date(2019, 1, 1) + timedelta(days=rng.randrange(0, 6 * 365))
    return dict(
        serial_number=serial,
        make=rng.choice(MAKES),
        model=f"{meter_class.upper()}-{rng.randrange(100, 999)}",
        meter_class=meter_class,
        meter_constant=Decimal(rng.choice((1600, 3200, 6400))),
        multiplying_factor=mf,
        ct_ratio=ct,
        pt_ratio=pt,
        display_digits=rng.choice((6, 6, 7)) if meter_class != "scalar" else 5,
        is_dlms=meter_class != "scalar",
        firmware=f"v{rng.randrange(1, 4)}.{rng.randrange(0, 10)}" if meter_class != "scalar" else None,
        rating={
            "smart_1ph": "5-30 A",
            "scalar": "5-30 A",
            "smart_3ph": "10-60 A",
            "net": "10-60 A",
            "lt_amr": "10-60 A",
        }.get(meter_class, "-/5 A"),
        po_date=po,
        warranty_end=po + timedelta(days=5 * 365 + 1),
        communication="cellular"
        if smart or meter_class in ("ht_amr", "lt_amr", "ltct", "feeder", "dt")
        else "none",
        hes_code=hes if smart else None,
        org_unit_id=org_unit_id,
    )


def seed_masterdata(session: Session, consumers: int = 10_000, seed: int = 42) -> DemoSummary:
    rng = random.Random(seed)
    summary = DemoSummary()
    levels = _org_units(session)
    summary.org_units = sum(len(v) for v in levels.values())
    dcs = levels["dc"]
    n_feeders = max(4, round(20 * consumers / 10_000)) if consumers >= 2000 else 4
    n_dtrs = max(n_feeders * 2, round(400 * consumers / 10_000))
    n_substations = max(2, round(n_feeders / 3))

    sub_rows: list[dict[str, Any]] = [
        dict(
            code="SS-132-BPL",
            name="132/33 kV Bhopal",
            voltage_class="132/33",
            org_unit_id=levels["region"][0][0],
        )
    ]
    sub_rows += [
        dict(
            code=f"SS-{i:03d}",
            name=f"33/11 kV {LOCALITIES[i % len(LOCALITIES)]}",
            voltage_class="33/11",
            org_unit_id=dcs[(i * len(dcs)) // n_substations][0],
        )
        for i in range(n_substations)
    ]
    substation_ids = _bulk(session, Substation, sub_rows)
    summary.substations = len(sub_rows)

    feeder_types = [
        "urban",
        "urban",
        "rural_mixed",
        "agricultural",
        "urban",
        "industrial",
        "rural_mixed",
        "agricultural",
        "urban",
        "rural_mixed",
    ]
    feeder_rows: list[dict[str, Any]] = []
    feeder_sub: list[int] = []
    for i in range(n_feeders):
        s_index = 1 + (i * n_substations) // n_feeders
        ftype = feeder_types[i % len(feeder_types)]
        feeder_rows.append(
            dict(
                code=f"FDR-{i + 1:03d}",
                name=f"11 kV {LOCALITIES[(i * 7) % len(LOCALITIES)]} {ftype.replace('_', ' ')}",
                voltage_kv=Decimal(11),
                feeder_type=ftype,
                org_unit_id=sub_rows[s_index]["org_unit_id"],
            )
        )
        feeder_sub.append(substation_ids[s_index])
    feeder_ids = _bulk(session, Feeder, feeder_rows)
    session.execute(
        insert(FeederSubstationLink),
        [
            dict(feeder_id=f, substation_id=s, valid_from=NETWORK_SINCE)
            for f, s in zip(feeder_ids, feeder_sub, strict=True)
        ],
    )
    summary.feeders = n_feeders

    dtr_rows: list[dict[str, Any]] = []
    dtr_feeder: list[int] = []
    for i in range(n_dtrs):
        f = i % n_feeders
        ftype = feeder_rows[f]["feeder_type"]
        cap = rng.choice((63, 100, 100, 200) if ftype != "agricultural" else (25, 63, 100))
        dtr_rows.append(
            dict(
                code=f"DTR-{i + 1:04d}",
                name=f"{feeder_rows[f]['code']}/{i // n_feeders + 1}",
                capacity_kva=Decimal(cap),
                org_unit_id=feeder_rows[f]["org_unit_id"],
            )
        )
        dtr_feeder.append(f)
    dtr_ids = _bulk(session, Dtr, dtr_rows)
    session.execute(
        insert(DtrFeederLink),
        [
            dict(dtr_id=d, feeder_id=feeder_ids[f], valid_from=NETWORK_SINCE)
            for d, f in zip(dtr_ids, dtr_feeder, strict=True)
        ],
    )
    summary.dtrs = n_dtrs

    agri_dtrs = [i for i, f in enumerate(dtr_feeder) if feeder_rows[f]["feeder_type"] == "agricultural"]
    other_dtrs = [i for i, f in enumerate(dtr_feeder) if feeder_rows[f]["feeder_type"] != "agricultural"]
    industrial_feeders = [i for i, r in enumerate(feeder_rows) if r["feeder_type"] in ("industrial", "urban")]

    consumer_rows: list[dict[str, Any]] = []
    meter_rows: list[dict[str, Any]] = []
    supply: list[tuple[str, int]] = []
    meter_target: list[tuple[str, int]] = []
    tariffs = [t[0] for t in TARIFF_MIX]
    weights = [t[1] for t in TARIFF_MIX]
    spec = {t[0]: t for t in TARIFF_MIX}
    for n in range(consumers):
        tariff = rng.choices(tariffs, weights=weights, k=1)[0]
        _, _, ctype, phases, (lo, hi) = spec[tariff]
        phase = rng.choice(phases)
        if ctype == "HT":
            f = rng.choice(industrial_feeders)
            parent: tuple[str, int] = ("feeder", f)
            org_unit_id = feeder_rows[f]["org_unit_id"]
        else:
            pool = agri_dtrs if tariff == "LV5" and agri_dtrs else other_dtrs
            d = rng.choice(pool)
            parent = ("dtr", d)
            org_unit_id = dtr_rows[d]["org_unit_id"]
        net = tariff in ("LV1", "LV2") and rng.random() < 0.02
        load = Decimal(str(round(rng.uniform(lo, hi), 1)))
        meter_class = _meter_class(rng, tariff, phase, net)
        prepaid = meter_class in ("smart_1ph", "smart_3ph") and rng.random() < 0.3
        ivrs = f"N{3_400_000_000 + n * 7 + seed % 7:010d}"
        consumer_rows.append(
            dict(
                ivrs_number=ivrs,
                name=f"{rng.choice(FIRST)} {rng.choice(LAST)}",
                address=f"H.No. {rng.randrange(1, 400)}, {rng.choice(LOCALITIES)}, Bhopal",
                mobile=f"9{rng.randrange(100_000_000, 999_999_999)}" if rng.random() < 0.92 else None,
                language="hi" if rng.random() < 0.7 else "en",
                connection_date=date(2005, 1, 1) + timedelta(days=rng.randrange(0, 7000)),
                tariff_category=tariff,
                sanctioned_load=load,
                sanctioned_load_unit="kVA" if ctype == "HT" else "kW",
                phase=phase,
                connection_type=ctype,
                supply_status="connected" if rng.random() > 0.02 else "disconnected",
                is_prepaid=prepaid,
                is_net_metered=net,
                org_unit_id=org_unit_id,
            )
        )
        supply.append(parent)
        meter_rows.append(
            _meter_row(
                rng,
                f"{'S' if meter_class.startswith('smart') else 'M'}{7_000_000 + n:08d}",
                meter_class,
                org_unit_id,
                rng.choice(("HES-A", "HES-B")),
            )
        )
        meter_target.append(("consumer", n))
    for i, row in enumerate(feeder_rows):
        meter_rows.append(_meter_row(rng, f"F{9_100_000 + i:08d}", "feeder", row["org_unit_id"], "HES-A"))
        meter_target.append(("feeder", i))
    for i, row in enumerate(dtr_rows):
        meter_rows.append(_meter_row(rng, f"D{9_200_000 + i:08d}", "dt", row["org_unit_id"], "HES-A"))
        meter_target.append(("dtr", i))

    consumer_ids = _bulk(session, Consumer, consumer_rows)
    session.execute(
        insert(ConsumerSupplyLink),
        [
            dict(
                consumer_id=cid,
                valid_from=NETWORK_SINCE,
                dtr_id=dtr_ids[p[1]] if p[0] == "dtr" else None,
                feeder_id=feeder_ids[p[1]] if p[0] == "feeder" else None,
            )
            for cid, p in zip(consumer_ids, supply, strict=True)
        ],
    )
    meter_ids = _bulk(session, Meter, meter_rows)
    ids = {"consumer": consumer_ids, "feeder": feeder_ids, "dtr": dtr_ids}
    install_rows = []
    for mid, (kind, index) in zip(meter_ids, meter_target, strict=True):
        installed = NETWORK_SINCE + timedelta(days=rng.randrange(0, 1500))
        install_rows.append(
            {
                "meter_id": mid,
                "consumer_id": None,
                "feeder_id": None,
                "dtr_id": None,
                f"{kind}_id": ids[kind][index],
                "installed_at": installed,
                "initial_kwh": Decimal(rng.randrange(0, 50)),
            }
        )
    session.execute(insert(Installation), install_rows)
    summary.consumers, summary.meters = len(consumer_rows), len(meter_rows)
    return summary


DEMO_USERS = [
    # username, role, org unit code, full name
    ("admin", "admin", "MPCZ", "System Administrator"),
    ("analyst", "analyst", "MPCZ", "Business Analyst"),
    ("ccc", "ccc_agent", "MPCZ", "Customer Care Agent"),
    ("viewer", "viewer", "BPL", "Regional Viewer"),
    ("control", "control_centre", "BPLC", "Control Centre, Bhopal City"),
    ("ee_east", "field_officer", "BPLC-D1", "EE East Division"),
    ("ee_west", "field_officer", "BPLC-D2", "EE West Division"),
    ("ae_east1", "field_officer", "BPLC-D1-S1", "AE East Subdivision 1"),
    ("je_east11", "field_officer", "BPLC-D1-S1-DC1", "JE East DC 1.1"),
    ("ee_sehore", "field_officer", "SHR-D1", "EE Sehore Division"),
]


def seed_users(session: Session, summary: DemoSummary) -> None:
    from service.audit.log import Actor
    from service.auth.users import create_user

    actor = Actor("cli", "demo-seed")
    for i, (username, role, org, full_name) in enumerate(DEMO_USERS):
        create_user(
            session, username, DEMO_PASSWORD, role, org, actor, full_name=full_name, mobile=f"98260{i:05d}"
        )
        summary.users.append((username, role, org))


def is_seeded(session: Session) -> bool:
    return session.scalar(select(OrgUnit.id).limit(1)) is not None
