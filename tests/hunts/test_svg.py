"""The host graph's layout: columns by hops from where the movement started."""

from __future__ import annotations

import re

from huntbook.hunts.render import svg


def _edge(src: str, dst: str) -> dict[str, str]:
    return {"source": src, "destination": dst, "method": "WMI", "account": "u"}


def _node_x(drawing: str) -> dict[str, float]:
    nodes = re.findall(r'<g class="node"><circle cx="([\d.]+)".*?>([^<]+)</text></g>', drawing)
    return {label: float(x) for x, label in nodes}


def test_a_chain_reads_left_to_right_one_column_per_hop() -> None:
    x = _node_x(svg.graph([_edge("c", "d"), _edge("a", "b"), _edge("b", "c")]))
    assert x["a"] < x["b"] < x["c"] < x["d"]


def test_two_sources_share_the_first_column_and_their_targets_the_second() -> None:
    x = _node_x(svg.graph([_edge("a", "b"), _edge("a", "c"), _edge("z", "y")]))
    assert x["a"] == x["z"] < x["b"] == x["c"] == x["y"]


def test_a_cycle_and_a_self_edge_still_give_every_host_a_place() -> None:
    hops = svg._hops(["a", "b", "c"], [("a", "b"), ("b", "c"), ("c", "a"), ("b", "b")])
    assert set(hops) == {"a", "b", "c"} and all(0 <= h < 3 for h in hops.values())
    assert set(_node_x(svg.graph([_edge("a", "b"), _edge("b", "a")]))) == {"a", "b"}


def test_a_host_that_moved_to_itself_gets_a_labelled_loop_over_its_node() -> None:
    drawing = svg.graph([{**_edge("pc02", "pc02"), "method": "RDP tunnel"}])
    [path] = re.findall(r'<path d="M ([\d.]+) ([\d.]+) C [^"]+"', drawing)
    [(_, cy)] = re.findall(r'<circle cx="([\d.]+)" cy="([\d.]+)"', drawing)
    assert float(path[1]) < float(cy)  # the loop starts on the node's upper rim
    assert "RDP tunnel, u" in drawing


def _label_boxes(drawing: str) -> list[tuple[str, svg.Box]]:
    texts = re.findall(
        r'<g class="edge[^"]*">.*?<text x="([\d.-]+)" y="([\d.-]+)"[^>]*>([^<]+)<', drawing
    )
    return [(t, svg.label_box(float(x), float(y) - 4.5, t)) for x, y, t in texts]


def _view_box(drawing: str) -> svg.Box:
    left, top, width, height = map(float, re.search(r'viewBox="([^"]+)"', drawing)[1].split())
    return left, top, left + width, top + height


def test_parallel_edges_between_two_hosts_keep_readable_labels() -> None:
    """Six moves from one host to another (a recording with many techniques between the same two
    hosts): every label is inside the picture and none covers another."""
    methods = ["WMI", "PsExec", "scheduled task", "SMB copy", "WinRM", "explicit credentials"]
    edges = [
        {**_edge("wrk-01", "srv-02"), "method": m, "account": "corp\\administrator"}
        for m in methods
    ]
    drawing = svg.graph(edges)
    boxes = _label_boxes(drawing)
    assert [t for t, _ in boxes] == [f"{m}, corp\\administrator" for m in methods]
    left, top, right, bottom = _view_box(drawing)
    for _, (x0, y0, x1, y1) in boxes:
        assert left <= x0 and x1 <= right and top <= y0 and y1 <= bottom
    for i, (a, box_a) in enumerate(boxes):
        for b, box_b in boxes[i + 1 :]:
            assert not svg._overlaps(box_a, box_b), f"{a!r} covers {b!r}"


def test_edges_outside_the_hunts_techniques_are_drawn_muted() -> None:
    edges = [_edge("a", "b"), {**_edge("c", "b"), "method": "RDP"}]
    drawing = svg.graph(edges, [True, False])
    groups = re.findall(r'<g class="(edge[^"]*)">.*?>([^<]+)</text></g>', drawing)
    assert groups == [("edge", "WMI, u"), ("edge muted", "RDP, u")]
    assert 'stroke-dasharray="6 4" marker-end="url(#arrow-muted)"' in drawing
