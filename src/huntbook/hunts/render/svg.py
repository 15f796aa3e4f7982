"""Inline SVG for the HTML report: the host-to-host graph and the evidence timeline.

Drawn by hand (no JavaScript, no external assets) so report.html opens anywhere, offline, and a
screenshot shows the same picture a browser does. Hosts stand in columns by how many hops they are
from where the movement started (a host nobody reached is in the first column), so the graph reads
left to right as the attacker went; each edge is an arrow source -> destination labelled "method,
account"; parallel edges between one pair bend apart, and no edge label is placed over another
label or a host (it moves up or down to the nearest free row; the picture grows to hold it).
Edges of other techniques than the hunt's are drawn muted (grey, dashed).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape
from typing import Any

from huntbook.hunts.render import common

GRAPH_W, NODE_R, ROW_H, MARGIN_X, TOP = 760, 34, 120, 130, 40  # TOP: room for self-loops
TIMELINE_W, LANE_H, MARGIN_L, MARGIN_R = 1000, 38, 300, 70


def graph(edges: Sequence[dict[str, Any]], hunt: Sequence[bool] = ()) -> str:
    """The lateral-movement graph as an ``<svg>`` element. ``hunt``: per edge, whether it is
    movement by the hunt's own techniques (the others are drawn muted); all when not given."""
    if not edges:
        return _empty("No lateral-movement edges were found.", GRAPH_W, 80, "host-graph")
    hosts = list(
        dict.fromkeys(h for e in edges for h in (str(e.get("source")), str(e.get("destination"))))
    )
    pairs = [(str(e.get("source")), str(e.get("destination"))) for e in edges]
    where, height = _layout(hosts, pairs)
    labels = {h: h for h in hosts}
    for e in edges:
        labels[str(e.get("source"))] = common.host_label(e, "source")
        labels[str(e.get("destination"))] = common.host_label(e, "destination")
    taken = [box for h in hosts for box in _node_boxes(where[h], labels[h])]
    drawn: list[str] = []
    seen: dict[tuple[str, str], int] = {}
    for i, (e, pair) in enumerate(zip(edges, pairs, strict=True)):
        seen[pair] = seen.get(pair, 0) + 1
        style = STYLES[hunt[i] if i < len(hunt) else True]
        drawn.append(
            _arrow(
                where[pair[0]], where[pair[1]], seen[pair] - 1, common.edge_label(e), style, taken
            )
        )
    box = _bounds(taken, GRAPH_W, height)
    parts = [
        _svg_open("host-graph", GRAPH_W, height, "Host-to-host lateral movement graph", box),
        _MARKERS,
    ]
    parts.extend(drawn)
    parts.extend(_node(where[h], labels[h]) for h in hosts)
    return "\n".join(parts) + "\n</svg>"


Box = tuple[float, float, float, float]  # left, top, right, bottom


@dataclass(frozen=True)
class EdgeStyle:
    css: str
    stroke: str
    text: str
    marker: str
    dash: str


#: an edge of the hunt's own techniques (True) and one of another technique, drawn muted (False)
STYLES = {
    True: EdgeStyle("edge", "#b3261e", "#7a1a14", "arrow", ""),
    False: EdgeStyle("edge muted", "#9aa7bb", "#5b6577", "arrow-muted", ' stroke-dasharray="6 4"'),
}
LABEL_H, CHAR_W, LABEL_PAD, LABEL_GAP = 17.0, 7.4, 8.0, 2.0  # estimated text box at font-size 13
LABEL_SPOTS = (0.5, 0.4, 0.6, 0.3, 0.7)  # where along its curve a label may sit, best first
LABEL_OFF = 14.0  # a label's centre this far off its curve, on the outer side

_MARKERS = (
    "<defs>"
    + "".join(
        f'<marker id="{s.marker}" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" '
        f'markerHeight="8" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" '
        f'fill="{s.stroke}"/></marker>'
        for s in STYLES.values()
    )
    + "</defs>"
)


def label_box(x: float, y: float, label: str) -> Box:
    """The box an edge label centred on ``(x, y)`` takes (its width estimated from its length)."""
    half = (CHAR_W * len(label) + LABEL_PAD) / 2
    return (x - half, y - LABEL_H / 2, x + half, y + LABEL_H / 2)


