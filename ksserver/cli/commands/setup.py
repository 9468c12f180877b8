"""``init``: create or upgrade the schema and set up the frontend."""

from ksserver.cli.results import lines
from ksserver.services import setup


def init(site_attrs_file=None):
    done, revision = setup.init(site_attrs_file)
    return lines(done or ["nothing to do"]) + f"schema at revision {revision}\n"
