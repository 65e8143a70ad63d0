"""Render a BPMN file's diagram (its DI shapes and edges) as inline SVG, server-side, offline.

Enough of BPMN's notation for a field officer to see where an instance stands: pools and
lanes, tasks, events, gateways and flows; current elements are highlighted.
"""

from __future__ import annotations

from collections.abc import Collection
from html import escape
from xml.etree.ElementTree import Element

import defusedxml.ElementTree as SafeET

NS = {
    "bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
    "bpmndi": "http://www.omg.org/spec/BPMN/20100524/DI",
    "dc": "http://www.omg.org/spec/DD/20100524/DC",
    "di": "http://www.omg.org/spec/DD/20100524/DI",
}
TASKS = {"task", "userTask", "serviceTask", "scriptTask", "manualTask", "sendTask", "receiveTask",
         "businessRuleTask", "callActivity", "subProcess"}  # fmt: skip
EVENTS = {"startEvent", "endEvent", "intermediateCatchEvent", "intermediateThrowEvent", "boundaryEvent"}
GATEWAYS = {"exclusiveGateway", "parallelGateway", "inclusiveGateway", "eventBasedGateway"}
TASK_MARK = {"serviceTask": "\u2699", "scriptTask": "\u270e"}
GATEWAY_MARK = {"exclusiveGateway": "\u2715", "parallelGateway": "+", "inclusiveGateway": "\u25cb"}


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _elements(root: Element) -> dict[str, Element]:
    return {el.get("id", ""): el for el in root.iter() if el.get("id")}


def _event_kind(el: Element) -> str:
    for child in el:
        name = _local(child.tag)
        if name.endswith("EventDefinition"):
            return name.removesuffix("EventDefinition")
    return ""


def _wrap(text: str, width_chars: int) -> list[str]:
    lines: list[str] = []
    for word in text.split():
        if lines and len(lines[-1]) + len(word) + 1 <= width_chars:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return lines[:4]


