"""Administration pages: users and API keys, scoped to the admin's org subtree; the audit log and
background jobs for a discom-wide admin."""

from flask import Flask


def init_app(app: Flask) -> None:
    from service.admin import oversight, views
    from service.web.nav import register_nav

    app.register_blueprint(views.bp)
    app.register_blueprint(oversight.bp)
    register_nav("Users", "admin.users", roles=("admin",), order=70)
    register_nav("API keys", "admin.api_keys", roles=("admin",), order=71)
    register_nav("Audit log", "admin_oversight.audit", roles=("admin",), order=72)
    register_nav("Jobs", "admin_oversight.jobs", roles=("admin",), order=73)
