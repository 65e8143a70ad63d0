"""Login and logout pages."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired

from service.audit.log import Actor, record
from service.auth.users import check_login
from service.extensions import db

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


def _safe_next(target: str | None) -> str:
    if target and not urlsplit(target).netloc and target.startswith("/") and not target.startswith("//"):
        return target
    return url_for("web.home")


@bp.route("/login", methods=["GET", "POST"])
def login() -> str | Response:
    form = LoginForm()
    if form.validate_on_submit():
        user = check_login(db.session(), form.username.data, form.password.data)
        if user is None:
            record(
                db.session(),
                Actor("user", form.username.data[:128]),
                "login_failed",
                "user",
                form.username.data[:128],
            )
            db.session.commit()
            flash("Wrong username or password.", "error")
            return render_template("login.html", form=form), 401  # type: ignore[return-value]
        login_user(user)
        record(db.session(), Actor("user", user.username), "login", "user", user.username)
        db.session.commit()
        return redirect(_safe_next(request.args.get("next")))
    return render_template("login.html", form=form)


@bp.route("/logout", methods=["POST"])
@login_required
def logout() -> Response:
    logout_user()
    return redirect(url_for("auth.login"))
