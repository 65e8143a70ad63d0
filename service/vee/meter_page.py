"""What the meter page shows for a chosen range: kWh intervals by quality with the original beside
every estimate and edit, events, and VEE failures; and the plotly figure of the intervals."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from service.readings.totals import events
from service.web.times import IST

SERIES = (  # quality -> (legend, colour); "original" is drawn beside estimates and edits
    ("valid", "Validated", "#0b5cad"),
    ("raw", "Raw (not yet validated)", "#8a96a8"),
    ("estimated", "Estimated", "#d97706"),
    ("edited", "Edited", "#7c3aed"),
    ("failed", "Failed VEE", "#b91c1c"),
    ("suspect", "Suspect", "#b45309"),
)


def intervals_with_originals(
    session: Session, meter_id: int, start: datetime, end: datetime, channel: str = "kwh"
) -> list[dict[str, Any]]:
    """Each interval in (start, end] with its quality, and for estimates and edits the value it
    replaced and how (method or reason)."""
    rows = session.execute(
        text(
            "SELECT r.interval_end, r.value, r.quality, e.method, e.original_value AS est_original,"
            " d.original_value AS edit_original, d.reason, d.edited_by"
            " FROM interval_readings r"
            " LEFT JOIN vee_estimates e ON e.meter_id = r.meter_id AND e.channel = r.channel AND e.ts = r.interval_end"
            " LEFT JOIN LATERAL (SELECT original_value, reason, edited_by FROM vee_edits v"
            "   WHERE v.meter_id = r.meter_id AND v.channel = r.channel AND v.ts = r.interval_end"
            "   AND v.measure = 'interval' ORDER BY v.id LIMIT 1) d ON r.quality = 'edited'"
            " WHERE r.meter_id = :m AND r.channel = :c AND r.interval_end > :a AND r.interval_end <= :b"
            " ORDER BY r.interval_end"
        ),
        {"m": meter_id, "c": channel, "a": start, "b": end},
    ).mappings()
    out = []
    for r in rows:
        original = r["est_original"] if r["quality"] == "estimated" else r["edit_original"]
        how = r["method"] if r["quality"] == "estimated" else r["reason"]
        out.append({**dict(r), "original": original, "how": how})
    return out


def failures(session: Session, meter_id: int, start: datetime, end: datetime) -> list[dict[str, Any]]:
    rows = session.execute(
        text(
            "SELECT rule_id, ts, ts_end, value_seen, reference_value, severity, data_kind FROM vee_failures"
            " WHERE meter_id = :m AND ts > :a - interval '1 day' AND ts <= :b ORDER BY ts DESC LIMIT 200"
        ),
        {"m": meter_id, "a": start, "b": end},
    ).mappings()
    return [dict(r) for r in rows]


def meter_events(session: Session, meter_id: int, start: datetime, end: datetime) -> list[dict[str, Any]]:
    return events(session, meter_id, start, end)[-50:]


def figure_json(rows: list[dict[str, Any]], title: str) -> str:
    """Plotly figure: a line of all values, markers per quality, hollow markers for originals."""

    def local(ts: datetime) -> str:
        return ts.astimezone(IST).strftime("%Y-%m-%d %H:%M")

    traces: list[dict[str, Any]] = [
        {
            "type": "scatter",
            "mode": "lines",
            "name": "kWh",
            "x": [local(r["interval_end"]) for r in rows],
            "y": [r["value"] for r in rows],
            "line": {"color": "#c3cad6", "width": 1},
            "hoverinfo": "skip",
        }
    ]
    for quality, name, colour in SERIES:
        chosen = [r for r in rows if r["quality"] == quality]
        if chosen:
            traces.append(
                {
                    "type": "scatter",
                    "mode": "markers",
                    "name": name,
                    "x": [local(r["interval_end"]) for r in chosen],
                    "y": [r["value"] for r in chosen],
                    "marker": {"color": colour, "size": 6 if quality in ("valid", "raw") else 9},
                }
            )
    originals = [r for r in rows if r["quality"] in ("estimated", "edited") and r["original"] is not None]
    if originals:
        traces.append(
            {
                "type": "scatter",
                "mode": "markers",
                "name": "Original (before estimate or edit)",
                "x": [local(r["interval_end"]) for r in originals],
                "y": [r["original"] for r in originals],
                "marker": {"color": "#111827", "size": 9, "symbol": "circle-open"},
            }
        )
    layout = {
        "title": {"text": title},
        "height": 360,
        "margin": {"l": 55, "r": 15, "t": 45, "b": 60},
        "xaxis": {"title": {"text": "Interval end (IST)"}, "type": "date"},
        "yaxis": {"title": {"text": "kWh"}, "rangemode": "tozero"},
        "legend": {"orientation": "h", "y": -0.25},
        "dragmode": "select",
    }
    # "</" cannot end the <script type="application/json"> block the page embeds it in.
    return json.dumps({"data": traces, "layout": layout}).replace("</", "<\\/")
