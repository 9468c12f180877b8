"""Create or upgrade the schema with Alembic; safe to run any number of times."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory

from ksserver.db.session import create_database, engine

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def _config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(url: str | None = None) -> str:
    """Bring the database to the newest revision (made first when it is an SQLite file
    not there yet); returns that revision."""
    create_database(url)
    eng = engine(url, creating=True)
    cfg = _config(str(eng.url.render_as_string(hide_password=False)))
    with eng.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
    return head()


def head() -> str:
    return ScriptDirectory(str(MIGRATIONS)).get_current_head()



def autogenerate(url: str, message: str, rev_id: str) -> None:  # pragma: no cover - dev tool
    """Write a new migration from the models (developers only; review what it writes)."""
    eng = engine(url)
    cfg = _config(url)
    with eng.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
        command.revision(cfg, message=message, autogenerate=True, rev_id=rev_id)
