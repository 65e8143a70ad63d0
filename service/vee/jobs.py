"""RQ jobs of VEE (each owns its transaction)."""

from __future__ import annotations

from service.extensions import db
from service.vee import rulebook


def reload_rules() -> int:
    """Periodic: pick up rule file changes and record them even when no batch arrives."""
    session = db.session()
    try:
        count = len(rulebook.rule_sets(session))
        session.commit()
        return count
    except Exception:
        session.rollback()
        raise
    finally:
        db.session.remove()
