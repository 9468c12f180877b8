"""VM names: ``<appliance>-<rack>-<rank>-<slice>``, rack/rank of the *physical* host.

The slice numbers VMs on one physical host, so ``hosted-vm-0-1-0`` is the first VM on
``vm-container-0-1``.  Unlike the original, a host whose only VM has slice 0 gives the
next VM slice 1 (the original treated max=0 as "no VMs" and reused slice 0 for another
appliance).
"""

from __future__ import annotations

from collections.abc import Iterable

from ksserver.errors import KsError


def vm_name(appliance: str, rack: int | str, rank: int | str, slice_: int | str) -> str:
    """Format one VM name."""
    if not str(appliance).strip():
        raise KsError("VM appliance name must not be empty")
    return f"{appliance}-{rack}-{rank}-{slice_}"


def choose_vm_name(
    appliance: str,
    rack: int | str,
    rank: int | str,
    slices_on_host: Iterable[int | None],
    existing_names: Iterable[str],
    *,
    slice_: int | None = None,
    name: str | None = None,
) -> tuple[str, int | None]:
    """Name and slice for a new VM on a physical host.

    ``slices_on_host`` are the slices of the VMs already on that host (``None`` ignored),
    ``existing_names`` every host name in the inventory.  Without an explicit ``name`` or
    ``slice_`` the slice is one past the highest used on the host (0 for an empty host),
    bumped while the name is taken.  An explicit name/slice that clashes is an error.
    Returns ``(name, slice)``; slice is ``None`` only when an explicit name was given
    without a slice.
    """
    taken = {str(n) for n in existing_names}
    if name is not None:
        name = str(name).strip()
        if not name:
            raise KsError("VM name must not be empty")
        if name in taken:
            raise KsError(f"nodename ({name}) is already in the database")
        return name, slice_
    if slice_ is not None:
        if int(slice_) < 0:
            raise KsError(f"slice must not be negative ({slice_})")
        candidate = vm_name(appliance, rack, rank, int(slice_))
        if candidate in taken:
            raise KsError(f"nodename ({candidate}) is already in the database")
        return candidate, int(slice_)
    used = [int(s) for s in slices_on_host if s is not None]
    s = max(used) + 1 if used else 0
    while vm_name(appliance, rack, rank, s) in taken:
        s += 1
    return vm_name(appliance, rack, rank, s), s
