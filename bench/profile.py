"""Benchmark: ksserver's compute kickstart for 1,000 distinct hosts beside Cobbler's Templar.

Run from the repository root::

    .venv/bin/python bench/profile.py [--hosts 1000] [--no-cobbler]

ksserver half: the shipped graph, the demo site attributes plus per-host intrinsics
(hostname, rank, hostaddr, ksmac differ per host), rendered to kickstart text.  "cold" is
the first render in a fresh process (graph files and node files read, Jinja template
compiled); "warm" is the mean of the following renders, every one a distinct host, so the
entity substitution and kickstart generation run each time. This is the one renderer:
``list host profile`` and the install server both call it (the server keeps its output per
host, ``services.kickstart``).

Cobbler half: Cobbler 3.3.10's own ``cobbler.templar.Templar`` rendering its shipped
``sample.ks`` (Cheetah, snippets from the same package) once per host with a per-host
search table, in a separate virtual environment so that Cobbler never enters ksserver's.
The bench venv is ``$KSSERVER_BENCH_VENV`` (default ``/tmp/benchvenv``); when it lacks
Cobbler the script creates it::

    python3 -m venv /tmp/benchvenv
    /tmp/benchvenv/bin/pip install --no-deps cobbler==3.3.10
    /tmp/benchvenv/bin/pip install Cheetah3 netaddr distro pyyaml schema

The Cobbler half runs as a subprocess in that venv and prints its timings as JSON.
Goal: warm ksserver profile ≤ 0.5 × Cobbler's warm render time.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

BENCH_VENV = Path(os.environ.get("KSSERVER_BENCH_VENV", "/tmp/benchvenv"))

COBBLER_SCRIPT = r"""
import glob, json, logging, os, sys, time, warnings
warnings.simplefilter("ignore")
logging.disable(logging.CRITICAL)
n = int(sys.argv[1])
import cobbler
from cobbler.settings import Settings
from cobbler.templar import Templar
pkg = os.path.dirname(os.path.dirname(cobbler.__file__))
tdir = os.path.join(pkg, "var", "lib", "cobbler", "templates")
sdir = os.path.join(pkg, "var", "lib", "cobbler", "snippets")
settings = Settings()
settings.autoinstall_snippets_dir = sdir
settings.autoinstall_templates_dir = tdir
class Api:
    def settings(self):
        return settings
