"""Identity: people log in with a password; systems call with API keys. Org-scoped."""

from flask import Flask


def init_app(app: Flask) -> None:
    from service.auth import api_keys, cli, models, views
    from service.extensions import db, login_manager

    app.extensions[api_keys.CACHE_EXTENSION] = api_keys.KeyCache()

    login_manager.login_view = "auth.login"

    @login_manager.user_loader
    def _load(user_id: str) -> models.User | None:
        user = db.session.get(models.User, int(user_id))
        return user if user is not None and user.is_active else None

    app.register_blueprint(views.bp)
    cli.register(app)