def render_svg(
    xml: str,
    current: Collection[str] = (),
    completed: Collection[str] = (),
    failed: Collection[str] = (),
    title: str = "Process diagram",
) -> str:
    """SVG markup for the first diagram in `xml`; element ids in `current` are highlighted."""
    root = SafeET.fromstring(xml.encode("utf-8"), forbid_dtd=True)
    elements = _elements(root)
    plane = root.find(".//bpmndi:BPMNDiagram/bpmndi:BPMNPlane", NS)
    if plane is None:
        return '<p class="muted">This process file has no diagram (BPMN DI) to show.</p>'
    shapes: list[str] = []
    edges: list[str] = []
    xs: list[float] = []
    ys: list[float] = []
    for shape in plane.findall("bpmndi:BPMNShape", NS):
        bounds = shape.find("dc:Bounds", NS)
        ref = shape.get("bpmnElement", "")
        el = elements.get(ref)
        if bounds is None or el is None:
            continue
        x, y = float(bounds.get("x", 0)), float(bounds.get("y", 0))
        w, h = float(bounds.get("width", 0)), float(bounds.get("height", 0))
        xs += [x, x + w]
        ys += [y, y + h]
        shapes.append(_shape(el, ref, x, y, w, h, current, completed, failed))
    for edge in plane.findall("bpmndi:BPMNEdge", NS):
        points = [(float(p.get("x", 0)), float(p.get("y", 0))) for p in edge.findall("di:waypoint", NS)]
        if len(points) < 2:
            continue
        xs += [p[0] for p in points]
        ys += [p[1] for p in points]
        ref = edge.get("bpmnElement", "")
        el = elements.get(ref)
        label = escape(el.get("name", "")) if el is not None else ""
        path = " ".join(f"{px:.0f},{py:.0f}" for px, py in points)
        css = "flow done" if ref in completed else "flow"
        text = ""
        if label:
            lx, ly = points[len(points) // 2 - 1] if len(points) > 2 else points[0]
            text = f'<text class="flow-label" x="{lx + 6:.0f}" y="{ly - 4:.0f}">{label}</text>'
        edges.append(
            f'<g data-element-id="{escape(ref)}"><polyline class="{css}" points="{path}" '
            f'marker-end="url(#bpmn-arrow)"/>{text}</g>'
        )
    if not xs:
        return '<p class="muted">This process file has no diagram (BPMN DI) to show.</p>'
    min_x, min_y = min(xs) - 10, min(ys) - 10
    width, height = max(xs) - min_x + 10, max(ys) - min_y + 10
    return (
        f'<svg class="bpmn-diagram" role="img" aria-label="{escape(title)}" '
        f'viewBox="{min_x:.0f} {min_y:.0f} {width:.0f} {height:.0f}" xmlns="http://www.w3.org/2000/svg">'
        f"<title>{escape(title)}</title>"
        '<defs><marker id="bpmn-arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" '
        'markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z"/></marker></defs>'
        + "".join(s for s in shapes if s.startswith(('<g class="pool', '<g class="lane')))
        + "".join(edges)
        + "".join(s for s in shapes if not s.startswith(('<g class="pool', '<g class="lane')))
        + "</svg>"
    )


def _state_class(
    ref: str, current: Collection[str], completed: Collection[str], failed: Collection[str]
) -> str:
    if ref in failed:
        return " failed"
    if ref in current:
        return " current"
    if ref in completed:
        return " done"
    return ""


def _shape(
    el: Element,
    ref: str,
    x: float,
    y: float,
    w: float,
    h: float,
    current: Collection[str],
    completed: Collection[str],
    failed: Collection[str],
) -> str:
    kind = _local(el.tag)
    name = escape(el.get("name", "") or "")
    state = _state_class(ref, current, completed, failed)
    attrs = f'data-element-id="{escape(ref)}" data-kind="{kind}"'
    if state.strip():
        attrs += f' data-state="{state.strip()}"'
    if kind in ("participant", "lane"):
        css = "pool" if kind == "participant" else "lane"
        cx, cy = x + 15, y + h / 2
        return (
            f'<g class="{css}" {attrs}><rect x="{x:.0f}" y="{y:.0f}" width="{w:.0f}" height="{h:.0f}"/>'
            f'<text x="{cx:.0f}" y="{cy:.0f}" transform="rotate(-90 {cx:.0f} {cy:.0f})" '
            f'text-anchor="middle">{name}</text></g>'
        )
    if kind in TASKS:
        lines = _wrap(el.get("name", "") or ref, max(int(w / 7.5), 8))
        start_y = y + h / 2 - (len(lines) - 1) * 7
        text = "".join(
            f'<text x="{x + w / 2:.0f}" y="{start_y + i * 14:.0f}" text-anchor="middle">{escape(line)}</text>'
            for i, line in enumerate(lines)
        )
        mark = TASK_MARK.get(kind, "")
        icon = f'<text class="mark" x="{x + 6:.0f}" y="{y + 16:.0f}">{mark}</text>' if mark else ""
        if kind == "userTask":
            icon = _person_icon(x + 6, y + 4)
        return (
            f'<g class="task{state}" {attrs}><rect x="{x:.0f}" y="{y:.0f}" width="{w:.0f}" height="{h:.0f}" '
            f'rx="10"/>{icon}{text}</g>'
        )
    if kind in EVENTS:
        r = min(w, h) / 2
        cx, cy = x + w / 2, y + h / 2
        css = {"endEvent": "event end", "startEvent": "event start"}.get(kind, "event intermediate")
        inner = ""
        if kind in ("intermediateCatchEvent", "intermediateThrowEvent", "boundaryEvent"):
            inner = f'<circle class="inner" cx="{cx:.0f}" cy="{cy:.0f}" r="{r - 3:.0f}"/>'
        mark = {"message": "\u2709", "error": "\u26a1", "signal": "\u25b3"}.get(_event_kind(el), "")
        glyph = (
            f'<text class="mark" x="{cx:.0f}" y="{cy + 5:.0f}" text-anchor="middle">{mark}</text>'
            if mark
            else ""
        )
        if _event_kind(el) == "timer":
            glyph = _clock_icon(cx, cy, r - 6)
        label = f'<text x="{cx:.0f}" y="{y + h + 14:.0f}" text-anchor="middle">{name}</text>' if name else ""
        return f'<g class="{css}{state}" {attrs}><circle cx="{cx:.0f}" cy="{cy:.0f}" r="{r:.0f}"/>{inner}{glyph}{label}</g>'
    if kind in GATEWAYS:
        cx, cy = x + w / 2, y + h / 2
        points = f"{cx:.0f},{y:.0f} {x + w:.0f},{cy:.0f} {cx:.0f},{y + h:.0f} {x:.0f},{cy:.0f}"
        mark = GATEWAY_MARK.get(kind, "")
        label = f'<text x="{x + w + 4:.0f}" y="{y - 4:.0f}">{name}</text>' if name else ""
        return (
            f'<g class="gateway{state}" {attrs}><polygon points="{points}"/>'
            f'<text class="mark" x="{cx:.0f}" y="{cy + 5:.0f}" text-anchor="middle">{mark}</text>{label}</g>'
        )
    return (
        f'<g class="artifact" {attrs}><rect x="{x:.0f}" y="{y:.0f}" width="{w:.0f}" height="{h:.0f}"/>'
        f'<text x="{x + 4:.0f}" y="{y + 14:.0f}">{name}</text></g>'
    )


# Drawn, not typed: the emoji and clock glyphs are missing from common server and phone fonts.
def _person_icon(x: float, y: float) -> str:
    return (
        f'<g class="icon"><circle cx="{x + 6:.0f}" cy="{y + 4:.0f}" r="3.5"/>'
        f'<path d="M{x:.0f},{y + 15:.0f} Q{x + 6:.0f},{y + 5:.0f} {x + 12:.0f},{y + 15:.0f} Z"/></g>'
    )


def _clock_icon(cx: float, cy: float, r: float) -> str:
    return (
        f'<g class="icon clock"><circle cx="{cx:.0f}" cy="{cy:.0f}" r="{r:.0f}"/>'
        f'<path d="M{cx:.0f},{cy:.0f} L{cx:.0f},{cy - r + 2:.0f} M{cx:.0f},{cy:.0f} '
        f'L{cx + r - 3:.0f},{cy:.0f}"/></g>'
    )
