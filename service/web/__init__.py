"""Server-rendered pages: layout, navigation by role, landing page, staff language (en/hi)."""

from pathlib import Path

from flask import Flask

LANGUAGES = ("en", "hi")
TRANSLATIONS = Path(__file__).resolve().parent / "translations"


def init_app(app: Flask) -> None:
    from flask import g, request
    from flask_babel import Babel, get_locale
    from flask_login import current_user

    from service.web import api_docs, headers, nav, numbers, times, views

    def staff_language() -> str:
        # A page that chose its reader's language (the consumer app's pages) says so in g;
        # otherwise the person's setting; before login, what the browser asks for.
        chosen = g.get("page_language")
        if chosen in LANGUAGES:
            return str(chosen)
        if current_user.is_authenticated and getattr(current_user, "language", None) in LANGUAGES:
            return str(current_user.language)
        return request.accept_languages.best_match(LANGUAGES) or "en"

    Babel(app, locale_selector=staff_language, default_translation_directories=str(TRANSLATIONS))
    app.register_blueprint(views.bp)
    app.register_blueprint(api_docs.bp)
    nav.register_nav("Home", "web.home", order=0)
    app.add_template_filter(times.ist_filter, "ist")
    app.add_template_filter(times.iso_ist, "iso_ist")
    app.add_template_filter(numbers.indian, "num")

    headers.init_app(app)

    @app.context_processor
    def _nav() -> dict[str, object]:
        role = current_user.role if current_user.is_authenticated else None
        return {"nav_items": nav.items_for(role) if role else [], "get_locale": get_locale}
