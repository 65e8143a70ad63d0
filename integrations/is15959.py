"""IS 15959 meter event codes (REFERENCE §3): the one list every event adapter validates against."""

from __future__ import annotations

_PAIRS = {
    1: "R-phase PT link missing",
    3: "Y-phase PT link missing",
    5: "B-phase PT link missing",
    7: "over-voltage",
    9: "low voltage",
    11: "voltage unbalance",
    51: "R-phase CT reverse",
    53: "Y-phase CT reverse",
    55: "B-phase CT reverse",
    57: "R-phase CT open",
    59: "Y-phase CT open",
    61: "B-phase CT open",
    63: "current unbalance",
    65: "CT bypass",
    67: "over-current",
    69: "earth loading",
    81: "current mismatch",
    83: "high neutral current",
    101: "power failure",
    201: "magnet influence",
    203: "neutral disturbance",
    205: "very low PF",
    207: "neutral missing (single wire)",
    209: "communication module removed",
    215: "overload",
}
_SINGLE = {
    151: "RTC change",
    152: "demand integration period change",
    153: "profile capture period change",
    154: "billing date change",
    155: "TOD calendar change",
    157: "firmware activated",
    158: "load limit set",
    159: "load limit enabled",
    160: "load limit disabled",
    161: "key change (161)",
    162: "key change (162)",
    163: "key change (163)",
    164: "key change (164)",
    165: "key change (165)",
    166: "MD reset",
    211: "changed to postpaid",
    212: "changed to prepaid",
    213: "forwarded-only mode",
    214: "import-export mode",
    251: "cover open",
    253: "relay weld",
    301: "load switch disconnected",
    302: "load switch connected",
}

EVENT_CODES: dict[int, str] = {}
for _code, _name in _PAIRS.items():
    EVENT_CODES[_code] = f"{_name} (occurrence)"
    EVENT_CODES[_code + 1] = f"{_name} (restoration)"
EVENT_CODES.update(_SINGLE)

# Tamper events for revenue protection (REFERENCE §3).
TAMPER_CODES: frozenset[int] = frozenset(
    [*range(51, 63), 65, 66, 69, 70, 81, 82, 201, 202, 203, 204, 207, 208, 251]
)
