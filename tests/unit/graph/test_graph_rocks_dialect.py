"""The original's (Rocks') dialect of node files, construct by construct: what a site's roll
graph holds renders as the original rendered it, or is refused with file:line."""

from __future__ import annotations

import pytest

from ksserver.errors import KsError
from ksserver.graph import Graph


def render(gdir, root="root", attrs=None):
    return Graph.load([gdir.root]).render_kickstart(root, attrs or {})


def main_lines(ks: str) -> list[str]:
    """The kickstart's command lines (between the comments and %packages)."""
    body = ks.split("%packages", 1)[0]
    return [line for line in body.splitlines() if line and not line.startswith("#")]


def test_an_include_on_a_line_of_its_own_stays_one(gdir):
    gdir.node("root", """
        <main>
        %include /tmp/ks-network
        <install>
        %include /tmp/partition-info
        </install>
        <part>
        %include /tmp/more-parts
        </part>
        <timezone>--utc &tz;</timezone>
        </main>""")
    gdir.edges('<edge from="root" to="root"/>')
    assert main_lines(render(gdir, attrs={"tz": "Etc/UTC"})) == [
        "%include /tmp/ks-network", "install", "%include /tmp/partition-info", "%include /tmp/more-parts",
        "timezone --utc Etc/UTC"]


def test_an_include_keeps_the_condition_of_the_command_it_stood_in(gdir):
    gdir.node("root", """
        <main>
        <install cond="old">
        %include /tmp/partition-info
        </install>
        </main>""")
    gdir.edges('<edge from="root" to="root"/>')
    assert main_lines(render(gdir, attrs={"old": "yes"})) == ["install", "%include /tmp/partition-info"]
    assert main_lines(render(gdir, attrs={"old": "no"})) == []


def test_an_attribute_value_never_makes_an_include(gdir):
    gdir.node("root", "<main>\n<rootpw>&pw;</rootpw>\n</main>")
    gdir.edges('<edge from="root" to="root"/>')
    with pytest.raises(KsError, match=r"^nodes/root\.xml:3: <rootpw>"):
        render(gdir, attrs={"pw": "x\n%include /etc/shadow"})


def test_package_group_names_with_spaces_are_groups(gdir):
    gdir.node("root", """
        <package>Anonymous FTP Server</package>
        <package>emacs</package>
        <package type="meta">base</package>
        <package disable="1">Games and Entertainment</package>""")
    gdir.edges('<edge from="root" to="root"/>')
    ks = render(gdir)
    packages = ks.split("%packages", 1)[1].split("%end", 1)[0].split("\n")[1:]  # after the header's options
    assert [p for p in packages if p.strip()] == ["@Anonymous FTP Server", "@base", "emacs", "-@Games and Entertainment"]


def test_configure_phases_that_include_post_are_posts_others_are_noted(gdir):
    gdir.node("root", """
        <configure phase="post">echo configured</configure>
        <configure phase="pre-install">echo never</configure>""")
    gdir.edges('<edge from="root" to="root"/>')
    ks = render(gdir)
    assert "echo configured" in ks and "echo never" not in ks
    assert '# nodes/root.xml:3: <configure phase="pre-install"> skipped: only a phase that includes post runs' in ks


# --- <eval> -------------------------------------------------------------------------------

from ksserver.graph.evaluate import Runner  # noqa: E402


def test_eval_output_takes_its_place_with_the_hosts_attributes_in_its_environment(gdir):
    gdir.node("root", """
        <main>
        <rootpw>--iscrypted <eval>printf '%s' "$Kickstart_PrivateSHARootPassword"</eval></rootpw>
        </main>
        <post>
        <eval>echo "network for &hostname; in $PWD"; echo "secret: ${Unnamed:-none}"</eval>
        </post>""")
    gdir.edges('<edge from="root" to="root"/>')
    attrs = {"hostname": "compute-0-0", "Kickstart_PrivateSHARootPassword": "$6$salt$hash", "Unnamed": "leak"}
    ks = render(gdir, attrs=attrs)
    assert "rootpw --iscrypted $6$salt$hash\n" in ks
    # it ran in the node file's directory; the attributes its text names are in its environment
    assert f"network for compute-0-0 in {gdir.root / 'nodes'}\nsecret: leak" in ks
    gdir.node("root", "<post>\n<eval>echo \"${Kickstart_PrivateSHARootPassword:-unset}\"</eval>\n</post>")
    assert "$6$salt$hash" in render(gdir, attrs=attrs)
    gdir.node("root", "<post>\n<eval>env | grep -c Kickstart_ || true</eval>\n</post>")
    assert "\n0\n" in render(gdir, attrs=attrs)


def test_eval_xml_mode_adds_node_file_markup(gdir):
    gdir.node("root", """
        <post>
        echo before
        <eval mode="xml">printf '&lt;file name="/etc/motd"&gt;cluster &amp;amp; node&lt;/file&gt;\\n'</eval>
        echo after
        </post>""")
    gdir.edges('<edge from="root" to="root"/>')
    ks = render(gdir)
    assert "echo before\ncat > /etc/motd << 'KSSERVER-EOF'\ncluster & node\nKSSERVER-EOF\necho after" in ks


