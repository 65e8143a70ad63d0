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
