"""``python -m ksserver``: the CLI (how a job of the API runs a command in a process of its own)."""

import sys

from ksserver.cli import main

sys.exit(main())
