"""Master data: org hierarchy, network, consumers, meters, installations, and their exchange API."""

from flask import Flask


def init_app(app: Flask) -> None:
    from service.extensions import api, csrf
    from service.masterdata import api as masterdata_api
    from service.masterdata import models, views  # noqa: F401  (models registers the tables)
    from service.web.nav import register_nav

    api.register_blueprint(masterdata_api.bp)
    csrf.exempt(masterdata_api.bp)
    masterdata_api.register_schemas(api)
    app.register_blueprint(views.bp)
    register_nav("Consumers", "masterdata.consumers", order=10)
    register_nav("Meters", "masterdata.meters", order=12)
