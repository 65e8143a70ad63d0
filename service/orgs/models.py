"""The org-unit table: a materialised path per unit, so "at or below my unit" is a prefix match."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, Index, Integer, String, func
from sqlalchemy.orm import Mapped, mapped_column

from service.extensions import db

ORG_LEVELS = ("discom", "region", "circle", "division", "subdivision", "dc")

_now = func.now()


class OrgUnit(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "org_units"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    level: Mapped[str] = mapped_column(String(16))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("org_units.id"))
    # Materialised path of codes, "/MPPKVVCL/R1/C1/D1/" — scoping is a prefix match.
    path: Mapped[str] = mapped_column(String(400), index=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=_now, onupdate=_now)

    __table_args__ = (
        CheckConstraint(f"level IN {ORG_LEVELS}", name="level"),
        Index("ix_org_units_path_pattern", "path", postgresql_ops={"path": "text_pattern_ops"}),
    )
