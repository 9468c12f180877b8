"""Each module registers the commands of one area."""

from ksserver.cli.commands import attrs, graph, install, inventory, setup, vms  # noqa: F401
