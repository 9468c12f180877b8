"""Attributes: the one precedence order and resolution with its source.

Rule: a host's attribute is the value of the most specific level that defines it —
host > appliance > OS > global — beside intrinsic values computed from the host record
(hostname, rack, rank, appliance, membership, hostaddr, ksmac) that no level may set.
Every resolved value carries the letter of the level it came from (``H A O G I``).
Pure: no database, web or CLI imports.
"""

from ksserver.attrs.precedence import (
    BulkResolver,
    HOST_ONLY,
    INTRINSIC,
    LEVELS,
    Level,
    Resolved,
    explain,
    resolve,
)
from ksserver.attrs import defaults
from ksserver.attrs.names import check_name, check_settable, check_value
from ksserver.attrs.siteattrs import format_site_attrs, parse_site_attrs

__all__ = [
    "BulkResolver",
    "HOST_ONLY",
    "INTRINSIC",
    "LEVELS",
    "Level",
    "Resolved",
    "check_name",
    "defaults",
    "check_settable",
    "check_value",
    "explain",
    "format_site_attrs",
    "parse_site_attrs",
    "resolve",
]