def test_eval_results_are_kept_under_what_they_read(gdir):
    gdir.node("root", "<post>\n<eval>echo \"$rank\"; date +%N</eval>\n</post>")
    gdir.edges('<edge from="root" to="root"/>')
    run = Runner(salt=1)
    g = Graph.load([gdir.root])
    first = g.render_kickstart("root", {"rank": "0"}, run)
    assert g.render_kickstart("root", {"rank": "0", "other": "x"}, run) == first and run.runs == 1
    assert g.render_kickstart("root", {"rank": "1"}, run) != first and run.runs == 2
    assert g.render_kickstart("root", {"rank": "0"}, Runner(salt=2)) != first  # the world changed


@pytest.mark.parametrize("body, message", [
    ("<eval>exit 3</eval>", r"^nodes/root\.xml:3: <eval> exited with status 3$"),
    ("<eval>echo oops >&amp;2; false</eval>", r"^nodes/root\.xml:3: <eval> exited with status 1: oops$"),
    ('<eval shell="/nonexistent/sh">true</eval>', r"^nodes/root\.xml:3: <eval> cannot run /nonexistent/sh"),
    ('<eval mode="xml">echo "&lt;post"</eval>', r'^nodes/root\.xml:3: <eval mode="xml"> printed what is not XML'),
    ('<eval mode="xml">echo "&lt;!DOCTYPE x [&lt;!ENTITY e SYSTEM \'file:///etc/passwd\'&gt;]&gt;"</eval>',
     r'^nodes/root\.xml:3: <eval mode="xml"> printed a DOCTYPE'),
    ('<eval mode="raw">true</eval>', r'^nodes/root\.xml:3: <eval mode="raw">: expected'),
    ("<eval>printf '\\001'</eval>", r"^nodes/root\.xml:3: <eval> output holds the character"),
])
def test_eval_failures_name_the_file_and_line(gdir, body, message):
    gdir.node("root", f"<post>\n{body}\n</post>")
    gdir.edges('<edge from="root" to="root"/>')
    with pytest.raises(KsError, match=message):
        render(gdir)


def test_an_eval_past_its_time_limit_fails_the_render_and_leaves_nothing_running(gdir, tmp_path):
    marker = tmp_path / "still-running"
    gdir.node("root", f"<post>\n<eval>(sleep 5; touch {marker}) &amp; sleep 30</eval>\n</post>")
    gdir.edges('<edge from="root" to="root"/>')
    with pytest.raises(KsError, match=r"^nodes/root\.xml:3: <eval> ran past its time limit of 0.5 s$"):
        Graph.load([gdir.root]).render_kickstart("root", {}, Runner(timeout=0.5))
    import time
    time.sleep(5.5)
    assert not marker.exists()  # its children went with it


def test_eval_output_cannot_open_a_kickstart_section(gdir):
    gdir.node("root", "<post>\n<eval>printf '%%end\\n%%post\\nrm -rf /\\n'</eval>\n</post>")
    gdir.edges('<edge from="root" to="root"/>')
    ks = render(gdir)
    assert "\n%end\n%post\nrm -rf /" not in ks and "base64 -d" in ks


def test_an_attribute_in_an_evals_text_is_checked_as_shell_code(gdir):
    gdir.node("root", "<post>\n<eval>rocks report host network &hostname;</eval>\n</post>")
    gdir.edges('<edge from="root" to="root"/>')
    with pytest.raises(KsError, match=r"^nodes/root\.xml:3: attribute \"hostname\" lands in shell code and holds ';'"):
        render(gdir, attrs={"hostname": "x; rm -rf /"})


def test_an_eval_in_a_directory_others_may_write_is_refused(gdir):
    gdir.node("root", "<post>\n<eval>id</eval>\n</post>")
    gdir.edges('<edge from="root" to="root"/>')
    (gdir.root / "nodes").chmod(0o777)
    with pytest.raises(KsError, match=r"^nodes/root\.xml:3: <eval> refused: .*/nodes is writable by others "):
        render(gdir)


# --- <var>, the legacy syntax ---------------------------------------------------------------

def test_legacy_var_reads_attributes_under_their_new_names_and_assigns_in_traversal_order(gdir):
    gdir.node("root", """
        <var name="Site_Color" val="blue"/>
        <var name="Alias" ref="Node_Hostname"/>
        <post>
        echo <var name="Node_Hostname"/> <var name="Node_Distribution"/> <var name="Kickstart_PublicHostname"/>
        echo [<var name="Never_Set"/>]
        </post>""")
    gdir.node("later", "<post>\necho <var name=\"Site_Color\"/> <var name=\"Alias\"/></post>")
    gdir.edges('<edge from="root" to="later"/>\n<order head="root" tail="later"/>')
    attrs = {"hostname": "compute-0-0", "distribution": "rocks-dist", "arch": "x86_64",
             "Kickstart_PublicHostname": "bayou.rocksclusters.org"}
    for _ in range(2):  # and the same again: nothing of one render stays for the next
        ks = render(gdir, attrs=attrs)
        assert "echo compute-0-0 rocks-dist/x86_64 bayou.rocksclusters.org\necho []\n" in ks
        assert "echo blue compute-0-0\n" in ks
    xml = Graph.load([gdir.root]).render_xml("root", attrs)
    assert "<var" not in xml