def _overlaps(a: Box, b: Box) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _place(
    spots: Sequence[tuple[float, float]], label: str, taken: list[Box]
) -> tuple[float, float]:
    """Where an edge label overlaps no label or node already placed: the first free one of
    ``spots`` (points beside its own line, best first), else the nearest free row straight above
    or below the first (parallel edges' labels stack, none hides another; finitely many boxes
    leave a free row). Its box joins ``taken``."""
    x, y = spots[0]
    step = LABEL_H + LABEL_GAP
    rows = ((x, y + step * ((k + 1) // 2) * (1 if k % 2 else -1)) for k in itertools.count(1))
    spot = next(
        (sx, sy)
        for sx, sy in itertools.chain(spots, rows)
        if not any(_overlaps(label_box(sx, sy, label), t) for t in taken)
    )
    taken.append(label_box(*spot, label))
    return spot


def _on_curve(
    start: tuple[float, float], control: tuple[float, float], end: tuple[float, float]
) -> list[tuple[float, float]]:
    """Points of the quadratic curve, its midpoint first, then ever nearer its ends."""
    (sx, sy), (cx, cy), (ex, ey) = start, control, end
    return [
        (
            (1 - t) ** 2 * sx + 2 * (1 - t) * t * cx + t * t * ex,
            (1 - t) ** 2 * sy + 2 * (1 - t) * t * cy + t * t * ey,
        )
        for t in LABEL_SPOTS
    ]


def _node_boxes(at: tuple[float, float], label: str) -> list[Box]:
    x, y = at
    name = y + NODE_R + 18
    half = (7.8 * len(label) + LABEL_PAD) / 2
    return [
        (x - NODE_R, y - NODE_R, x + NODE_R, y + NODE_R),
        (x - half, name - 14, x + half, name + 4),
    ]


def _bounds(boxes: list[Box], width: int, height: int) -> Box:
    """The drawing's extent: the graph's own area grown to hold every label and node."""
    left = min([0.0, *(b[0] - 4 for b in boxes)])
    top = min([0.0, *(b[1] - 4 for b in boxes)])
    right = max([float(width), *(b[2] + 4 for b in boxes)])
    bottom = max([float(height), *(b[3] + 4 for b in boxes)])
    return left, top, right, bottom


def _svg_open(css_class: str, width: int, height: int, title: str, box: Box | None = None) -> str:
    left, top, right, bottom = box or (0.0, 0.0, float(width), float(height))
    w, h = right - left, bottom - top
    return (
        f'<svg class="{css_class}" xmlns="http://www.w3.org/2000/svg" '
        f'width="{w:g}" height="{h:g}" '
        f'viewBox="{left:g} {top:g} {w:g} {h:g}" role="img"><title>{escape(title)}</title>'
    )


def _empty(text: str, width: int, height: int, css_class: str) -> str:
    return (
        _svg_open(css_class, width, height, text)
        + f'<text x="20" y="{height // 2}" font-size="15" fill="#555">{escape(text)}</text></svg>'
    )


def _hops(hosts: list[str], pairs: list[tuple[str, str]]) -> dict[str, int]:
    """Each host's column: the longest chain of edges that reaches it (cycles cut at the count)."""
    hops = dict.fromkeys(hosts, 0)
    for _ in hosts:
        moved = False
        for src, dst in pairs:
            if src != dst and hops[src] + 1 > hops[dst] and hops[src] + 1 < len(hosts):
                hops[dst] = hops[src] + 1
                moved = True
        if not moved:
            break
    return hops


def _layout(
    hosts: list[str], pairs: list[tuple[str, str]]
) -> tuple[dict[str, tuple[float, float]], int]:
    """Where each host's node sits, and the picture's height."""
    columns: dict[int, list[str]] = {}
    for host, hop in _hops(hosts, pairs).items():
        columns.setdefault(hop, []).append(host)
    height = max(220, ROW_H * max(len(c) for c in columns.values()) + 40 + TOP)
    last = max(columns)
    where: dict[str, tuple[float, float]] = {}
    for hop, column in columns.items():
        x = GRAPH_W / 2 if last == 0 else MARGIN_X + hop * (GRAPH_W - 2 * MARGIN_X) / last
        gap = (height - TOP) / len(column)
        where.update({h: (x, TOP + gap * (i + 0.5) - 10) for i, h in enumerate(column)})
    return where, height


def _arrow(
    start: tuple[float, float],
    end: tuple[float, float],
    nth: int,
    label: str,
    style: EdgeStyle,
    taken: list[Box],
) -> str:
    if start == end:
        return _loop(start, nth, label, style, taken)
    (x1, y1), (x2, y2) = start, end
    length = math.hypot(x2 - x1, y2 - y1) or 1.0
    ux, uy = (x2 - x1) / length, (y2 - y1) / length
    bend = 36.0 * (nth + 1)
    cx, cy = (x1 + x2) / 2 + uy * bend, (y1 + y2) / 2 - ux * bend
    sx, sy = x1 + ux * NODE_R, y1 + uy * NODE_R
    ex, ey = x2 - ux * (NODE_R + 2), y2 - uy * (NODE_R + 2)
    # the label sits beside its curve, on the outer side, where it covers no other label
    beside = [
        (x + uy * LABEL_OFF, y - ux * LABEL_OFF) for x, y in _on_curve((sx, sy), (cx, cy), (ex, ey))
    ]
    lx, ly = _place(beside, label, taken)
    return (
        f'<g class="{style.css}"><path d="M {sx:.1f} {sy:.1f} Q {cx:.1f} {cy:.1f} {ex:.1f} '
        f'{ey:.1f}" fill="none" stroke="{style.stroke}" stroke-width="2.5"{style.dash} '
        f'marker-end="url(#{style.marker})"/>{_edge_label(lx, ly, label, style)}</g>'
    )


def _loop(at: tuple[float, float], nth: int, label: str, style: EdgeStyle, taken: list[Box]) -> str:
    """A host that moved to itself (a loopback tunnel): a loop over its node, labelled above it."""
    x, y = at
    rise, spread = 44.0 + 14 * nth, 30.0 + 8 * nth
    sx, sy, ex = x - NODE_R * 0.5, y - NODE_R * 0.87, x + NODE_R * 0.5
    lx, ly = _place([(x, sy - rise * 0.75 - 8)], label, taken)
    return (
        f'<g class="{style.css}"><path d="M {sx:.1f} {sy:.1f} C {x - spread:.1f} '
        f'{sy - rise:.1f} {x + spread:.1f} {sy - rise:.1f} {ex:.1f} {sy:.1f}" fill="none" '
        f'stroke="{style.stroke}" stroke-width="2.5"{style.dash} '
        f'marker-end="url(#{style.marker})"/>{_edge_label(lx, ly, label, style)}</g>'
    )


def _edge_label(x: float, y: float, label: str, style: EdgeStyle) -> str:
    """The label's text centred on ``(x, y)`` (its baseline a third of a line below)."""
    return (
        f'<text x="{x:.1f}" y="{y + 4.5:.1f}" text-anchor="middle" font-size="13" '
        f'fill="{style.text}" paint-order="stroke" stroke="#fff" stroke-width="4">'
        f"{escape(label)}</text>"
    )


def _node(at: tuple[float, float], label: str) -> str:
    x, y = at
    return (
        f'<g class="node"><circle cx="{x:.1f}" cy="{y:.1f}" r="{NODE_R}" fill="#e8f0fe" '
        f'stroke="#1a4fa0" stroke-width="2"/><text x="{x:.1f}" y="{y + NODE_R + 18:.1f}" '
        f'text-anchor="middle" font-size="14" font-weight="bold" fill="#0b2a5b">'
        f"{escape(label)}</text></g>"
    )


def timeline(points: Sequence[tuple[float, str, str]]) -> str:
    """Evidence events on a time axis, one lane per edge (``source -> destination``)."""
    if not points:
        return _empty("No timed evidence to draw.", TIMELINE_W, 60, "timeline")
    lanes = list(dict.fromkeys(lane for _, lane, _ in points))
    height = 60 + LANE_H * len(lanes)
    first, last = points[0][0], points[-1][0]
    span = max(last - first, 1.0)

    def x_of(t: float) -> float:
        return MARGIN_L + (t - first) / span * (TIMELINE_W - MARGIN_L - MARGIN_R)

    parts = [_svg_open("timeline", TIMELINE_W, height, "Timeline of the evidence")]
    for i, lane in enumerate(lanes):
        y = 30 + LANE_H * i + LANE_H / 2
        parts.append(
            f'<line x1="{MARGIN_L}" x2="{TIMELINE_W - MARGIN_R}" y1="{y}" y2="{y}" stroke="#ddd"/>'
            f'<text x="{MARGIN_L - 10}" y="{y + 4}" text-anchor="end" font-size="12">'
            f"{escape(lane if len(lane) <= 44 else lane[:43] + '…')}</text>"
        )
    for t, lane, text in points:
        y = 30 + LANE_H * lanes.index(lane) + LANE_H / 2
        tip = f"{common.fmt_time(t)} {text}"
        parts.append(
            f'<circle class="event" cx="{x_of(t):.1f}" cy="{y}" r="5" fill="#b3261e" '
            'fill-opacity="0.7">'
            f"<title>{escape(tip)}</title></circle>"
        )
    parts.extend(_ticks(first, span, height, x_of))
    return "\n".join(parts) + "\n</svg>"


def _ticks(first: float, span: float, height: int, x_of: Any) -> list[str]:
    ticks = []
    for i in range(5):
        t = first + span * i / 4
        x = x_of(t)
        ticks.append(
            f'<line x1="{x:.1f}" x2="{x:.1f}" y1="20" y2="{height - 25}" stroke="#eee"/>'
            f'<text x="{x:.1f}" y="{height - 8}" text-anchor="middle" font-size="11" fill="#444">'
            f"{escape(_tick_label(t, span))}</text>"
        )
    return ticks


def _tick_label(epoch: float, span: float) -> str:
    """``MM-DD HH:MM:SS``; with milliseconds when the whole timeline spans under two minutes."""
    text = common.fmt_time(epoch)[5:]
    return f"{text}.{int(epoch * 1000) % 1000:03d}" if span < 120 else text
