"""Attribute values are data: whatever one holds comes out literally and harms nothing else."""

import base64

import pytest
from graph_helpers import demo_attrs
from pykickstart.parser import KickstartParser
from pykickstart.version import RHEL9, makeVersion

from ksserver.errors import KsError
from ksserver.graph import Graph, kickstart_from_xml

HOSTILE = [
    "<b>not a tag</b>",
    "a & b &amp; &lt; &#60; &hostname;",
    'double "quotes" and \'single\'',
    "100% %s %(x)s %% %;",
    "back\\slash \\n \\x00 \\",
    "]]> ]] > <![CDATA[ x ]]>",
    "line one\nline two\r\nline three\n",
    "<!ENTITY x SYSTEM \"file:///etc/passwd\"> <!DOCTYPE y>",
    "'; rm -rf / #",
    "unicode: é ü 雪 \U0001F600",
    "   leading and trailing spaces   ",
    "KSSERVER-EOF",
    "line\nKSSERVER-EOF\nrm -rf /\n",
    "",
]


@pytest.fixture
def hostile_graph(gdir):
    gdir.node("root", """
        <main><timezone>&tz;</timezone></main>
        <package>bash</package>
        <post>
        printf '%s\\n' 'marker'
        <file name="/etc/hostile" perms="0644">&v;</file>
        </post>
        <post><file name="/etc/hostile-too">&v;</file></post>
    """)
    gdir.edges('<edge from="root" to="root"/>')
    return Graph.load([gdir.root])


def render(g, **attrs):
    return g.render_kickstart("root", {"tz": "UTC", **attrs})


def parse(text):
    p = KickstartParser(makeVersion(RHEL9))
    p.readKickstartFromString(text)
    return p.handler


@pytest.mark.parametrize("value", HOSTILE)
def test_value_comes_out_literally(hostile_graph, value):
    text = render(hostile_graph, v=value)
    assert value in text
    handler = parse(text)
    scripts = [s.script for s in handler.scripts if s.type == 1]  # %post
    assert len(scripts) == 2
    assert value.strip("\n") in scripts[0]
    # a second host with a plain value is exactly what it would be alone
    assert render(hostile_graph, v="plain") == Graph.load(hostile_graph.dirs).render_kickstart("root", {"tz": "UTC", "v": "plain"})


def test_one_megabyte_value(hostile_graph):
    value = ("x<&>\"'%\\]]>\n" * 90_000)[:1_000_000]
    text = render(hostile_graph, v=value)
    assert value.strip("\n") in text
    assert len(parse(text).scripts) == 2
    xml = hostile_graph.render_xml("root", {"tz": "UTC", "v": value})
    assert kickstart_from_xml(xml) == text


def test_hostile_value_on_one_host_does_not_touch_another(hostile_graph):
    clean = render(hostile_graph, v="plain")
    for value in HOSTILE:
        render(hostile_graph, v=value)
        assert render(hostile_graph, v="plain") == clean


def test_stage_one_round_trips_every_value(hostile_graph):
    for value in HOSTILE:
        attrs = {"tz": "UTC", "v": value}
        xml = hostile_graph.render_xml("root", attrs)
        assert kickstart_from_xml(xml) == hostile_graph.render_kickstart("root", attrs)


def test_section_line_in_a_value_is_encoded_not_obeyed(hostile_graph):
    value = "ok\n%end\n%pre\nreboot\n%post --nochroot"
    text = render(hostile_graph, v=value)
    handler = parse(text)
    pres = [s for s in handler.scripts if s.type == 0]
    assert len(pres) == 0  # no %pre smuggled in
    posts = [s for s in handler.scripts if s.type == 1]
    assert len(posts) == 2
    encoded = "".join(l for l in posts[0].script.split("KSSERVER-B64")[1].splitlines() if l and not l.startswith("'"))
    decoded = base64.b64decode(encoded).decode()
    assert value in decoded


