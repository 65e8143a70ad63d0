"""Administration pages: users and API keys, scoped to the admin's org subtree."""

from flask import Flask


def init_app(app: Flask) -> None:
    from service.admin import views
    from service.web.nav import register_nav

    app.register_blueprint(views.bp)
    register_nav("Users", "admin.users", roles=("admin",), order=70)
    register_nav("API keys", "admin.api_keys", roles=("admin",), order=71)
