import json

from ksserver.table import format_json, format_table


def test_original_layout_pads_every_cell_and_dashes_empty_ones():
    text = format_table(
        ["host", "subnet", "iface", "mac", "vlan"],
        [["h1", "private", "eth0", "76:77:6e:40:00:00", 2], ["h1", "public", "eth1", None, None]],
    )
    # one owner: owner column and the header's first word are dropped (docs/original-behaviour.md §7.3)
    assert text == (
        "SUBNET  IFACE MAC               VLAN\n"
        "private eth0  76:77:6e:40:00:00 2   \n"
        "public  eth1  ----------------- ----\n"
    )


def test_owner_kept_when_asked_and_continuation_rows():
    text = format_table(["frontend", "client nodes", "type"], [["a.org", "", "VM"], ["", "hosted-vm-0-0-0", "VM"]], trim_owner=False)
    assert text == (
        "FRONTEND CLIENT NODES    TYPE\n"
        "a.org:   --------------- VM  \n"
        ":        hosted-vm-0-0-0 VM  \n"
    )


def test_no_rows_prints_nothing():
    assert format_table(["host", "attr"], []) == ""


def test_json_keys_are_lower_cased_columns_and_empty_cells_null():
    data = json.loads(format_json(["VM-HOST", "CLIENT NODES", "MEM"], [["h", "", 1024]]))
    assert data == [{"vm_host": "h", "client_nodes": None, "mem": 1024}]
