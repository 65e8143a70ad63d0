"""Login and logout pages."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired

from service.audit.log import Actor, record
from service.auth import throttle
from service.auth.models import User
from service.auth.redirects import safe_next
from service.auth.users import check_login, end_sessions
from service.extensions import db
from service.unit_of_work import unit_of_work

bp = Blueprint("auth", __name__)
F = TypeVar("F", bound=Callable[..., Any])


class LoginForm(FlaskForm):  # type: ignore[misc]
    username = StringField("Username", validators=[DataRequired()])
    password = PasswordField("Password", validators=[DataRequired()])


def role_required(*roles: str) -> Callable[[F], F]:
    """A page for people with one of `roles` (admins always)."""

    def decorator(view: F) -> F:
        @functools.wraps(view)
        @login_required
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if roles and current_user.role not in (*roles, "admin"):
                abort(403)
            return view(*args, **kwargs)

        return wrapped  # type: ignore[return-value]

    return decorator


@bp.route("/login", methods=["GET", "POST"])
def login() -> str | Response:
    form = LoginForm()
    if form.validate_on_submit():
        session = db.session()
        username = form.username.data[:128]
        address = request.remote_addr or ""
        with unit_of_work(session) as uow:
            held = throttle.check(session, username, address)
            if held is not None:
                record(
                    session,
                    Actor("user", username),
                    "login_throttled",
                    "user",
                    username.lower(),
                    None,
                    {"address": address, "limit": held.scope},
                )
                uow.commit()
                flash(held.message, "error")
                page = render_template("login.html", form=form)
                return Response(page, 429, {"Retry-After": str(held.retry_after_seconds)})  # type: ignore[return-value]
            user = check_login(session, form.username.data, form.password.data)
            if user is None:
                record(
                    session,
                    Actor("user", username),
                    "login_failed",
                    "user",
                    username.lower(),
                    None,
                    {"address": address},
                )
                uow.commit()
                flash("Wrong username or password.", "error")
                return render_template("login.html", form=form), 401  # type: ignore[return-value]
            login_user(user)
            record(
                session,
                Actor("user", user.username),
                "login",
                "user",
                user.username,
                None,
                {"address": address},
            )
            uow.commit()
        return redirect(safe_next(request.args.get("next"), url_for("web.home")))
    return render_template("login.html", form=form)


@bp.route("/logout", methods=["POST"])
@login_required
def logout() -> Response:
    with unit_of_work() as uow:
        user = uow.session.get(User, current_user.id)
        if user is not None:
            end_sessions(user)  # the cookie in this browser, and any copy of it, stops working
            record(uow.session, Actor("user", user.username), "logout", "user", user.username)
            uow.commit()
    logout_user()
    return redirect(url_for("auth.login"))
