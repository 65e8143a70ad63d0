"""Master data: org hierarchy, network, consumers, meters, installations, and their exchange API."""

from flask import Flask

from service.masterdata.models import (
    Consumer,
    ConsumerSupplyLink,
    Dtr,
    DtrFeederLink,
    Feeder,
    FeederSubstationLink,
    Installation,
    Meter,
    NetMeteringAgreement,
    SolarPlant,
    Substation,
)
from service.masterdata.net_metering import Terms as NetMeteringTerms
from service.masterdata.net_metering import terms_for as net_metering_terms

__all__ = [
    "Consumer",
    "ConsumerSupplyLink",
    "Dtr",
    "DtrFeederLink",
    "Feeder",
    "FeederSubstationLink",
    "Installation",
    "Meter",
    "NetMeteringAgreement",
    "NetMeteringTerms",
    "SolarPlant",
    "Substation",
    "init_app",
    "net_metering_terms",
]


def init_app(app: Flask) -> None:
    from service.extensions import api, csrf
    from service.masterdata import api as masterdata_api
    from service.masterdata import models, views  # noqa: F401  (models registers the tables)
    from service.masterdata.area import area_counts
    from service.web.home import register_area_counts
    from service.web.nav import register_nav

    api.register_blueprint(masterdata_api.bp)
    csrf.exempt(masterdata_api.bp)
    masterdata_api.register_schemas(api)
    app.register_blueprint(views.bp)
    register_area_counts(area_counts)
    register_nav("Consumers", "masterdata.consumers", order=10)
    register_nav("Meters", "masterdata.meters", order=12)
