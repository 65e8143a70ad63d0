"""The org-unit tree (discom > region > circle > division > subdivision > DC) that master data,
identity and scoping all hang off; a package of its own so identity need not import master data."""

from service.orgs.models import ORG_LEVELS, OrgUnit

__all__ = ["ORG_LEVELS", "OrgUnit"]
