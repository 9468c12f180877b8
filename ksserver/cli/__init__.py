"""The command line: parses arguments and prints; it holds no SQL and no rules.

Every command is registered in ``ksserver.cli.commands`` with the verb-noun grammar of
``ksserver.cli.framework``; ``main`` is the Click group installed as ``ksserver``.
"""

from ksserver.cli import commands  # noqa: F401  (registers every command)
from ksserver.cli.framework import VerbNounGroup

main = VerbNounGroup(
    name="ksserver",
    help="Kickstart provisioning server for clusters. Commands read `ksserver VERB NOUN… [ARGS] [key=value…]`; "
    "`ksserver list-host-attr` is the same as `ksserver list host attr`.",
    context_settings={"ignore_unknown_options": True, "allow_extra_args": True},
)
