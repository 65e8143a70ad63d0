"""Home by role: areas register panels (like nav items); the home page shows the ones for the role.

A panel's `build(session, principal, now)` returns the values its template shows, or None when it
has nothing for this person (a team panel for someone with no team).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from service.auth.principal import Principal

Build = Callable[[Session, Principal, datetime], dict[str, Any] | None]


@dataclass(frozen=True)
class Panel:
    name: str
    template: str
    roles: frozenset[str]  # admins see every panel
    build: Build
    order: int = 100


PANELS: list[Panel] = []

# The "your area" tiles' values; master data registers its counts (areas load before web).
AreaCounts = Callable[[Session, Principal], dict[str, Any]]
AREA_COUNTS: list[AreaCounts] = []
NO_AREA = {"consumers": 0, "feeders": 0, "meters_by_class": [], "meters_total": 0}


def register_area_counts(build: AreaCounts) -> None:
    if build not in AREA_COUNTS:
        AREA_COUNTS.append(build)


def area_counts(session: Session, principal: Principal) -> dict[str, Any]:
    values: dict[str, Any] = dict(NO_AREA)
    for build in AREA_COUNTS:
        values.update(build(session, principal))
    return values


def register_panel(name: str, template: str, roles: tuple[str, ...], build: Build, order: int = 100) -> None:
    if any(p.name == name for p in PANELS):
        return
    PANELS.append(Panel(name, template, frozenset(roles), build, order))
    PANELS.sort(key=lambda p: p.order)


def panels_for(session: Session, principal: Principal, now: datetime) -> list[tuple[Panel, dict[str, Any]]]:
    shown = []
    for panel in PANELS:
        if principal.role != "admin" and principal.role not in panel.roles:
            continue
        values = panel.build(session, principal, now)
        if values is not None:
            shown.append((panel, values))
    return shown
