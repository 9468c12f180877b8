"""Kept node parts (``Graph.render_kickstart``) give exactly the text of the plain path
(every block parsed and generated for this host: ``profile(...).kickstart()``), whatever the
values and whichever hosts came before — property-tested over arbitrary values, conditions,
files whose owners earlier blocks set, and scripts shipped base64-encoded."""

from __future__ import annotations

import pytest
from graph_helpers import demo_attrs
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from ksserver.errors import KsError
from ksserver.graph import Graph

# what XML 1.0 can carry (lxml refuses the rest, on both paths alike)
_XML_CHARS = st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00\ufffe\uffff")
# mostly a few values, so that hosts share some and differ in others (what a kept part
# must tell apart), sometimes anything at all
VALUES = st.one_of(
    st.sampled_from(["", "yes", "no", "compute-0-1", "%post", "KSSERVER-EOF", "a b"]),
    st.sampled_from(["", "yes", "no", "compute-0-1", "%post", "KSSERVER-EOF", "a b"]),
    st.sampled_from(["", "yes", "no", "compute-0-1", "%post", "KSSERVER-EOF", "a b"]),
    st.text(_XML_CHARS, max_size=20),
)
HOST = st.fixed_dictionaries({
    "hostname": VALUES, "tz": VALUES, "flag": VALUES, "arch": st.sampled_from(["x86_64", "i386", "aarch64"]),
    "owner": st.sampled_from(["root", "nobody.nogroup", "bad owner!"]),
})


@pytest.fixture(scope="module")
def graph(tmp_path_factory):
    from graph_helpers import GraphDir

    gdir = GraphDir(tmp_path_factory.mktemp("parts"))
    gdir.node("root", """
        <main><timezone>&tz;</timezone></main>
        <package cond="flag">flagged</package>
        <post arch="x86_64">echo x86 &hostname;</post>
        <post><file name="/etc/shared" owner="&owner;" perms="0644">&hostname;</file></post>
    """)
    gdir.node("zleaf", """
        <post cond="hostname == 'compute-0-1'">echo one &tz;</post>
        <post>
%post
echo &hostname;
<file name="/etc/shared" mode="append">more &flag;</file>
        </post>
        <post cond="flag">echo &flag;</post>
    """)
    gdir.node("yother", "<post>echo &tz; &hostname;</post>")
    gdir.edges('<edge from="root" to="zleaf"/><edge from="root" to="yother" cond="flag"/>')
    return Graph.load([gdir.root])


def _both(g, attrs):
    try:
        plain = g.profile("root", attrs).kickstart()
    except KsError as err:
        plain = err.message
    try:
        kept = g.render_kickstart("root", attrs)
    except KsError as err:
        kept = err.message
    return plain, kept


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(hosts=st.lists(HOST, min_size=1, max_size=8))
@example(hosts=[  # the same but for what an earlier block made of a file a later one appends to
    {"hostname": "h", "tz": "UTC", "flag": "", "arch": "x86_64", "owner": "root"},
    {"hostname": "h", "tz": "UTC", "flag": "", "arch": "x86_64", "owner": "nobody.nogroup"},
])
def test_kept_parts_give_the_plain_text(graph, hosts):
    for attrs in hosts:
        plain, kept = _both(graph, attrs)
        assert kept == plain


def test_the_shipped_graph_the_same_for_many_hosts(shipped):
    g = Graph.load(shipped)
    for i in range(50):
        attrs = demo_attrs("compute", hostname=f"compute-0-{i}", rank=str(i), hostaddr=f"10.1.255.{254 - i}",
                           x11="on" if i % 3 == 0 else "off")
        assert g.render_kickstart("compute", attrs) == g.profile("compute", attrs).kickstart()
