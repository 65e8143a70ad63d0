"""The consumers and meters pages: the list component over the API's listings, org-scoped."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import distinct, select

from service.audit.log import Actor, record
from service.auth.principal import for_user
from service.auth.scoping import scope_to_org
from service.extensions import db
from service.masterdata import listing
from service.masterdata.models import Consumer, Meter
from service.unit_of_work import unit_of_work
from service.web import lists
from service.web.views import list_export

bp = Blueprint("masterdata", __name__, template_folder="templates")

CONSUMER_FILTERS = {"q": "Search", "tariff_category": "Tariff", "supply_status": "Supply",
                    "feeder_code": "Feeder", "dtr_code": "DTR", "org_unit": "Org unit"}  # fmt: skip
METER_FILTERS = {"q": "Search", "meter_class": "Class", "hes_code": "HES", "org_unit": "Org unit"}


def _field(key: str) -> Any:
    return lambda row: row[key]


CONSUMERS = lists.ListSpec(
    name="consumers",
    sorts={
        "ivrs": (Consumer.ivrs_number, False),
        "name": (Consumer.name, False),
        "tariff": (Consumer.tariff_category, False),
        "load": (Consumer.sanctioned_load, True),
        "supply": (Consumer.supply_status, False),
    },
    default_sort="ivrs",
    tiebreak=Consumer.ivrs_number,
    columns=tuple(
        lists.Column(label, _field(key))
        for key, label in (
            ("ivrs_number", "IVRS"),
            ("name", "Name"),
            ("address", "Address"),
            ("mobile", "Mobile"),
            ("tariff_category", "Tariff"),
            ("sanctioned_load", "Sanctioned load"),
            ("sanctioned_load_unit", "Load unit"),
            ("phase", "Phase"),
            ("connection_type", "Connection"),
            ("supply_status", "Supply"),
            ("is_prepaid", "Prepaid"),
            ("is_net_metered", "Net metered"),
            ("dtr_code", "DTR"),
            ("feeder_code", "Feeder"),
            ("org_unit_code", "Org unit"),
        )  # fmt: skip
    ),
    filters=CONSUMER_FILTERS,
    rows="mappings",
)

METERS = lists.ListSpec(
    name="meters",
    sorts={
        "serial": (Meter.serial_number, False),
        "class": (Meter.meter_class, False),
        "make": (Meter.make, False),
        "hes": (Meter.hes_code, False),
    },
    default_sort="serial",
    tiebreak=Meter.serial_number,
    columns=tuple(
        lists.Column(label, _field(key))
        for key, label in (
            ("serial_number", "Serial"),
            ("meter_class", "Class"),
            ("make", "Make"),
            ("model", "Model"),
            ("multiplying_factor", "MF"),
            ("ct_ratio", "CT ratio"),
            ("pt_ratio", "PT ratio"),
            ("communication", "Communication"),
            ("hes_code", "HES"),
            ("firmware", "Firmware"),
            ("org_unit_code", "Org unit"),
        )  # fmt: skip
    ),
    filters=METER_FILTERS,
    rows="mappings",
)


def _filters(names: dict[str, str]) -> dict[str, str]:
    return {k: v for k in names if (v := (request.args.get(k) or "").strip()[:100])}


def _page(entity: str, spec: lists.ListSpec, endpoint: str) -> Any:
    session = db.session()
    principal = for_user(current_user)
    stmt = listing.filtered_query(session, entity, _filters(dict(spec.filters)), principal)
    if request.args.get("export"):
        return list_export(spec, stmt)
    return lists.read_page(session, spec, stmt, request.args, url_for(endpoint))


def _options(column: Any, org_column: Any) -> list[str]:
    stmt = scope_to_org(select(distinct(column)), org_column, for_user(current_user))
    return sorted(v for v in db.session.scalars(stmt) if v)


@bp.get("/consumers")
@login_required
def consumers() -> Any:
    lp = _page("consumers", CONSUMERS, "masterdata.consumers")
    if not isinstance(lp, lists.ListPage):
        return lp
    if lp.args.get("q"):
        # A search by IVRS, meter serial or mobile is a lookup of personal data: audited.
        with unit_of_work() as uow:
            record(uow.session, Actor("user", current_user.username), "consumer.search", "consumer",
                   lp.args["q"][:100], None, {"total": lp.total, "first": [r["ivrs_number"] for r in lp.rows[:10]]})  # fmt: skip
            uow.commit()
    return render_template(
        "masterdata/consumers.html",
        lp=lp,
        consumer_page="consumers.profile",
        tariffs=_options(Consumer.tariff_category, Consumer.org_unit_id),
        supplies=_options(Consumer.supply_status, Consumer.org_unit_id),
    )


@bp.get("/meters")
@login_required
def meters() -> Any:
    lp = _page("meters", METERS, "masterdata.meters")
    if not isinstance(lp, lists.ListPage):
        return lp
    return render_template(
        "masterdata/meters.html",
        lp=lp,
        meter_page="vee.meter",
        classes=_options(Meter.meter_class, Meter.org_unit_id),
        hes_codes=_options(Meter.hes_code, Meter.org_unit_id),
    )
