"""People (users with a role and an org unit) and systems (API keys with scopes)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ARRAY, Boolean, CheckConstraint, DateTime, ForeignKey, Integer, String, func
from sqlalchemy.orm import Mapped, mapped_column

from service.extensions import db

STAFF_LANGUAGES = ("en", "hi")
ROLES = ("admin", "analyst", "field_officer", "control_centre", "ccc_agent", "viewer")

# Scopes an API key may carry. A key holds only what its system needs.
SCOPES = (
    "masterdata:read",
    "masterdata:write",
    "readings:read",
    "readings:write",
    "events:write",
    "determinants:read",
    "workflows:write",
    "notifications:read",
    "notifications:write",
    "reports:read",
    "billing:write",
    "hes:read",
    "hes:write",
    "disconnections:read",
    "disconnections:write",
    "assets:read",
    "assets:write",
    "outages:read",
    "outages:write",
)


class User(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    full_name: Mapped[str] = mapped_column(String(200), default="")
    password_hash: Mapped[str] = mapped_column(String(256))
    role: Mapped[str] = mapped_column(String(32))
    org_unit_id: Mapped[int] = mapped_column(ForeignKey("org_units.id"), index=True)
    mobile: Mapped[str | None] = mapped_column(String(16))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    language: Mapped[str] = mapped_column(String(2), default="en", server_default="en")  # staff pages
    # Part of the login session's id: logout and a password change bump it, so every session
    # cookie issued before stops working (the cookie itself cannot be recalled).
    session_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    __table_args__ = (
        CheckConstraint(f"role IN {ROLES}", name="role"),
        CheckConstraint(f"language IN {STAFF_LANGUAGES}", name="language"),
    )

    # Flask-Login protocol
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return f"{self.id}.{self.session_version}"


class ApiKey(db.Model):  # type: ignore[name-defined,misc]
    """A system's credential. Only a SHA-256 of the key is stored; the prefix finds the row."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    key_hash: Mapped[str] = mapped_column(String(64))
    system: Mapped[str] = mapped_column(String(64))
    scopes: Mapped[list[str]] = mapped_column(ARRAY(String(32)))
    # A key may be limited to an org unit (e.g. a circle's AMR vendor); NULL = whole discom.
    org_unit_id: Mapped[int | None] = mapped_column(ForeignKey("org_units.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
