"""Pure VM allocation rules: MACs, VLANs, placement, names, partitions, disk specs."""

import pytest

from ksserver.errors import KsError
from ksserver.vm import (
    vlan_devices,
    MAC_MASK,
    DiskSpec,
    choose_vlan,
    choose_vm_name,
    default_disk_spec,
    default_save_path,
    format_disk_spec,
    format_mac,
    largest_partition,
    mac_base,
    mac_matches,
    next_free_vlan,
    next_macs,
    parse_disk_spec,
    parse_mac,
    parse_size_mb,
    round_robin,
    vm_name,
)

# --- MAC base -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "ip, base",
    [
        ("137.110.119.114", "72:77:6e:80:00:00"),
        ("137.110.119.117", "76:77:6e:40:00:00"),
        ("137.110.119.55", "36:77:6e:c0:00:00"),
        ("137.110.119.118", "76:77:6e:80:00:00"),
    ],
)
def test_mac_base_seed_examples(ip, base):
    assert mac_base(ip) == base


def test_mac_base_is_zero_padded_not_the_originals_unpadded_form():
    # the original printed 9a:58:ca:0:00:00 for such an address
    assert mac_base("10.202.88.152") == "9a:58:ca:00:00:00"
    assert mac_base("1.2.3.4") == "06:03:02:00:00:00"


@pytest.mark.parametrize("d", range(256))
def test_mac_base_is_unicast_and_locally_administered(d):
    first = int(mac_base(f"10.1.2.{d}")[:2], 16)
    assert first & 0b01 == 0  # multicast clear
    assert first & 0b10 == 0b10  # locally administered set


def test_mac_base_keeps_all_bits_of_d():
    # the two low bits displaced from octet 1 live in the top of octet 4: no two
    # frontends that differ only in d share a base
    bases = {mac_base(f"10.1.2.{d}") for d in range(256)}
    assert len(bases) == 256


@pytest.mark.parametrize("bad", ["", "1.2.3", "256.1.1.1", "fe80::1", "frontend"])
def test_mac_base_rejects_bad_ips(bad):
    with pytest.raises(KsError, match="invalid IPv4"):
        mac_base(bad)


def test_mac_parse_format_round_trip():
    assert parse_mac("76:77:6E:80:0:1") == 0x76776E800001
    assert format_mac(0x76776E800001) == "76:77:6e:80:00:01"
    for bad in ["76:77:6e:80:00", "76:77:6e:80:00:zz", "76:77:6e:80:00:100"]:
        with pytest.raises(KsError, match="invalid MAC"):
            parse_mac(bad)


def test_mac_matches_mask():
    base = "76:77:6e:80:00:00"
    assert MAC_MASK == "ff:ff:ff:c0:00:00"
    assert mac_matches("76:77:6e:bf:ff:ff", base)
    assert not mac_matches("76:77:6e:c0:00:00", base)
    assert not mac_matches("76:77:6e:40:00:00", base)


# --- next MACs ------------------------------------------------------------------------


def test_next_macs_empty_block_starts_at_base():
    assert next_macs("76:77:6e:80:00:00", []) == ["76:77:6e:80:00:00"]
    assert next_macs("76:77:6e:80:00:00", [], n=2) == ["76:77:6e:80:00:00", "76:77:6e:80:00:01"]


def test_next_macs_continue_after_the_numeric_max_of_the_block():
    in_use = [
        "76:77:6e:80:00:00",
        "76:77:6e:80:00:ff",
        "76:77:6e:80:00:02",
        "00:25:90:aa:bb:cc",  # a physical NIC: other block, ignored
        "76:77:6e:c0:00:09",  # a neighbouring cluster's block, ignored
        None,
        "",
    ]
    assert next_macs("76:77:6e:80:00:00", in_use, n=2) == ["76:77:6e:80:01:00", "76:77:6e:80:01:01"]


def test_next_macs_add_cluster_sequence():
    # frontend takes :00 and :01, computes continue upward (talk slide)
    base = mac_base("137.110.119.114")
    fe = next_macs(base, [], n=2)
    c0 = next_macs(base, fe)
    c1 = next_macs(base, fe + c0)
    assert fe + c0 + c1 == [
        "72:77:6e:80:00:00",
        "72:77:6e:80:00:01",
        "72:77:6e:80:00:02",
        "72:77:6e:80:00:03",
    ]


def test_next_macs_exhausted():
    base = "76:77:6e:80:00:00"
    assert next_macs(base, ["76:77:6e:bf:ff:fe"]) == ["76:77:6e:bf:ff:ff"]
    with pytest.raises(KsError, match="no free VM MAC"):
        next_macs(base, ["76:77:6e:bf:ff:ff"])
    with pytest.raises(KsError, match="no free VM MAC"):
        next_macs(base, ["76:77:6e:bf:ff:fe"], n=2)


