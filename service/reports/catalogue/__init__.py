"""The declared reports (REFERENCE section 8 and the energy audit); importing registers them."""

from service.reports.catalogue import (  # noqa: F401
    amr,
    assets,
    atr,
    billing,
    disconnections,
    energy,
    mdas,
    outages,
)
