"""One fixture that builds a throw-away ksserver home, on SQLite and on PostgreSQL.

Every test that touches the database runs once per backend. PostgreSQL is a real server
started here for the session (as the ``postgres`` user when run as root, since PostgreSQL
refuses root), on a private port and directory; if it cannot start, the run fails — no
test is skipped for want of a server. ``KSSERVER_TEST_PG_URL`` points the suite at an
existing server instead (a URL to a database the suite may create databases from).
"""

from __future__ import annotations

import contextlib
import glob
import io
import itertools
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest

BACKENDS = ["sqlite", "postgresql"]
# A resident command process started by a test's console-script run stops soon after.
os.environ.setdefault("KSSERVER_RESIDENT_IDLE", "30")
_counter = itertools.count()


from ports import free_port  # noqa: E402,F401  (the tests import it from here too)


def _pg_bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if found:
        return found[-1]
    path = shutil.which(name)
    if not path:
        pytest.fail(f"PostgreSQL's {name} is not installed (Debian package postgresql); the suite needs it")
    return path


@dataclass
class PgServer:
    admin_url: str  # psycopg conninfo for CREATE/DROP DATABASE
    sa_base: str  # SQLAlchemy URL without the database name
    sockdir: str | None = None  # its Unix socket's directory (reachable from any network namespace)
    port: int | None = None

    def sql(self, statement: str) -> None:
        import psycopg

        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(statement)


@pytest.fixture(scope="session")
def pg_server():
    external = os.environ.get("KSSERVER_TEST_PG_URL")
    if external:
        base, _, _db = external.rpartition("/")
        yield PgServer(external.replace("postgresql+psycopg://", "postgresql://"), base)
        return
    root = os.geteuid() == 0
    workdir = Path(tempfile.mkdtemp(prefix="ksserver-pg-"))
    data, sock = workdir / "data", workdir / "sock"
    sock.mkdir()
    prefix: list[str] = []
    if root:
        prefix = ["runuser", "-u", "postgres", "--"]
        shutil.chown(workdir, "postgres")
        shutil.chown(sock, "postgres")
        os.chmod(workdir, 0o755)
    port = free_port()
    log = workdir / "server.log"
    subprocess.run(
        prefix + [_pg_bin("initdb"), "-D", str(data), "-U", "ksserver", "-A", "trust", "-E", "UTF8", "--no-sync"],
        check=True,
        capture_output=True,
    )
    opts = f"-p {port} -k {sock} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
    start = subprocess.run(
        prefix + [_pg_bin("pg_ctl"), "-D", str(data), "-o", opts, "-l", str(log), "-w", "-t", "60", "start"],
        capture_output=True,
        text=True,
    )
    if start.returncode != 0:
        pytest.fail(f"PostgreSQL did not start: {start.stdout} {start.stderr} {log.read_text() if log.exists() else ''}")
    try:
        yield PgServer(
            f"postgresql://ksserver@127.0.0.1:{port}/postgres",
            f"postgresql+psycopg://ksserver@127.0.0.1:{port}",
            str(sock),
            port,
        )
    finally:
        subprocess.run(prefix + [_pg_bin("pg_ctl"), "-D", str(data), "-m", "immediate", "stop"], capture_output=True)
        shutil.rmtree(workdir, ignore_errors=True)


@dataclass
class Result:
    exit_code: int
    stdout: str
    stderr: str

    @property
    def lines(self) -> list[str]:
        return self.stdout.splitlines()


class Home:
    """A ksserver home: its directory, its database URL, and the CLI run against them.

    ``run`` calls the CLI's dispatcher in-process with this home's environment and the
    home's ``power`` (how VM commands reach hypervisors: ``None`` is libvirt, as in
    production; the VM tests set a ``power.Power`` with their fakes)."""

    def __init__(self, path: Path, url: str, backend: str):
        self.path, self.url, self.backend = path, url, backend
        self.power = None

    def env(self) -> dict[str, str]:
        return {"KSSERVER_HOME": str(self.path), "KSSERVER_DATABASE_URL": self.url}

    def run(self, *args: str) -> Result:
        from ksserver.cli import main

        out, err = io.BytesIO(), io.BytesIO()
        stdout = io.TextIOWrapper(out, encoding="utf-8", write_through=True)
        stderr = io.TextIOWrapper(err, encoding="utf-8", write_through=True)
        saved = {k: os.environ.get(k) for k in self.env()}
        os.environ.update(self.env())
        try:
            with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
                code = main(list(args), power=self.power)
        finally:
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
        stdout.flush()
        stderr.flush()
        return Result(code, out.getvalue().decode("utf-8", "replace"), err.getvalue().decode("utf-8", "replace"))

    def ok(self, *args: str) -> str:
        res = self.run(*args)
        assert res.exit_code == 0, f"ksserver {' '.join(args)} failed: {res.stderr}"
        return res.stdout

    def fails(self, *args: str) -> str:
        """The one-line error of a command that must fail with status 1."""
        res = self.run(*args)
        assert res.exit_code == 1, f"ksserver {' '.join(args)} should fail, got {res.exit_code}: {res.stdout}"
        lines = res.stderr.splitlines()
        assert len(lines) == 1 and lines[0].startswith("error - "), res.stderr
        return lines[0]


_templates: dict[str, str] = {}


def _make_home(request, tmp_path, pg_server_factory, initialise: bool, dirname: str = "home",
               backend: str | None = None) -> Home:
    from ksserver.db.session import dispose_all

    backend = backend or request.param
    home = tmp_path / dirname
    home.mkdir()
    if backend == "sqlite":
        url = f"sqlite:///{home / 'ksserver.db'}"
        if initialise:
            key = "sqlite"
            if key not in _templates:
                tpl = Path(tempfile.mkdtemp(prefix="ksserver-tpl-")) / "ksserver.db"
                Home(tpl.parent, f"sqlite:///{tpl}", backend).ok("init")
                dispose_all()
                _templates[key] = str(tpl)
            shutil.copy(_templates[key], home / "ksserver.db")
        else:  # an empty database: the file is there, the schema is not
            (home / "ksserver.db").touch(mode=0o600)
    else:
        pg = pg_server_factory()
        name = f"ks_{os.getpid()}_{next(_counter)}"
        if initialise:
            if "pg" not in _templates:
                pg.sql("CREATE DATABASE ks_template")
                Home(home, f"{pg.sa_base}/ks_template", backend).ok("init")
                dispose_all()
                _templates["pg"] = "ks_template"
            pg.sql(f"CREATE DATABASE {name} TEMPLATE ks_template")
        else:
            pg.sql(f"CREATE DATABASE {name}")
        url = f"{pg.sa_base}/{name}"
        request.addfinalizer(lambda: (dispose_all(), pg.sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")))
    request.addfinalizer(dispose_all)
    return Home(home, url, backend)


@pytest.fixture(params=BACKENDS)
def ks(request, tmp_path):
    """A home set up by `ksserver init` with the demo site.attrs."""
    return _make_home(request, tmp_path, lambda: request.getfixturevalue("pg_server"), True)


@pytest.fixture
def ks_factory_home(request, ks, tmp_path):
    """More homes like ``ks`` (same backend), each set up by `ksserver init`: a test that
    moves data from one home to another."""
    made = itertools.count(2)
    return lambda: _make_home(request, tmp_path, lambda: request.getfixturevalue("pg_server"), True,
                              f"home{next(made)}", ks.backend)


@pytest.fixture(params=BACKENDS)
def ks_empty(request, tmp_path):
    """A home with an empty database (no schema)."""
    return _make_home(request, tmp_path, lambda: request.getfixturevalue("pg_server"), False)

