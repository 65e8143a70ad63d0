"""Numbers shown to people in the Indian system: 1,23,456 (lakh and crore grouping)."""

from __future__ import annotations

from decimal import Decimal


def indian(value: int | float | Decimal | None, decimals: int | None = None) -> str:
    """`{{ n|num }}`: 123456 -> "1,23,456"; 1234567.5 with decimals=2 -> "12,34,567.50"."""
    if value is None:
        return ""
    if decimals is None:
        decimals = 0 if isinstance(value, int) or float(value).is_integer() else 2
    text = f"{abs(value):.{decimals}f}"
    whole, _, fraction = text.partition(".")
    if len(whole) > 3:
        head, tail = whole[:-3], whole[-3:]
        groups: list[str] = []
        while len(head) > 2:
            groups.insert(0, head[-2:])
            head = head[:-2]
        if head:
            groups.insert(0, head)
        whole = ",".join([*groups, tail])
    sign = "-" if value < 0 and float(text) != 0 else ""
    return sign + whole + ("." + fraction if fraction else "")
