"""The meter asset's status transitions: which moves are legal, and why an illegal one is refused.

A meter goes in store -> issued -> installed -> removed, and from removed (or in store) to
faulty, returned to vendor or scrapped. An installed meter never goes back to the store without
a removal: its last register read must be taken on the way, or consumption is lost.
"""

from __future__ import annotations

STATUSES = ("in_store", "issued", "installed", "removed", "faulty", "returned_to_vendor", "scrapped")

TRANSITIONS: dict[str, frozenset[str]] = {
    "in_store": frozenset({"issued", "faulty", "returned_to_vendor", "scrapped"}),
    "issued": frozenset({"installed", "in_store", "faulty"}),
    "installed": frozenset({"removed"}),
    "removed": frozenset({"in_store", "faulty", "scrapped"}),
    "faulty": frozenset({"returned_to_vendor", "scrapped", "in_store"}),
    "returned_to_vendor": frozenset({"in_store", "scrapped"}),
    "scrapped": frozenset(),
}


class IllegalTransition(ValueError):
    """A status move the table refuses; the message names both statuses and the legal moves."""


def check_transition(current: str, wanted: str) -> None:
    """Raise IllegalTransition unless `current` -> `wanted` is a legal move."""
    for status in (current, wanted):
        if status not in TRANSITIONS:
            raise IllegalTransition(f"unknown status {status!r}; one of {', '.join(STATUSES)}")
    if wanted not in TRANSITIONS[current]:
        legal = ", ".join(sorted(TRANSITIONS[current])) or "none (final)"
        raise IllegalTransition(f"a meter {current} cannot become {wanted}; from {current}: {legal}")
