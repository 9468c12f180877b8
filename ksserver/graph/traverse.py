"""Which node files an appliance gets, and in what order (docs/original-behaviour.md §2.5).

1. Depth-first from the root along outgoing edges in declaration order (graph directories
   in the order given, files sorted by name, then document order), visiting each node once,
   so cycles end.  A node's condition is that of the *first* edge that reached it: if that
   is false the node is left out, even when a later edge with a true condition points at it.
   A pruned child edge (``<edge from="a"><to cond=…>b</to></edge>``) whose condition is
   false reaches nothing.
   Deliberate difference from the original (its bug, docs/original-behaviour.md §8.3): the traversal does not go
   on *through* a node that was left out, so ``x11``'s own children do not arrive on a host
   without ``x11``.  They can still be reached along another path.
2. The order graph is sorted topologically (implicit ``HEAD → n`` for every node with no
   path to ``HEAD``, implicit ``n → TAIL`` for every sink not reachable from ``TAIL``;
   reversed DFS finishing order), then merged: ordered nodes in that order, the nodes the
   order graph does not mention alphabetically at ``TAIL`` (or at the end without ``TAIL``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from ksserver.graph.graphfile import Edge, OrderEdge

__all__ = ["reach", "order_nodes", "topological_order", "merge_order"]


def reach(root: str, adjacency: dict[str, list[Edge]], outcome: dict[Edge, bool] | None = None) -> dict[str, Edge | None]:
    """Nodes kept for ``root``: name → the edge that first reached it (``None`` for the root).

    ``outcome`` gives each edge's condition value; without it every edge is true (used by
    the checks, which want everything an appliance could ever get).
    """
    seen: dict[str, bool] = {root: True}
    first: dict[str, Edge | None] = {root: None}
    stack = [iter(adjacency.get(root, ()))]
    while stack:
        edge = next(stack[-1], None)
        if edge is None:
            stack.pop()
            continue
        if edge.to in seen:
            continue
        ok = True if outcome is None else outcome[edge]
        if edge.prune and not ok:
            continue
        seen[edge.to] = ok
        first[edge.to] = edge
        if ok:
            stack.append(iter(adjacency.get(edge.to, ())))
    return {name: edge for name, edge in first.items() if seen[name]}


def order_nodes(orders: Iterable[OrderEdge]) -> dict[str, list[str]]:
    """The order graph as head → tails, nodes in first-mention order."""
    graph: dict[str, list[str]] = {}
    for o in orders:
        graph.setdefault(o.head, [])
        graph.setdefault(o.tail, [])
        if o.tail not in graph[o.head]:
            graph[o.head].append(o.tail)
    return graph


def _reachable(start: str, graph: dict[str, list[str]]) -> set[str]:
    out = {start}
    todo = [start]
    while todo:
        for nxt in graph.get(todo.pop(), ()):
            if nxt not in out:
                out.add(nxt)
                todo.append(nxt)
    return out


def topological_order(orders: Iterable[OrderEdge]) -> list[str]:
    graph = order_nodes(orders)
    graph = {k: list(v) for k, v in graph.items()}
    if "HEAD" in graph:
        reverse: dict[str, list[str]] = {}
        for head, tails in graph.items():
            for tail in tails:
                reverse.setdefault(tail, []).append(head)
        before_head = _reachable("HEAD", reverse)
        for name in list(graph):
            if name not in before_head and "HEAD" not in graph[name] and name not in graph["HEAD"]:
                graph["HEAD"].append(name)
    if "TAIL" in graph:
        after_tail = _reachable("TAIL", graph)
        for name in list(graph):
            if name not in after_tail and not graph[name]:
                graph[name].append("TAIL")
    done: set[str] = set()
    post: list[str] = []
    # Starts and children are taken last-first so that, once the finishing order is
    # reversed, siblings keep the order in which the graph files declare them.
    for start in reversed(list(graph)):
        if start in done:
            continue
        done.add(start)
        stack = [(start, reversed(graph[start]))]
        while stack:
            node, it = stack[-1]
            nxt = next(it, None)
            if nxt is None:
                stack.pop()
                post.append(node)
            elif nxt not in done:
                done.add(nxt)
                stack.append((nxt, reversed(graph[nxt])))
    post.reverse()
    return post


def merge_order(topo: Sequence[str], kept: Iterable[str]) -> list[str]:
    """The kept framework nodes in order-graph order, the rest alphabetically at ``TAIL``."""
    kept = set(kept)
    mentioned = set(topo)
    rest = sorted(n for n in kept if n not in mentioned)
    out: list[str] = []
    for name in topo:
        if name == "TAIL":
            out.extend(rest)
        elif name != "HEAD" and name in kept:
            out.append(name)
    if "TAIL" not in mentioned:
        out.extend(rest)
    return out
