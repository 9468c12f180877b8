"""``init``: create or upgrade the schema and set up the frontend."""

from ksserver.cli.framework import command
from ksserver.services import setup, transaction


@command("init", "site_attrs_file?")
def init(site_attrs_file=None):
    """Create or upgrade the database and set up this frontend from a site.attrs file
    (the demo site's when none is given). Safe to run again: it changes only what is new."""
    site = setup.read_site_attrs(site_attrs_file)
    revision = setup.upgrade_schema()
    with transaction() as session:
        done = setup.initialise(session, site, replace_attrs=site_attrs_file is not None)
    lines = done or ["nothing to do"]
    return "".join(f"{line}\n" for line in lines) + f"schema at revision {revision}\n"
