"""The one kickstart path's cache: keyed by what built the text, refilled after every change.

``Kickstarts.warm`` renders the kickstart of every host set to install whose cached text is
not current; what it keeps is what ``list host profile`` prints at that moment.
"""

from __future__ import annotations

import json
from contextlib import nullcontext

import pytest
from server_helpers import add_compute

from ksserver.errors import Forbidden
from ksserver.services.install import Ask
from ksserver.services.kickstart import Kickstarts


def _slot(_limit):
    return nullcontext()


def _cluster(ks, n: int) -> list[str]:
    names = []
    for i in range(n):
        name = f"compute-0-{i}"
        add_compute(ks, name, f"10.1.255.{254 - i}", f"00:16:3e:00:00:{i:02x}")
        names.append(name)
    ks.ok("set", "host", "boot", *names, "action=install")
    return names


def test_warm_renders_again_after_every_change(ks, monkeypatch):
    monkeypatch.setenv("KSSERVER_DATABASE_URL", ks.url)
    names = _cluster(ks, 3)
    k = Kickstarts(ks.url)
    assert k.warm() == 3
    assert k.warm() == 0  # nothing changed: nothing to render
    # the bug this replaces: after a change, rendering ahead rendered nothing again
    ks.ok("set", "attr", "Kickstart_Timezone", "Europe/Paris")
    assert k.warm() == 3
    for i, name in enumerate(names):
        answer = k.answer(Ask(f"10.1.255.{254 - i}"), _slot)
        assert answer.host == name and answer.stage == "profile"
        assert "timezone Europe/Paris" in answer.text
        assert answer.text == ks.ok("list", "host", "profile", name)


def test_a_node_file_edit_is_a_new_text_for_every_host(ks, monkeypatch, tmp_path):
    site = tmp_path / "site"
    (site / "graphs" / "default").mkdir(parents=True)
    (site / "nodes").mkdir()
    (site / "graphs" / "default" / "extra.xml").write_text('<graph><edge from="compute" to="extra"/></graph>\n')
    node = site / "nodes" / "extra.xml"
    node.write_text("<kickstart><post>echo one</post></kickstart>\n")
    monkeypatch.setenv("KSSERVER_GRAPH", str(site))
    monkeypatch.setenv("KSSERVER_DATABASE_URL", ks.url)
    _cluster(ks, 2)
    k = Kickstarts(ks.url)
    assert k.warm() == 2
    assert "echo one" in k.answer(Ask("10.1.255.254"), _slot).text
    node.write_text("<kickstart><post>echo two</post></kickstart>\n")
    assert k.warm() == 2
    text = k.answer(Ask("10.1.255.253"), _slot).text
    assert "echo two" in text and "echo one" not in text


def test_a_slot_is_asked_for_only_once_the_host_is_known(ks):
    _cluster(ks, 1)
    asked = []

    def slot(limit):
        asked.append(limit)
        return nullcontext()

    k = Kickstarts(ks.url)
    with pytest.raises(Forbidden, match="unknown host 10.9.9.9"):
        k.answer(Ask("10.9.9.9"), slot)
    assert asked == []
    ks.ok("set", "attr", "max_concurrent_profiles", "7")
    k.answer(Ask("10.1.255.254"), slot)
    assert asked == [7]


def test_who_asked_is_known_only_while_the_inventory_stands(ks):
    """An address that named one host names another once the inventory says so, and a
    token that was good is refused once revoked: nothing kept outlives a change."""
    _cluster(ks, 2)
    k = Kickstarts(ks.url)
    assert k.answer(Ask("10.1.255.254"), _slot).host == "compute-0-0"
    assert k.answer(Ask("10.1.255.254"), _slot).host == "compute-0-0"  # known now
    ks.ok("set", "host", "interface", "ip", "compute-0-0", "eth0", "10.1.255.200")
    ks.ok("set", "host", "interface", "ip", "compute-0-1", "eth0", "10.1.255.254")
    answer = k.answer(Ask("10.1.255.254"), _slot)
    assert answer.host == "compute-0-1" and answer.text == ks.ok("list", "host", "profile", "compute-0-1")
    token = json.loads(ks.ok("list", "host", "boot", "compute-0-0", "showtoken=yes", "--json"))[0]["token"]
    assert k.answer(Ask("127.0.0.1", token=token), _slot).host == "compute-0-0"
    ks.ok("set", "host", "boot", "compute-0-0", "action=os")
    with pytest.raises(Forbidden, match="unknown or revoked install token"):
        k.answer(Ask("127.0.0.1", token=token), _slot)