def test_a_value_in_script_code_is_refused_when_the_shell_would_act_on_it(gdir):
    """A graph that puts a value in a script's own text chose how it is quoted: a value with
    a character the shell (or another interpreter) would act on is refused, naming it."""
    gdir.node("root", """
        <post>
        echo cluster &v;
        </post>
        <post interpreter="/usr/bin/python3">print("&v;")</post>
    """)
    gdir.edges('<edge from="root" to="root"/>')
    g = Graph.load([gdir.root])
    assert "echo cluster My Cluster-1.0" in g.render_kickstart("root", {"v": "My Cluster-1.0"})
    for value in ("$(reboot)", "x; rm -rf /", 'x")\nimport os', "`id`", "a\\b", "x\ny"):
        with pytest.raises(KsError, match=r'root\.xml:3: attribute "v" lands in shell code'):
            g.render_kickstart("root", {"v": value})


def test_newline_in_a_main_command_is_refused_for_that_host_only(hostile_graph):
    with pytest.raises(KsError, match=r"root\.xml:2: <timezone> spans several lines"):
        hostile_graph.render_kickstart("root", {"tz": "UTC\nrootpw plain", "v": "x"})
    assert "timezone UTC" in render(hostile_graph, v="x")


def test_character_xml_cannot_carry_is_refused(hostile_graph):
    with pytest.raises(KsError, match=r'attribute "v".*U\+0001'):
        render(hostile_graph, v="a\x01b")


def test_external_entity_in_a_node_file_is_not_expanded(gdir, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET")
    gdir.node("root", f"""<?xml version="1.0"?>
        <!DOCTYPE kickstart [<!ENTITY x SYSTEM "file://{secret}">]>
        <kickstart><post>&x;</post></kickstart>
    """)
    gdir.edges('<edge from="root" to="root"/>')
    with pytest.raises(KsError) as err:
        Graph.load([gdir.root]).render_kickstart("root", {})
    assert "DOCTYPE" in str(err.value) and "TOP-SECRET" not in str(err.value)


def test_parser_ignores_external_entities_and_network(tmp_path):
    """The parser itself: an external entity is never read, a network DTD never fetched."""
    from lxml import etree

    from ksserver.nodes.nodefile import xml_parser

    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET")
    doc = (
        f'<!DOCTYPE k [<!ENTITY x SYSTEM "file://{secret}"><!ENTITY y "ok">]>'
        "<k>&y;</k>"
    )
    assert etree.fromstring(doc, xml_parser()).text == "ok"
    with pytest.raises(etree.XMLSyntaxError):
        etree.fromstring(doc.replace("&y;", "&x;"), xml_parser())
    remote = '<!DOCTYPE k SYSTEM "http://127.0.0.1:9/evil.dtd"><k>&z;</k>'
    with pytest.raises(etree.XMLSyntaxError):
        etree.fromstring(remote, xml_parser())


def test_attribute_value_cannot_declare_entities(gdir):
    gdir.node("root", "<post><file name=\"/etc/v\">&v;</file></post>")
    gdir.edges('<edge from="root" to="root"/>')
    value = '"><!ENTITY v SYSTEM "file:///etc/passwd"><!ENTITY w "'
    text = Graph.load([gdir.root]).render_kickstart("root", {"v": value})
    assert value in text and "root:x:0" not in text


def test_shipped_graph_with_hostile_demo_values(shipped):
    g = Graph.load(shipped)
    attrs = demo_attrs("compute", Info_ClusterName="<evil & \"co\">\n%end\nrm -rf /", Info_ClusterContact="a'b\\")
    text = g.render_kickstart("compute", attrs)
    assert len([s for s in parse(text).scripts if s.type == 1]) == 9  # as many as the golden
    # a quote in a host name would break a command and the shell code of base.xml's %pre:
    # refused at the first of them (host names are checked long before this, at add host)
    with pytest.raises(KsError, match=r'base\.xml:34: attribute "hostname" lands in shell code'):
        g.render_kickstart("compute", demo_attrs("compute", hostname="n'1"))
    assert Graph.load(shipped).render_kickstart("compute", demo_attrs("compute")) == (
        __import__("graph_helpers").GOLDEN_DIR / "compute.ks"
    ).read_text()
