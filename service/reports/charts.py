"""Chart specs to plotly figures (JSON for plotly.js, served from the plotly package: decision 010)."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

from service.reports.registry import Report
from service.reports.running import shown


def figure(report: Report, rows: list[dict[str, Any]]) -> dict[str, Any] | None:
    spec = report.chart
    if spec is None:
        return None
    x_col = report.column(spec.x)
    xs = [_jsonable(shown(x_col, r.get(spec.x))) for r in rows]
    traces = []
    for key in spec.y:
        col = report.column(key)
        trace: dict[str, Any] = {
            "type": "scatter" if spec.kind == "line" else "bar",
            "name": col.heading,
            "x": xs,
            "y": [shown(col, r.get(key)) for r in rows],
        }
        if spec.kind == "line":
            trace["mode"] = "lines+markers"
        traces.append(trace)
    layout: dict[str, Any] = {
        "title": {"text": spec.title or report.title_en},
        "margin": {"l": 60, "r": 20, "t": 50, "b": 80},
        "height": 360,
        "xaxis": {"title": {"text": x_col.heading}, "type": "category"},
        "legend": {"orientation": "h"},
    }
    if spec.kind == "stacked":
        layout["barmode"] = "stack"
    return {"data": traces, "layout": layout}


def figure_json(report: Report, rows: list[dict[str, Any]]) -> str | None:
    fig = figure(report, rows)
    # "</" cannot end the <script type="application/json"> block the page embeds it in.
    return None if fig is None else json.dumps(fig).replace("</", "<\\/")


def _jsonable(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value


def plotly_js_path() -> Path:
    """plotly.min.js as the pinned plotly package ships it (no CDN)."""
    return Path(str(resources.files("plotly") / "package_data" / "plotly.min.js"))
