"""Where ksserver keeps its state, read from the environment at call time (never at import).

``KSSERVER_HOME`` is the state directory (default ``~/.ksserver``);
``KSSERVER_DATABASE_URL`` an SQLAlchemy URL (default an SQLite file in the home);
``KSSERVER_GRAPH`` a colon-separated list of site graph directories searched after the
shipped one.
"""

from __future__ import annotations

import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
SHIPPED_GRAPH_DIR = PACKAGE_DIR / "data" / "graph"  # inside the package: a wheel carries it
DEMO_SITE_ATTRS = PACKAGE_DIR / "data" / "demo-site.attrs"


def home() -> Path:
    """The state directory (made by ``ksserver init``, readable by its owner only: it holds
    the database, with the root password hash and live install tokens)."""
    return Path(os.environ.get("KSSERVER_HOME") or Path.home() / ".ksserver")


def make_home() -> Path:
    path = home()
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path


def database_url() -> str:
    url = os.environ.get("KSSERVER_DATABASE_URL")
    if url:
        return url
    return f"sqlite:///{home() / 'ksserver.db'}"


def graph_dirs() -> list[Path]:
    """The shipped graph first, then each site directory in the order given."""
    dirs = [SHIPPED_GRAPH_DIR]
    for part in os.environ.get("KSSERVER_GRAPH", "").split(":"):
        if part.strip():
            dirs.append(Path(part.strip()))
    return dirs
