"""MIOS CDF files as an LT/HT AMR system drops them, for tests, benchmarks and the demo."""

from __future__ import annotations

from xml.sax.saxutils import quoteattr

from integrations.amr.cdf import ENERGY_CODES, INTERVAL_CODES
from integrations.simulation import SimDay, cdf_datetime

CHANNEL_CODE = {channel: code for code, channel in INTERVAL_CODES.items()}
ENERGY_CHANNEL_CODE = {channel: code for code, channel in ENERGY_CODES.items()}
UNITS = {"kwh": "kWh", "kvah": "kVAh", "kvarh_lag": "kvarh", "kvarh_lead": "kvarh"}


def cdf_file(
    days: list[SimDay],
    *,
    ct_ratio: str | None = None,
    pt_ratio: str | None = None,
    make: str | None = None,
    billing: bool = True,
    events: bool = True,
    extra: str = "",
) -> bytes:
    """One meter's CDF: D1..D5 with a load survey of the given days (same meter, same period).

    `ct_ratio`, `pt_ratio` and `make` override what the meter's nameplate says (to simulate a
    file that disagrees with master data); `extra` is spliced into the UTILITYTYPE (faults).
    """
    first, last = days[0], days[-1]
    meter = first.meter
    read_local = int(last.local_ends[-1]) + 600
    ct = ct_ratio or meter.ct_ratio or "1/1"
    pt = pt_ratio or meter.pt_ratio or "1/1"
    d1 = (
        f"<D1><G1>{meter.serial}</G1><G2>{cdf_datetime(read_local - 40)}</G2>"
        f"<G3>{cdf_datetime(read_local)}</G3><G4>{cdf_datetime(read_local + 60)}</G4>"
        f"<G7>{pt}</G7><G8>{ct}</G8><G15>{meter.shape.upper()}</G15><G17>v2.1</G17>"
        f"<G20>{first.interval_minutes}</G20><G22 CODE={quoteattr((make or meter.make)[:3].upper())} NAME={quoteattr(make or meter.make)}/></D1>"
    )
    d2 = (
        f'<D2><INSTPARAM CODE="P7-1-5-1-0" VALUE="{last.register_end_kwh}" UNIT="kWh"/>'
        f'<INSTPARAM CODE="P7-3-5-1-0" VALUE="{last.register_end_kvah}" UNIT="kVAh"/></D2>'
    )
    d3 = ""
    if billing:
        at = cdf_datetime(int(first.local_ends[0]) - first.interval_minutes * 60)
        md_at = cdf_datetime(first.md_local_at - 86_400)
        kwh = first.register_start_kwh
        d3 = (
            f'<D3><D3-00 DATETIME="{at}">'
            f'<B3 PARAMCODE="P7-1-5-1-0" VALUE="{kwh}" UNIT="kWh"/>'
            f'<B3 PARAMCODE="P7-1-5-1-1" VALUE="{round(kwh * 0.7, 3)}" UNIT="kWh"/>'
            f'<B3 PARAMCODE="P7-1-5-1-2" VALUE="{round(kwh * 0.3, 3)}" UNIT="kWh"/>'
            f'<B3 PARAMCODE="P7-3-5-1-0" VALUE="{first.register_start_kvah}" UNIT="kVAh"/>'
            f'<B5 PARAMCODE="P7-4-5-1-0" VALUE="{first.md_kw}" UNIT="kW" OCCDATE="{md_at}"/>'
            f'<B9 PARAMCODE="P4-4-4-0-0" VALUE="0.92"/></D3-00></D3>'
        )
    profiles = []
    for sim in days:
        date_text = f"{sim.day.day:02d}-{sim.day.month:02d}-{sim.day.year}"
        names = [name for name in sim.channels if name in CHANNEL_CODE]
        columns = [sim.channels[name].tolist() for name in names]
        codes = [CHANNEL_CODE[name] for name in names]
        present = sim.present.tolist()
        ips = []
        for n in range(len(present)):
            if not present[n]:
                continue
            params = "".join(
                f'<PARAMETER PARAMCODE="{code}" VALUE="{column[n]}"/>'
                for code, column in zip(codes, columns, strict=True)
            )
            ips.append(f'<IP INTERVAL="{n + 1}">{params}</IP>')
        profiles.append(f'<DAYPROFILE DATE="{date_text}">{"".join(ips)}</DAYPROFILE>')
    d4 = f'<D4 INTERVALPERIOD="{first.interval_minutes}">{"".join(profiles)}</D4>'
    d5 = ""
    if events:
        records = [
            f'<EVENT CODE="{code}" DATETIME="{cdf_datetime(local)}">'
            f'<PARAMETER PARAMCODE="P1-2-1-1-0" VALUE="231.4"/><PARAMETER PARAMCODE="P2-1-1-1-0" VALUE="1.2"/>'
            f"</EVENT>"
            for sim in days
            for code, local in sim.events
        ]
        d5 = f"<D5>{''.join(records)}</D5>"
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<CDF><UTILITYTYPE CODE="1">{d1}{d2}{d3}{d4}{d5}{extra}'
        f"</UTILITYTYPE></CDF>"
    ).encode()


def file_name(serial: str, day_text: str) -> str:
    return f"{serial}_{day_text}.xml"