def test_next_macs_zero_and_negative():
    assert next_macs("76:77:6e:80:00:00", [], n=0) == []
    with pytest.raises(KsError):
        next_macs("76:77:6e:80:00:00", [], n=-1)


# --- VLANs ----------------------------------------------------------------------------


def test_next_free_vlan():
    assert next_free_vlan([]) == 2
    assert next_free_vlan([None, 0, 1]) == 2
    assert next_free_vlan([2, 3, 5]) == 4
    assert next_free_vlan(["2", "3"]) == 4


def test_next_free_vlan_exhausted():
    with pytest.raises(KsError, match="no free vlan"):
        next_free_vlan(range(2, 4096))
    assert next_free_vlan(range(2, 4095)) == 4095


def test_choose_vlan_requested():
    assert choose_vlan([2, 3]) == 4
    assert choose_vlan([2, 3], requested=7) == 7
    assert choose_vlan([2, 3], requested="4095") == 4095
    assert choose_vlan([2], requested="") == 3


@pytest.mark.parametrize("bad", [0, 1, 4096, -3, "abc", "2.5", True, 3.5])
def test_choose_vlan_rejects_out_of_range(bad):
    with pytest.raises(KsError, match="vlan must be an integer between 2 and 4095"):
        choose_vlan([], requested=bad)


def test_choose_vlan_rejects_taken():
    with pytest.raises(KsError, match="vlan 3 is already in use"):
        choose_vlan([2, 3], requested=3)


# --- placement ------------------------------------------------------------------------


def test_round_robin_in_list_order():
    assert round_robin(["vm-container-0-0", "vm-container-0-1"], 3) == [
        "vm-container-0-0",
        "vm-container-0-1",
        "vm-container-0-0",
    ]


def test_round_robin_weighting_by_repetition():
    placed = round_robin(["a", "a", "b"], 9)
    assert placed.count("a") == 6 and placed.count("b") == 3
    assert placed[:3] == ["a", "a", "b"]


def test_round_robin_edge_cases():
    assert round_robin([], 0) == []
    with pytest.raises(KsError, match="no VM container"):
        round_robin([], 1)
    with pytest.raises(KsError):
        round_robin(["a"], -1)


# --- names ----------------------------------------------------------------------------


def test_vm_name():
    assert vm_name("hosted-vm", 0, 1, 0) == "hosted-vm-0-1-0"
    with pytest.raises(KsError):
        vm_name("", 0, 0, 0)


def test_first_vm_on_a_host_gets_slice_zero():
    assert choose_vm_name("frontend", 0, 0, [], ["bayou"]) == ("frontend-0-0-0", 0)
    assert choose_vm_name("hosted-vm", 0, 1, [None], []) == ("hosted-vm-0-1-0", 0)


def test_second_vm_on_a_host_gets_next_slice_without_the_max0_quirk():
    # the original gave a second VM of another appliance slice 0 again
    assert choose_vm_name("hosted-vm", 0, 0, [0], ["frontend-0-0-0"]) == ("hosted-vm-0-0-1", 1)
    assert choose_vm_name("hosted-vm", 0, 0, [0, 3], []) == ("hosted-vm-0-0-4", 4)


def test_slice_bumped_while_name_taken():
    existing = ["hosted-vm-0-0-0", "hosted-vm-0-0-1"]
    assert choose_vm_name("hosted-vm", 0, 0, [], existing) == ("hosted-vm-0-0-2", 2)


def test_explicit_slice_or_name():
    assert choose_vm_name("hosted-vm", 0, 0, [0], [], slice_=5) == ("hosted-vm-0-0-5", 5)
    assert choose_vm_name("hosted-vm", 0, 0, [0], [], name="vi-1") == ("vi-1", None)
    with pytest.raises(KsError, match=r"nodename \(hosted-vm-0-0-0\) is already in the database"):
        choose_vm_name("hosted-vm", 0, 0, [], ["hosted-vm-0-0-0"], slice_=0)
    with pytest.raises(KsError, match=r"nodename \(vi-1\) is already"):
        choose_vm_name("hosted-vm", 0, 0, [], ["vi-1"], name="vi-1")
    with pytest.raises(KsError):
        choose_vm_name("hosted-vm", 0, 0, [], [], slice_=-1)


# --- partitions -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, mb",
    [
        ("36.0GB", 36864.0),
        ("1.2TB", 1.2 * 1024 * 1024),
        ("512MB", 512.0),
        ("2048", 2048.0),
        (4096, 4096.0),
        ("100KB", 100 / 1024),
        (" 10 gb ", 10240.0),
        ("10G", 10240.0),
        ("lots", None),
        ("", None),
        (None, None),
    ],
)
def test_parse_size_mb(text, mb):
    assert parse_size_mb(text) == (pytest.approx(mb) if mb is not None else None)


