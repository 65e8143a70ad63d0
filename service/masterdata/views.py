"""The consumers page: search by IVRS number or name, paginated, scoped to the user's org unit."""

from __future__ import annotations

from flask import Blueprint, render_template, request
from flask_login import current_user, login_required

from service.auth.principal import for_user
from service.extensions import db
from service.masterdata import listing

bp = Blueprint("masterdata", __name__, template_folder="templates")

PAGE_SIZE = 50


def _page_number(raw: str | None) -> int:
    try:
        return max(1, min(int(raw or 1), 1_000_000))
    except ValueError:
        return 1


@bp.get("/consumers")
@login_required
def consumers() -> str:
    q = (request.args.get("q") or "").strip()[:100]
    page = _page_number(request.args.get("page"))
    args: dict[str, object] = {"page": page, "page_size": PAGE_SIZE}
    if q:
        args["q"] = q
    result = listing.list_page(db.session(), "consumers", args, for_user(current_user))
    pages = max(1, -(-result["total"] // PAGE_SIZE))
    return render_template("masterdata/consumers.html", q=q, pages=pages, **result)