templar = Templar(Api())
source = open(os.path.join(tdir, "sample.ks")).read()
def table(i):
    return {
        "tree": "http://10.1.1.1/cblr/links/rocky9-x86_64", "yum_repo_stanza": "", "yum_config_stanza": "",
        "default_password_crypted": "$6$ksdemo$4wFJ2FVkNO6.l8Bcli/LddIkQKlkVvd2dD23CfyJnmLMU.3kWdgLDkwY74",
        "hostname": "compute-0-%d" % i, "name": "compute-0-%d" % i, "system_name": "compute-0-%d" % i,
        "profile_name": "rocky9-x86_64", "server": "10.1.1.1", "http_port": "80", "kernel_options": "",
        "breed": "redhat", "os_version": "rhel9", "arch": "x86_64", "autoinstall_snippets_dir": sdir,
        "interfaces": {"eth0": {"mac_address": "52:54:00:%02x:%02x:%02x" % (i >> 16 & 255, i >> 8 & 255, i & 255),
                                "ip_address": "10.1.%d.%d" % (255 - i // 250, 254 - i % 250), "netmask": "255.255.0.0",
                                "if_gateway": "10.1.1.1", "interface_type": "na", "static": True,
                                "dns_name": "compute-0-%d.local" % i, "management": True, "bonding_opts": "",
                                "bridge_opts": "", "interface_master": "", "virt_bridge": "", "static_routes": [],
                                "ipv6_address": "", "ipv6_secondaries": [], "ipv6_mtu": "", "ipv6_static_routes": [],
                                "ipv6_default_gateway": "", "mtu": "", "connected_mode": False, "cnames": []}},
        "gateway": "10.1.1.1", "name_servers": ["10.1.1.1"], "name_servers_search": ["local"],
        "redhat_management_key": "", "redhat_management_server": "", "mgmt_classes": [], "mgmt_parameters": {},
        "enable_ipxe": False, "run_install_triggers": False, "pxe_just_once": False, "anamon_enabled": False,
        "install_source_directory": "", "autoinstall": "sample.ks", "ipv6_autoconfiguration": False,
        "ipv6_default_device": "", "ipv6_enable": False, "hostname_nodes": "", "virt_type": "kvm",
        "template_files": {}, "boot_files": {},
    }
times = []
out = ""
for i in range(n):
    t0 = time.perf_counter()
    out = templar.render(source, table(i), None, "cheetah")
    times.append(time.perf_counter() - t0)
print(json.dumps({"times": times, "bytes": len(out), "errors": len(templar.last_errors), "sample": out[:400]}))
"""


def ensure_bench_venv() -> Path:
    python = BENCH_VENV / "bin" / "python"
    ok = python.exists() and subprocess.run(
        [str(python), "-c", "import cobbler.templar, Cheetah"], capture_output=True
    ).returncode == 0
    if not ok:
        print(f"creating the bench venv {BENCH_VENV} (Cobbler 3.3.10)…", file=sys.stderr)
        # a system Python, not this (ksserver) venv's, so the bench venv is independent of it
        base = shutil.which("python3", path="/usr/local/bin:/usr/bin") or sys.executable
        subprocess.run([base, "-m", "venv", str(BENCH_VENV)], check=True)
        pip = str(BENCH_VENV / "bin" / "pip")
        subprocess.run([pip, "install", "-q", "--no-deps", "cobbler==3.3.10"], check=True)
        subprocess.run([pip, "install", "-q", "Cheetah3", "netaddr", "distro", "pyyaml", "schema"], check=True)
    return python


def host_attrs(base: dict, i: int) -> dict:
    attrs = dict(base)
    attrs.update(
        hostname=f"compute-0-{i}", rack="0", rank=str(i), appliance="compute", membership="Compute",
        hostaddr=f"10.1.{255 - i // 250}.{254 - i % 250}", ksmac=f"52:54:00:{i >> 16 & 255:02x}:{i >> 8 & 255:02x}:{i & 255:02x}",
        os="linux", arch="x86_64", graph="default",
    )
    return attrs


def bench_ksserver(n: int, plain: bool = False) -> dict:
    from ksserver.attrs.siteattrs import parse_site_attrs
    from ksserver.config import DEMO_SITE_ATTRS, SHIPPED_GRAPH_DIR
    from ksserver.graph import Graph

    base = parse_site_attrs(DEMO_SITE_ATTRS.read_text())
    hosts = [host_attrs(base, i) for i in range(n + 1)]
    times = []
    out = ""
    for attrs in hosts:
        t0 = time.perf_counter()
        g = Graph.load([SHIPPED_GRAPH_DIR])
        out = g.profile("compute", attrs).kickstart() if plain else g.render_kickstart("compute", attrs)
        times.append(time.perf_counter() - t0)
    assert "compute-0-%d" % n in out
    return {"times": times, "bytes": len(out)}


def summary(times: list[float]) -> tuple[float, float, float]:
    warm = times[1:]
    return times[0] * 1e3, statistics.fmean(warm) * 1e3, statistics.median(warm) * 1e3


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--hosts", type=int, default=1000)
    ap.add_argument("--no-cobbler", action="store_true")
    args = ap.parse_args()

    pl = bench_ksserver(args.hosts, plain=True)
    p_cold, p_warm, p_med = summary(pl["times"])
    print(f"ksserver  plain (no kept parts), {args.hosts} hosts: cold {p_cold:8.2f} ms   "
          f"warm mean {p_warm:6.3f} ms   median {p_med:6.3f} ms")
    from ksserver.graph import Graph

    Graph._cache.clear()  # the kept parts start empty, as in a new process
    ks = bench_ksserver(args.hosts)
    k_cold, k_warm, k_med = summary(ks["times"])
    print(f"ksserver  compute profile, {args.hosts} distinct hosts: cold {k_cold:8.2f} ms   "
          f"warm mean {k_warm:6.3f} ms   median {k_med:6.3f} ms   ({ks['bytes']} bytes)")
    print(f"ratio     kept node parts / plain = {k_warm / p_warm:.3f} (what the parts earn)")
    if args.no_cobbler:
        return 0
    python = ensure_bench_venv()
    done = subprocess.run([str(python), "-c", COBBLER_SCRIPT, str(args.hosts + 1)], capture_output=True, text=True)
    if done.returncode != 0:
        print(done.stderr, file=sys.stderr)
        return 1
    cb = json.loads(done.stdout.strip().splitlines()[-1])
    c_cold, c_warm, c_med = summary(cb["times"])
    print(f"cobbler   Templar sample.ks, {args.hosts} distinct hosts: cold {c_cold:8.2f} ms   "
          f"warm mean {c_warm:6.3f} ms   median {c_med:6.3f} ms   ({cb['bytes']} bytes, {cb['errors']} template errors)")
    ratio = k_warm / c_warm
    print(f"ratio     ksserver warm / cobbler warm = {ratio:.3f}  (goal <= 0.5: {'met' if ratio <= 0.5 else 'NOT met'})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
