"""The allocator of discovery and ``ip=auto``: the original's order, its taken-name stall and
its baseip off-by-one fixed (``services.allocation``)."""

from __future__ import annotations

import ipaddress
import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from ksserver.services.allocation import addresses, names

NET = ipaddress.IPv4Network("10.1.0.0/24")


def test_down_from_the_top_filling_gaps_first():
    taken = {"10.1.0.254", "10.1.0.252"}
    assert list(itertools.islice(addresses(NET, taken), 3)) == ["10.1.0.253", "10.1.0.251", "10.1.0.250"]
    assert next(addresses(NET, set(), inc=1)) == "10.1.0.1"


def test_baseip_is_the_first_address_given():
    # the original's code handed out A+inc first while its guide said A: ksserver does what the guide says
    assert next(addresses(NET, set(), base="10.1.0.100")) == "10.1.0.100"
    assert list(itertools.islice(addresses(NET, {"10.1.0.100"}, base="10.1.0.100", inc=2), 2)) == [
        "10.1.0.102", "10.1.0.104"]


def test_a_taken_name_is_skipped_not_stalled_on():
    got = list(itertools.islice(names("compute", 0, 0, {"compute-0-0", "compute-0-2"}), 3))
    assert got == [("compute-0-1", 1), ("compute-0-3", 3), ("compute-0-4", 4)]


@settings(max_examples=300, deadline=None)
@given(prefix=st.integers(22, 30), taken=st.sets(st.integers(0, 1023), max_size=200),
       inc=st.sampled_from([-3, -1, 1, 2]))
def test_every_address_given_is_free_on_the_network_and_in_order(prefix, taken, inc):
    net = ipaddress.IPv4Network(f"10.1.0.0/{prefix}")
    used = {str(net.network_address + t) for t in taken if t < net.num_addresses}
    got = list(addresses(net, used, inc=inc))
    hosts = {str(a) for a in net.hosts()}
    assert set(got) <= hosts - used
    values = [int(ipaddress.IPv4Address(a)) for a in got]
    assert values == sorted(values, reverse=inc < 0)
    if abs(inc) == 1:  # every free address, none left out
        assert set(got) == hosts - used