def test_largest_partition_compares_units_not_strings():
    parts = [
        ("sda1", "/", "16.0GB"),
        ("sda2", "/var", "4.0GB"),
        ("sda3", "swap", "9.0TB"),
        ("sda4", "", "8.0TB"),
        ("sda5", "state", "7.0TB"),  # not absolute
        ("sdb1", "/state/partition1", "1.2TB"),
        ("sdc1", "/export", "900GB"),
        ("sdd1", "/tmp", "999999"),  # plain MB: ~976 GB
    ]
    assert largest_partition(parts) == "/state/partition1"


def test_largest_partition_accepts_mappings_and_objects():
    class P:
        def __init__(self, device, mountpoint, size):
            self.device, self.mountpoint, self.size = device, mountpoint, size

    assert largest_partition([{"device": "sda1", "mountpoint": "/a", "size": "1GB"}, P("sdb1", "/b", "2GB")]) == "/b"


def test_largest_partition_none_and_ties():
    assert largest_partition([]) is None
    assert largest_partition([("sda2", "swap", "2GB"), ("sda1", "/x", "junk")]) is None
    assert largest_partition([("b", "/state/partition2", "10GB"), ("a", "/state/partition1", "10240MB")]) == "/state/partition1"
    with pytest.raises(KsError):
        largest_partition([("only-two", "/")])


# --- disk specs -----------------------------------------------------------------------


def test_parse_disk_spec_file():
    d = parse_disk_spec("file:/state/partition1/xen/disks/hosted-vm-0-0-0.hda,hda,w")
    assert d == DiskSpec("file", "/state/partition1/xen/disks", "hosted-vm-0-0-0.hda", "hda", "w")
    assert d.path == "/state/partition1/xen/disks/hosted-vm-0-0-0.hda"


def test_parse_disk_spec_tap_aio_and_phy():
    assert parse_disk_spec("tap:aio:/d/x.img,hdb,w") == DiskSpec("tap:aio", "/d", "x.img", "hdb", "w")
    phy = parse_disk_spec("phy:sdb1,hdc,w")
    assert phy == DiskSpec("phy", "", "sdb1", "hdc", "w")
    assert phy.path == "/dev/sdb1"
    assert parse_disk_spec("phy:/dev/vg/lv,xvda,w").path == "/dev/vg/lv"


@pytest.mark.parametrize(
    "spec",
    [
        "file:/state/partition1/xen/disks/x.hda,hda,w",
        "tap:aio:/d/x.img,hdb,w",
        "phy:sdb1,hdc,w",
        "file:/state/partition1/kvm/disks/y.vda,vda,virtio",
        "qcow2:/var/lib/img/z.qcow2,vda,virtio",
    ],
)
def test_disk_spec_round_trip(spec):
    assert format_disk_spec(parse_disk_spec(spec)) == spec


@pytest.mark.parametrize(
    "bad", ["", "file:/x,hda", "/x,hda,w", "nfs:/x,hda,w", "file:/x/,hda,w", "file:/x,,w"]
)
def test_parse_disk_spec_rejects(bad):
    with pytest.raises(KsError):
        parse_disk_spec(bad)


def test_default_disk_and_save_paths():
    assert format_disk_spec(default_disk_spec("/state/partition1", "hosted-vm-0-0-0")) == (
        "file:/state/partition1/xen/disks/hosted-vm-0-0-0.hda,hda,w"
    )
    assert format_disk_spec(default_disk_spec("/state/partition1", "c", kind="kvm")) == (
        "file:/state/partition1/kvm/disks/c.vda,vda,virtio"
    )
    assert default_save_path("/state/partition1", "compute-0-0-0") == (
        "/state/partition1/xen/disks/compute-0-0-0.saved"
    )
    with pytest.raises(KsError, match=r"could not find a partition on host \(vm-container-0-0\)"):
        default_disk_spec(None, "x", host="vm-container-0-0")
    with pytest.raises(KsError):
        default_save_path("", "x")


@pytest.mark.parametrize("parent, vlan, expected", [
    ("eth0", 2, ("eth0.2", "xenbr.eth0.2")),  # the original's names
    ("eth0", "4095", ("eth0.4095", "xenbr.eth0.4095")),
    ("enp129s0f0", 2, ("enp129s0f0.2", "vmbr2")),  # the bridge's name would pass 15 characters
    ("enp129s0f0np0", 300, ("vl300", "vmbr300")),
])
def test_vlan_devices_fit_linux_interface_names(parent, vlan, expected):
    assert vlan_devices(parent, vlan) == expected
    assert all(len(name) <= 15 for name in vlan_devices(parent, vlan))


@pytest.mark.parametrize("parent, vlan, message", [
    ("eth0", 1, "vlan must be an integer between 2 and 4095"),
    ("", 2, "invalid network device name"),
    ("eth0; reboot", 2, "invalid network device name"),
    ("a" * 16, 2, "invalid network device name"),
])
def test_vlan_devices_refuse_what_cannot_be_a_link(parent, vlan, message):
    with pytest.raises(KsError, match=message):
        vlan_devices(parent, vlan)
