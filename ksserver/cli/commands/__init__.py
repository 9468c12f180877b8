"""Each module registers the commands of one area."""

from ksserver.cli.commands import attrs, inventory, setup  # noqa: F401