def test_check_graph_warns_of_each_var_with_its_replacement_and_lists_each_eval(gdir):
    from ksserver.graph import check_graph
    gdir.node("root", """
        <var name="Node_Hostname"/>
        <var name="X" val="1"/>
        <post><eval>true</eval></post>
        <installclass>old</installclass>
        <configure phase="pre-install">x</configure>""")
    gdir.edges('<edge from="root" to="root"/>')
    found = check_graph([gdir.root], {"root": ("root", {})})
    assert found[:5] == [
        'nodes/root.xml:2: warning: <var name="Node_Hostname"/> is deprecated: write &hostname;',
        'nodes/root.xml:3: warning: <var name="X"> with val= or ref= is deprecated: it assigns for every node '
        "file after it; set an attribute instead",
        'nodes/root.xml:4: note: <eval shell="sh"> runs on the frontend when a kickstart is made',
        "nodes/root.xml:5: warning: <installclass> has no kickstart form: it is ignored",
        'nodes/root.xml:6: note: <configure phase="pre-install"> is skipped: only a phase that includes post runs '
        "in a kickstart"]


# --- DOCTYPEs and entities: markup only where the parser reads markup ------------------------

def test_a_doctype_in_cdata_is_data_and_entities_in_comments_are_not_references(gdir):
    gdir.node("root", """
        <!-- &not_an_attribute; is in a comment -->
        <post>
        <file name="/etc/manifest.xml"><![CDATA[<?xml version="1.0"?>
        <!DOCTYPE manifest SYSTEM "manifest.dtd">
        <manifest owner="&amp;nobody;"/>]]></file>
        </post>""")
    gdir.node("leaf")
    gdir.edges('<edge from="root" to="leaf"/>')
    ks = render(gdir)
    assert '<!DOCTYPE manifest SYSTEM "manifest.dtd">\n<manifest owner="&amp;nobody;"/>' in ks
    from ksserver.graph import check_graph
    assert check_graph([gdir.root], {"root": ("root", {})}) == []  # no undefined &not_an_attribute;


@pytest.mark.parametrize("where", ["node", "graph"])
def test_a_doctype_in_the_prolog_is_refused_in_node_and_graph_files(gdir, where):
    doctype = '<?xml version="1.0"?>\n<!-- a site file -->\n<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/shadow">]>\n'
    gdir.node("root", "<post>echo &e;</post>")
    gdir.edges('<edge from="root" to="root"/>')
    if where == "node":
        path = gdir.root / "nodes" / "root.xml"
        path.write_text(doctype + path.read_text())
        with pytest.raises(KsError, match=r"^nodes/root\.xml:3: a node file may not declare a DOCTYPE"):
            render(gdir, attrs={"e": "x"})
    else:
        path = gdir.root / "graphs" / "default" / "graph.xml"
        path.write_text(doctype + path.read_text())
        with pytest.raises(KsError, match=r"^graphs/default/graph\.xml:3: a graph file may not declare a DOCTYPE"):
            render(gdir, attrs={"e": "x"})


def test_no_parser_reads_a_huge_tree(gdir):
    """Without lxml's huge_tree, libxml2's limits stand (a text node of 10 MB at most):
    a 1 MB attribute value still renders."""
    gdir.node("root", "<post>\necho '&big;'\n</post>")
    gdir.edges('<edge from="root" to="root"/>')
    assert "x" * 1_000_000 in render(gdir, attrs={"big": "x" * 1_000_000})
    import ksserver.nodes.nodefile as nodefile
    import inspect
    assert "huge_tree" not in inspect.getsource(nodefile)


def test_check_graph_reports_the_render_error_of_every_node_file(gdir):
    from ksserver.graph import check_graph
    gdir.node("root", "<main>\n<rootpw>--iscrypted &pw;</rootpw>\n</main>")
    gdir.node("one", "<post>\n<eval>exit 4</eval>\n</post>")
    gdir.node("two", '<package>two\nlines</package>')
    gdir.edges('<edge from="root" to="one"/>\n<edge from="root" to="two"/>')
    found = check_graph([gdir.root], {"root": ("root", {"pw": "x\ny"})})
    assert [f for f in found if "appliance root" in f] == [
        "appliance root: nodes/one.xml:3: <eval> exited with status 4",
        "appliance root: nodes/root.xml:3: <rootpw> spans several lines (a value holds the line break U+000A)",
        'appliance root: nodes/two.xml:2: "two lines" is not a package name']  # one line: the break is shown as a space
