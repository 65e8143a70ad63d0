"""`flask api-keys ...` and `flask users ...`."""

from __future__ import annotations

import click
from flask import Flask
from sqlalchemy import select

from service.audit.log import CLI_ACTOR
from service.auth.api_keys import CACHE_EXTENSION, ApiKeyError, create_key, revoke_key
from service.auth.models import ApiKey
from service.auth.users import UserError, create_user, set_password
from service.extensions import db
from service.orgs import OrgUnit
from service.unit_of_work import unit_of_work


def register(app: Flask) -> None:
    keys = click.Group("api-keys", help="Create, list and revoke API keys for systems.")
    users = click.Group("users", help="Create people who log in.")

    @keys.command("create")
    @click.option("--system", required=True, help="billing, hes-<vendor>, scada, consumer-app ...")
    @click.option(
        "--scope",
        "scopes",
        multiple=True,
        required=True,
        help="Repeat, or comma-separate: --scope masterdata:write,readings:write",
    )
    @click.option("--org-unit", default=None, help="Limit the key to an org unit (code).")
    @click.argument("more_scopes", nargs=-1)
    def create(
        system: str, scopes: tuple[str, ...], org_unit: str | None, more_scopes: tuple[str, ...]
    ) -> None:
        """Create a key; the key alone is printed on the last line, once."""
        wanted = [s.strip() for part in (*scopes, *more_scopes) for s in part.split(",") if s.strip()]
        org_id = None
        if org_unit:
            org_id = db.session.scalar(select(OrgUnit.id).where(OrgUnit.code == org_unit))
            if org_id is None:
                raise click.ClickException(f"unknown org unit {org_unit!r}")
        with unit_of_work() as uow:
            try:
                key, raw = create_key(uow.session, system, wanted, CLI_ACTOR, org_id)
            except ApiKeyError as exc:
                raise click.ClickException(str(exc)) from None
            uow.commit()
        click.echo(f"created key {key.prefix} for {system} with scopes {', '.join(key.scopes)}")
        click.echo(raw)

    @keys.command("revoke")
    @click.argument("prefix")
    def revoke(prefix: str) -> None:
        """Revoke the key with PREFIX (the 12 hex digits after 'cmdms_')."""
        with unit_of_work() as uow:
            try:
                revoke_key(uow.session, prefix, CLI_ACTOR)
            except ApiKeyError as exc:
                raise click.ClickException(str(exc)) from None
            uow.commit()
        app.extensions[CACHE_EXTENSION].forget(prefix)  # this process at once; others in the TTL
        click.echo(f"revoked {prefix}")

    @keys.command("list")
    def list_keys() -> None:
        for key in db.session.scalars(select(ApiKey).order_by(ApiKey.id)):
            state = "revoked" if key.revoked_at else "active"
            click.echo(f"{key.prefix}\t{key.system}\t{','.join(key.scopes)}\t{state}")

    @users.command("create")
    @click.argument("username")
    @click.option("--role", required=True)
    @click.option("--org-unit", required=True, help="Org unit code")
    @click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
    @click.option("--mobile", default=None)
    def create_person(username: str, role: str, org_unit: str, password: str, mobile: str | None) -> None:
        with unit_of_work() as uow:
            try:
                create_user(uow.session, username, password, role, org_unit, CLI_ACTOR, mobile=mobile)
            except UserError as exc:
                raise click.ClickException(str(exc)) from None
            uow.commit()
        click.echo(f"created {username} ({role}) at {org_unit}")

    @users.command("set-password")
    @click.argument("username")
    @click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
    def set_person_password(username: str, password: str) -> None:
        """A new password; the user's sessions on every device end."""
        with unit_of_work() as uow:
            try:
                set_password(uow.session, username, password, CLI_ACTOR)
            except UserError as exc:
                raise click.ClickException(str(exc)) from None
            uow.commit()
        click.echo(f"password of {username} set; their sessions ended")

    app.cli.add_command(keys)
    app.cli.add_command(users)
