"""People: creating users and checking passwords."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from service.audit.log import Actor, record
from service.auth.models import ROLES, User
from service.orgs import OrgUnit

MIN_PASSWORD_LENGTH = 8


class UserError(ValueError):
    pass


def create_user(
    session: Session,
    username: str,
    password: str,
    role: str,
    org_unit_code: str,
    actor: Actor,
    full_name: str = "",
    mobile: str | None = None,
) -> User:
    if role not in ROLES:
        raise UserError(f"unknown role {role!r}; roles: {', '.join(ROLES)}")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UserError(f"password must be at least {MIN_PASSWORD_LENGTH} characters")
    org = session.scalar(select(OrgUnit).where(OrgUnit.code == org_unit_code))
    if org is None:
        raise UserError(f"unknown org unit {org_unit_code!r}")
    if session.scalar(select(User.id).where(func.lower(User.username) == username.lower())):
        raise UserError(f"user {username!r} exists")
    user = User(
        username=username,
        password_hash=generate_password_hash(password),
        role=role,
        org_unit_id=org.id,
        full_name=full_name,
        mobile=mobile,
    )
    session.add(user)
    session.flush()
    record(
        session,
        actor,
        "create",
        "user",
        username,
        None,
        {"role": role, "org_unit": org_unit_code, "mobile": mobile},
    )
    return user


def check_login(session: Session, username: str, password: str) -> User | None:
    user = session.scalar(select(User).where(func.lower(User.username) == username.lower()))
    if user is None or not user.is_active:
        # Same work as a real check, so timing does not reveal which usernames exist.
        check_password_hash(_DUMMY_HASH, password)
        return None
    return user if check_password_hash(user.password_hash, password) else None


_DUMMY_HASH = generate_password_hash("not-a-real-password")


def change_user(
    session: Session, actor: Actor, user: User, role: str, org_unit_code: str, is_active: bool
) -> User:
    """Role, org unit and whether the account may log in; audited with before and after."""
    if role not in ROLES:
        raise UserError(f"unknown role {role!r}; roles: {', '.join(ROLES)}")
    org = session.scalar(select(OrgUnit).where(OrgUnit.code == org_unit_code))
    if org is None:
        raise UserError(f"unknown org unit {org_unit_code!r}")
    before = {"role": user.role, "org_unit_id": user.org_unit_id, "is_active": user.is_active}
    user.role, user.org_unit_id, user.is_active = role, org.id, is_active
    record(
        session, actor, "update", "user", user.username, before,
        {"role": role, "org_unit_id": org.id, "is_active": is_active},
    )  # fmt: skip
    return user


def reset_password(session: Session, actor: Actor, user: User, password: str) -> User:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UserError(f"password must be at least {MIN_PASSWORD_LENGTH} characters")
    user.password_hash = generate_password_hash(password)
    end_sessions(user)  # a new password ends every session of the user
    record(session, actor, "reset_password", "user", user.username, None, {"by": actor.name})
    return user


def end_sessions(user: User) -> None:
    """Every session of the user stops working (logout, password change)."""
    user.session_version = (user.session_version or 0) + 1


def set_password(session: Session, username: str, password: str, actor: Actor) -> User:
    """A new password; every session of the user ends."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UserError(f"password must be at least {MIN_PASSWORD_LENGTH} characters")
    user = session.scalar(select(User).where(func.lower(User.username) == username.lower()))
    if user is None:
        raise UserError(f"no user {username!r}")
    user.password_hash = generate_password_hash(password)
    end_sessions(user)
    record(session, actor, "set_password", "user", user.username, None, {"sessions_ended": True})
    return user
