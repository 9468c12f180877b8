"""Benchmark: a Rocks-size graph with <eval>s — first and cached render per host, check graph.

Run from the repository root::

    .venv/bin/python bench/rocks_graph.py [--nodes 150] [--evals 30] [--hosts 50]

It writes two graphs of ``--nodes`` node files in a temporary directory, alike but for one
thing: in the first, ``--evals`` of the node files hold an ``<eval>`` (a shell fragment that
prints a line from the host's attributes, as the original's graphs compute values on the
frontend); in the baseline, the same node files hold that line as plain text. Per host
(``--hosts`` distinct hosts, each with its own name and address):

* first render: a fresh runner (nothing kept) — the evals run;
* cached render: the same host again with the same runner and graph — what the install
  server does for every request after the first at one inventory revision;
* baseline: the graph without evals, per host after a warm-up: a new host, and the same
  host again (what "cached" is compared with: like for like).

Goal (issue 14): cached render ≤ 2 × baseline. It also times ``check graph`` over the
eval graph (two appliances). Figures are printed as JSON and as ratios to the baseline.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from ksserver.graph import Graph, check_graph  # noqa: E402
from ksserver.graph.evaluate import Runner  # noqa: E402


def write_graph(root: Path, nodes: int, evals: int, with_evals: bool) -> None:
    (root / "graphs" / "default").mkdir(parents=True)
    (root / "nodes").mkdir()
    root.chmod(0o755)
    edges = ['<graph>']
    for i in range(nodes):
        parent = "compute" if i < nodes // 2 else "server"
        edges.append(f'<edge from="{parent}" to="n{i:03d}"/>')
        if i % 10 == 0 and i:
            edges.append(f'<edge from="n{i - 10:03d}" to="n{i:03d}" cond="rank &gt;= 0"/>')
        line = f'echo "node {i} for $hostname at $hostaddr"'
        if with_evals and i % max(1, nodes // evals) == 0 and i // max(1, nodes // evals) < evals:
            body = f"<eval>{line}</eval>"
        else:
            body = f"node {i} for &hostname; at &hostaddr;"
            body = f'echo "{body}"'
        (root / "nodes" / f"n{i:03d}.xml").write_text(
            f'<?xml version="1.0"?>\n<kickstart>\n<description>node {i}</description>\n'
            f'<package>pkg-{i}</package>\n<post>\n{body}\n</post>\n'
            f'<post cond="rack == 0">\necho "rack 0: &Kickstart_PrivateDNSDomain;"\n</post>\n</kickstart>\n')
    for name in ("compute", "server"):
        (root / "nodes" / f"{name}.xml").write_text(
            '<kickstart>\n<main>\n<rootpw>--iscrypted &hash;</rootpw>\n<text/>\n</main>\n</kickstart>\n')
    edges.append("</graph>")
    (root / "graphs" / "default" / "graph.xml").write_text("\n".join(edges) + "\n")


def host(i: int) -> dict[str, str]:
    return {"hostname": f"compute-0-{i}", "hostaddr": f"10.1.{i // 250}.{i % 250 + 1}", "rank": str(i), "rack": "0",
            "Kickstart_PrivateDNSDomain": "local", "hash": "$6$x$y", "arch": "x86_64", "os": "linux"}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--nodes", type=int, default=150)
    ap.add_argument("--evals", type=int, default=30)
    ap.add_argument("--hosts", type=int, default=50)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        ev_dir, plain_dir = Path(tmp, "evals"), Path(tmp, "plain")
        write_graph(ev_dir, args.nodes, args.evals, True)
        write_graph(plain_dir, args.nodes, args.evals, False)
        ev_graph, plain = Graph.load([ev_dir]), Graph.load([plain_dir])
        evals = sum("<eval>" in p.read_text() for p in (ev_dir / "nodes").iterdir())

        plain.render_kickstart("compute", host(0))  # warm-up: files read, templates compiled
        base, base_again = [], []
        for i in range(1, args.hosts + 1):
            t = time.perf_counter()
            plain.render_kickstart("compute", host(i))
            base.append(time.perf_counter() - t)
            t = time.perf_counter()
            plain.render_kickstart("compute", host(i))
            base_again.append(time.perf_counter() - t)

        first, cached, runs = [], [], []
        for i in range(args.hosts):
            run = Runner(salt=i)  # nothing kept from another host: the evals run
            t = time.perf_counter()
            a = ev_graph.render_kickstart("compute", host(i), run)
            first.append(time.perf_counter() - t)
            runs.append(run.runs)
            t = time.perf_counter()
            b = ev_graph.render_kickstart("compute", host(i), run)
            cached.append(time.perf_counter() - t)
            assert a == b and run.runs == runs[-1]
        t = time.perf_counter()
        problems = check_graph([ev_dir], {"compute": ("compute", host(0)), "frontend": ("server", host(0))})
        check_s = time.perf_counter() - t
        notes = [p for p in problems if ": note: " in p]
        assert len(problems) == len(notes), problems

    med = statistics.median
    out = {
        "node_files": args.nodes + 2, "evals": evals, "evals_run_per_compute_render": runs[0], "hosts": args.hosts,
        "baseline_new_host_ms": round(med(base) * 1000, 2),
        "baseline_same_host_again_ms": round(med(base_again) * 1000, 2),
        "first_render_ms": round(med(first) * 1000, 2),
        "cached_render_ms": round(med(cached) * 1000, 2),
        "first_over_baseline_new_host": round(med(first) / med(base), 1),
        "cached_over_baseline_same_host_again": round(med(cached) / med(base_again), 2),
        "cached_over_baseline_new_host": round(med(cached) / med(base), 2),
        "check_graph_s": round(check_s, 2),
        "goal_cached_le_2x_baseline": med(cached) <= 2 * med(base_again),
    }
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
