"""Identity: people log in with a password; systems call with API keys. Org-scoped."""

from flask import Flask

from service.auth.models import ROLES, SCOPES, ApiKey, User

__all__ = ["ROLES", "SCOPES", "ApiKey", "User", "init_app"]


def init_app(app: Flask) -> None:
    from service.auth import api_keys, cli, models, views
    from service.extensions import db, login_manager

    app.extensions[api_keys.CACHE_EXTENSION] = api_keys.KeyCache()

    login_manager.login_view = "auth.login"

    @login_manager.user_loader
    def _load(session_id: str) -> models.User | None:
        # "<user id>.<session version>": a cookie from before a logout or password change
        # names an older version and no longer logs anyone in.
        user_id, _, version = session_id.partition(".")
        if not user_id.isdigit() or not version.isdigit():
            return None
        user = db.session.get(models.User, int(user_id))
        if user is None or not user.is_active or user.session_version != int(version):
            return None
        return user

    app.register_blueprint(views.bp)
    cli.register(app)
