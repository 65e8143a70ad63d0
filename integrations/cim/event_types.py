"""EndDeviceEventType (IEC 61968-9) <-> IS 15959 event code: the one mapping table (REFERENCE §3/§4).

Read both ways: CIM pushes are stored by IS 15959 code, and the simulator writes CIM types from
IS codes. A leading 0 in a CIM type means "any device type", so 3.26.38.85 (an electricity
meter's power down) maps like 0.26.38.85.
"""

from __future__ import annotations

# (EndDeviceEventType, IS 15959 code, meaning)
EVENT_TYPE_TABLE: tuple[tuple[str, int, str], ...] = (
    ("0.26.38.85", 101, "power down / power failure occurrence"),
    ("0.26.38.49", 102, "power up / power failure restoration"),
    ("0.26.25.85", 1, "phase failure (R-phase PT link missing)"),
    ("0.26.25.49", 2, "phase restored (R-phase PT link restored)"),
    ("1.26.79.248", 7, "swell (over-voltage)"),
    ("1.26.79.223", 9, "sag (low voltage)"),
    ("0.12.6.219", 51, "reverse run (R-phase CT reverse)"),
    # A generic CIM "tamper" has no more precise IS code; CT bypass is the usual meaning at HES
    # level for LT meters. Documented in docs/integrations.md.
    ("0.12.43.257", 65, "tamper detected (CT bypass)"),
    ("0.8.0.215", 166, "MD reset"),
    ("0.36.116.13", 151, "clock set (RTC change)"),
    ("0.12.66.242", 201, "strong DC field (magnet) detected"),
    ("0.12.66.243", 202, "strong DC field (magnet) cleared"),
    ("0.12.141.212", 251, "cover opened"),
    ("0.31.26.68", 301, "remote disconnect (load switch disconnected)"),
    ("0.31.26.42", 302, "remote connect (load switch connected)"),
)

CIM_TO_IS: dict[str, int] = {cim: code for cim, code, _ in EVENT_TYPE_TABLE}
IS_TO_CIM: dict[int, str] = {code: cim for cim, code, _ in EVENT_TYPE_TABLE}


def is_code_for(event_type: str) -> int | None:
    """An EndDeviceEventType -> IS 15959 code; any specific device type matches the 0 entry."""
    event_type = event_type.strip()
    code = CIM_TO_IS.get(event_type)
    if code is not None:
        return code
    head, sep, rest = event_type.partition(".")
    if sep and head.isdigit():
        return CIM_TO_IS.get(f"0.{rest}")
    return None
