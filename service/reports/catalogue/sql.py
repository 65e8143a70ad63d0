"""SQL fragments the declarations share: roll-up to an ancestor level, the period's day count."""

# Rows of org unit `ou` summed under its ancestor at :level; the ancestor is the row's org unit.
ROLLUP_JOIN = "JOIN org_units anc ON anc.level = :level AND ou.path LIKE anc.path || '%'"
IN_CHOSEN_UNIT = "ou.path LIKE :org_path || '%'"
DAYS_IN_PERIOD = "(CAST(:last_day AS date) - CAST(:first_day AS date) + 1)"
