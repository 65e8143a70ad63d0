"""RQ jobs of VEE (each owns its transaction)."""

from __future__ import annotations

from service.unit_of_work import unit_of_work
from service.vee import rulebook


def reload_rules() -> int:
    """Periodic: pick up rule file changes and record them even when no batch arrives."""
    with unit_of_work(remove=True) as uow:
        count = len(rulebook.rule_sets(uow.session))
        uow.commit()
    return count
