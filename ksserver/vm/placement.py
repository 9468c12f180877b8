"""Where the compute VMs of a new cluster go: round robin over the container list.

Repeating a container name in the list weights it (``a a b`` puts two VMs on ``a`` for
every one on ``b``), exactly as the original ``container-hosts=`` did.
"""

from __future__ import annotations

from collections.abc import Sequence

from ksserver.errors import KsError


def round_robin(containers: Sequence[str], n: int) -> list[str]:
    """Container for each of ``n`` computes, in list order, wrapping around."""
    if n < 0:
        raise KsError(f"number of computes must not be negative ({n})")
    if n == 0:
        return []
    if not containers:
        raise KsError("no VM container to place the compute VMs on")
    return [containers[i % len(containers)] for i in range(n)]
