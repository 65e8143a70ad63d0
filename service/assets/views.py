"""Asset pages: the asset search (the list component), a meter's history (installations, reads,
events, replacements, statuses) and a purchase order's lines; every row scoped to the org unit."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from flask import Blueprint, abort, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import column, func, or_, select, table

from service.assets import purchase_orders
from service.assets.lifecycle import STATUSES
from service.assets.models import ASSET_GROUPS, MeterAsset, MeterAssetStatus, MeterReplacement, PurchaseOrder
from service.assets.models import PurchaseOrderLine as Line
from service.auth.principal import for_user
from service.auth.scoping import scope_to_org, visible_org_unit_ids
from service.extensions import db
from service.masterdata.installation_switch import installations_of, meter_serials
from service.readings.totals import events, registers
from service.web import lists
from service.web.views import list_export

bp = Blueprint("assets", __name__, template_folder="templates")
# Master data's meters, read by name (the assets area owns no copy of the nameplate).
meters = table(
    "meters", column("id"), column("serial_number"), column("make"), column("model"), column("meter_class"),
    column("firmware"), column("warranty_end"), column("org_unit_id"),
)  # fmt: skip
org_units = table("org_units", column("id"), column("code"), column("path"))
FILTERS = {"q": "Search", "status": "Status", "asset_group": "Group", "make": "Make", "po_number": "PO"}
HISTORY_ROWS = 50

ASSETS = lists.ListSpec(
    name="assets",
    sorts={
        "serial": (meters.c.serial_number, False),
        "make": (meters.c.make, False),
        "status": (MeterAsset.status, False),
        "warranty": (meters.c.warranty_end, False),
        "updated": (MeterAsset.updated_at, True),
    },
    default_sort="serial",
    tiebreak=meters.c.serial_number,
    columns=tuple(
        lists.Column(label, (lambda key: lambda row: row[key])(key))
        for key, label in (
            ("serial_number", "Serial"),
            ("make", "Make"),
            ("model", "Model"),
            ("meter_class", "Class"),
            ("status", "Status"),
            ("asset_group", "Group"),
            ("batch", "Batch"),
            ("location", "Store"),
            ("po_number", "PO"),
            ("firmware", "Firmware"),
            ("warranty_end", "Warranty end"),
            ("org_unit_code", "Org unit"),
            ("updated_at", "Status since"),
        )
    ),  # fmt: skip
    filters=FILTERS,
    rows="mappings",
)


def _assets_query(args: dict[str, str]) -> Any:
    stmt = (
        select(
            meters.c.serial_number, meters.c.make, meters.c.model, meters.c.meter_class, meters.c.firmware,
            meters.c.warranty_end, MeterAsset.status, MeterAsset.asset_group, MeterAsset.batch,
            MeterAsset.location, MeterAsset.updated_at, PurchaseOrder.po_number, org_units.c.code.label("org_unit_code"),
        )
        .join(meters, meters.c.id == MeterAsset.meter_id)
        .join(org_units, org_units.c.id == meters.c.org_unit_id)
        .outerjoin(Line, Line.id == MeterAsset.po_line_id)
        .outerjoin(PurchaseOrder, PurchaseOrder.id == Line.po_id)
    )  # fmt: skip
    if q := args.get("q"):
        like = q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        stmt = stmt.where(or_(meters.c.serial_number.ilike(like), meters.c.make.ilike(like)))
    for name, col in (("status", MeterAsset.status), ("asset_group", MeterAsset.asset_group),
                      ("make", meters.c.make), ("po_number", PurchaseOrder.po_number)):  # fmt: skip
        if args.get(name):
            stmt = stmt.where(col == args[name])
    return scope_to_org(stmt, meters.c.org_unit_id, for_user(current_user))


@bp.get("/assets")
@login_required
def search() -> Any:
    args = {k: v for k in FILTERS if (v := (request.args.get(k) or "").strip()[:100])}
    stmt = _assets_query(args)
    if request.args.get("export"):
        return list_export(ASSETS, stmt)
    lp = lists.read_page(db.session(), ASSETS, stmt, request.args, url_for("assets.search"))
    makes = scope_to_org(select(func.distinct(meters.c.make)).join(MeterAsset, MeterAsset.meter_id == meters.c.id),
                         meters.c.org_unit_id, for_user(current_user))  # fmt: skip
    return render_template("assets/search.html", lp=lp, statuses=STATUSES, groups=ASSET_GROUPS,
                           makes=sorted(m for m in db.session.scalars(makes) if m))  # fmt: skip


def _visible_meter(serial: str) -> Any:
    stmt = scope_to_org(
        select(meters.c.id, meters.c.serial_number, meters.c.make, meters.c.model, meters.c.meter_class)
        .where(meters.c.serial_number == serial),
        meters.c.org_unit_id, for_user(current_user),
    )  # fmt: skip
    row = db.session.execute(stmt).mappings().first()
    if row is None:
        abort(404)
    return row


@bp.get("/assets/<serial>/history")
@login_required
def history(serial: str) -> Any:
    """Installations, last register reads, events of the last year, replacements, asset statuses."""
    session = db.session()
    meter = _visible_meter(serial)
    now = datetime.now(UTC)
    reads = registers(session, meter["id"], now - timedelta(days=800), now, None, False)
    year_events = events(session, meter["id"], now - timedelta(days=365), now)
    replacements = list(
        session.scalars(
            select(MeterReplacement)
            .where(
                or_(
                    MeterReplacement.old_meter_id == meter["id"], MeterReplacement.new_meter_id == meter["id"]
                )
            )
            .order_by(MeterReplacement.replaced_at.desc())
        )
    )
    serials = meter_serials(session, [m for r in replacements for m in (r.old_meter_id, r.new_meter_id)])
    statuses = list(
        session.scalars(
            select(MeterAssetStatus)
            .where(MeterAssetStatus.meter_id == meter["id"])
            .order_by(MeterAssetStatus.id.desc())
        )
    )
    return render_template(
        "assets/history.html", meter=meter, installations=installations_of(session, meter["id"]),
        reads=list(reversed(reads))[:HISTORY_ROWS], reads_total=len(reads),
        events=list(reversed(year_events))[:HISTORY_ROWS], events_total=len(year_events),
        replacements=replacements, serials=serials, statuses=statuses,
    )  # fmt: skip


@bp.get("/purchase-orders/<po_number>")
@login_required
def purchase_order(po_number: str) -> Any:
    session = db.session()
    principal = for_user(current_user)
    po = session.scalar(select(PurchaseOrder).where(PurchaseOrder.po_number == po_number))
    visible = visible_org_unit_ids(session, principal.org_unit_id)
    lines = purchase_orders.po_lines(session, po_number, visible)
    if po is None or lines is None:
        abort(404)
    return render_template("assets/purchase_order.html", po=po, lines=lines)
