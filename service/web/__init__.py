"""Server-rendered pages: layout, navigation by role, landing page."""

from flask import Flask


def init_app(app: Flask) -> None:
    from flask_login import current_user

    from service.web import api_docs, nav, numbers, times, views

    app.register_blueprint(views.bp)
    app.register_blueprint(api_docs.bp)
    nav.register_nav("Home", "web.home", order=0)
    app.add_template_filter(times.ist_filter, "ist")
    app.add_template_filter(times.iso_ist, "iso_ist")
    app.add_template_filter(numbers.indian, "num")

    @app.context_processor
    def _nav() -> dict[str, object]:
        role = current_user.role if current_user.is_authenticated else None
        return {"nav_items": nav.items_for(role) if role else []}
