"""Who is acting: a logged-in person or a system with an API key."""

from __future__ import annotations

from dataclasses import dataclass, field

from service.audit.log import Actor


@dataclass(frozen=True)
class Principal:
    kind: str  # "user" | "system"
    name: str
    org_unit_id: int | None  # None = the whole discom
    role: str | None = None
    scopes: frozenset[str] = field(default_factory=frozenset)
    user_id: int | None = None

    @property
    def actor(self) -> Actor:
        return Actor(self.kind, self.name)

    def has_scope(self, scope: str) -> bool:
        return scope in self.scopes


def for_user(user: object) -> Principal:
    from service.auth.models import User

    assert isinstance(user, User)
    return Principal(
        kind="user",
        name=user.username,
        org_unit_id=user.org_unit_id,
        role=user.role,
        user_id=user.id,
    )
