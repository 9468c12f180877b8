"""The package as a site installs it: a wheel, in a fresh virtualenv, carries its graph.

The wheel is built from this tree and installed without its dependencies into a new venv
whose only way to the dependencies is a path to this venv's site-packages (so nothing is
downloaded, and this tree's editable install is not seen). From a directory outside the
tree, the installed ``ksserver`` renders the frontend's kickstart from the demo site.attrs.
"""

from __future__ import annotations

import subprocess
import sys
import sysconfig
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _run(*cmd, **kw) -> subprocess.CompletedProcess:
    done = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, **kw)
    assert done.returncode == 0, f"{' '.join(map(str, cmd))} failed:\n{done.stdout}\n{done.stderr}"
    return done


def test_an_installed_wheel_renders_a_profile_from_its_own_graph(tmp_path):
    wheels = tmp_path / "wheels"
    _run(sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "-w", wheels, ROOT)
    wheel = next(wheels.glob("ksserver-*.whl"))
    venv = tmp_path / "venv"
    _run(sys.executable, "-m", "venv", "--without-pip", venv)
    py = venv / "bin" / "python"
    site = Path(_run(py, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])").stdout.strip())
    (site / "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    _run(sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", site, wheel)
    where = _run(py, "-c", "import ksserver, ksserver.config as c; print(ksserver.__file__); print(c.SHIPPED_GRAPH_DIR)",
                 cwd=tmp_path).stdout.split()
    assert where[0].startswith(str(site)) and where[1].startswith(str(site))
    assert (Path(where[1]) / "graphs" / "default").is_dir()
    env = {"PATH": "/usr/bin:/bin", "KSSERVER_HOME": str(tmp_path / "home")}
    demo = site / "ksserver" / "data" / "demo-site.attrs"
    cli = "import sys; from ksserver.cli import main; sys.argv[0] = \"ksserver\"; main()"
    text = _run(py, "-c", cli, "list", "node", "xml", "server", f"attrs={demo}", "format=kickstart",
                cwd=tmp_path, env=env).stdout
    assert text.startswith("#") and "\n%packages" in text and "\n%post" in text
    # the same text as this tree renders: the wheel lacks nothing the graph reads
    mine = _run(sys.executable, "-c", cli, "list", "node", "xml", "server", f"attrs={demo}",
                "format=kickstart", cwd=tmp_path, env=env).stdout
    assert text == mine
