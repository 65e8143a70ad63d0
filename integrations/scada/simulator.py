"""SCADA / MDAS feeder and DT energy for tests and the demo, as JSON or CSV."""

from __future__ import annotations

import json
from collections.abc import Sequence

from integrations.simulation import SimDay, local_iso

CHANNELS = ("kwh", "kvah")


def energy_json(
    days: Sequence[tuple[str, SimDay]], *, source: str = "SCADA", message_id: str | None = None
) -> bytes:
    """`days` pairs a kind ("feeder" | "dtr") with a simulated day whose serial is the network code."""
    energy = []
    for kind, sim in days:
        ends = local_iso(sim.local_ends)
        columns = [sim.channels[c].tolist() for c in CHANNELS]
        values = [
            {"end": end, **{c: col[n] for c, col in zip(CHANNELS, columns, strict=True)}}
            for n, end in enumerate(ends)
            if sim.present[n]
        ]
        energy.append(
            {
                "kind": kind,
                "code": sim.meter.serial,
                "interval_minutes": sim.interval_minutes,
                "values": values,
            }
        )
    return json.dumps({"message_id": message_id, "source": source, "energy": energy}).encode()


def energy_csv(days: Sequence[tuple[str, SimDay]]) -> bytes:
    lines = ["kind,code,interval_end,interval_minutes,channel,value"]
    for kind, sim in days:
        ends = local_iso(sim.local_ends)
        for channel in CHANNELS:
            values = sim.channels[channel].tolist()
            lines += [
                f"{kind},{sim.meter.serial},{end},{sim.interval_minutes},{channel},{value}"
                for end, value, ok in zip(ends, values, sim.present.tolist(), strict=True)
                if ok
            ]
    return ("\n".join(lines) + "\n").encode()
