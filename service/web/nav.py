"""The navigation bar: each area registers its pages with the roles that see them."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class NavItem:
    label: str
    endpoint: str
    roles: frozenset[str]  # empty = everyone logged in
    order: int = 100


NAV: list[NavItem] = []


def register_nav(label: str, endpoint: str, roles: tuple[str, ...] = (), order: int = 100) -> None:
    if any(item.endpoint == endpoint for item in NAV):
        return
    NAV.append(NavItem(label, endpoint, frozenset(roles), order))
    NAV.sort(key=lambda i: i.order)


def items_for(role: str | None) -> list[NavItem]:
    return [i for i in NAV if not i.roles or role == "admin" or role in i.roles]
