"""Who a CIM message means: the meter from `Meter`/`Assets`, else the `UsagePoint` it names.

IEC 61968-9 identifies by `mRID` and by `Names` (each with an optional `NameType/name` that
says what kind of name it is, e.g. `MeterUniqueID`). A name typed as a serial or unique id
wins; then the mRID; then `serialNumber`; then any other name. `NameType/name` itself is never
an identity. Readings addressed only by a usage point carry `USAGE_POINT_PREFIX` + its id, and
the service resolves them through master data before they are stored.
"""

from __future__ import annotations

USAGE_POINT_PREFIX = "usage-point:"
_SERIAL_HINTS = ("serial", "unique", "msn")


class NamedObject:
    """mRID, serialNumber and Names of one Meter, Asset or UsagePoint, as the parser meets them."""

    __slots__ = ("mrid", "serial", "names", "_name", "_type")

    def __init__(self) -> None:
        self.mrid: str | None = None
        self.serial: str | None = None
        self.names: list[tuple[str, str | None]] = []
        self._name: str | None = None
        self._type: str | None = None

    def start_name(self) -> None:
        self._name = self._type = None

    def set_name(self, text: str) -> None:
        self._name = text.strip()

    def set_type(self, text: str) -> None:
        self._type = text.strip()

    def end_name(self) -> None:
        if self._name:
            self.names.append((self._name, self._type))

    def identity(self) -> str | None:
        for name, kind in self.names:
            if kind and any(hint in kind.lower() for hint in _SERIAL_HINTS):
                return name
        if self.mrid:
            return self.mrid
        if self.serial:
            return self.serial
        return self.names[0][0] if self.names else None
