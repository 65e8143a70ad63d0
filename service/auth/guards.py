"""Request guards: API key (Bearer) for systems, session login for people."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from flask import current_app, g, request
from flask_login import current_user

from service.api_errors import fail
from service.auth import api_keys
from service.auth.principal import Principal, for_user
from service.extensions import db

F = TypeVar("F", bound=Callable[..., Any])


def _principal_from_key(raw: str) -> Principal:
    cache: api_keys.KeyCache = current_app.extensions[api_keys.CACHE_EXTENSION]
    key = cache.lookup(db.session(), raw)
    if key is None:
        fail(401, "invalid_api_key", "The API key is unknown or malformed.")
    if key.revoked:
        fail(401, "revoked_api_key", "The API key has been revoked.")
    cache.touch(db.session(), key)
    return Principal(kind="system", name=key.system, org_unit_id=key.org_unit_id, scopes=key.scopes)


def authenticate_request() -> Principal | None:
    header = request.headers.get("Authorization")
    if header is not None:
        scheme, _, raw = header.partition(" ")
        if scheme.lower() != "bearer" or not raw.strip():
            fail(401, "invalid_authorization", "Use 'Authorization: Bearer <API key>'.")
        return _principal_from_key(raw.strip())
    if current_user.is_authenticated:
        return for_user(current_user)
    return None


def require(scope: str, roles: Iterable[str] = ()) -> Callable[[F], F]:
    """Systems need `scope`; people may read (`*:read`) or, for writes, need one of `roles`.

    Admins may do anything a person may do.
    """
    allowed_roles = frozenset(roles) | {"admin"}

    def decorator(view: F) -> F:
        @functools.wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            principal = authenticate_request()
            if principal is None:
                fail(401, "missing_credentials", "Send 'Authorization: Bearer <API key>' or log in.")
            if principal.kind == "system":
                if not principal.has_scope(scope):
                    fail(
                        403,
                        "insufficient_scope",
                        f"This API key lacks the scope {scope!r}.",
                        required_scope=scope,
                    )
            elif not (scope.endswith(":read") or principal.role in allowed_roles):
                fail(403, "forbidden", f"Role {principal.role!r} may not use this endpoint.")
            g.principal = principal
            return view(*args, **kwargs)

        return wrapped  # type: ignore[return-value]

    return decorator


def current_principal() -> Principal:
    principal: Principal | None = g.get("principal")
    if principal is None:
        if current_user.is_authenticated:
            return for_user(current_user)
        raise RuntimeError("no authenticated principal in this request")
    return principal
