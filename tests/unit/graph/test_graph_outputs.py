"""Every output context holds against arbitrary values (``ksserver.outputs``).

For arbitrary Unicode values of every attribute that reaches an output, either the value is
refused — at ``set`` (``check_value``), or by the render and the kickstart parser that
``set`` runs first (``services.settings``, which names the attribute) — or every output parses
to the same commands, sections and directives as with the site's own value: the kickstart
(pykickstart), the stage-1 XML (lxml), the PXE file (its directives and append words), and
site.attrs (one line per attribute). The number of cases each context is tried with is set
here (``CASES``) and printed by ``-s``.
"""

from __future__ import annotations

import re
import shlex

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree
from pykickstart.parser import KickstartParser
from pykickstart.version import RHEL9, makeVersion

from graph_helpers import demo_attrs
from ksserver.attrs import check_value, format_site_attrs
from ksserver.config import SHIPPED_GRAPH_DIR
from ksserver.errors import KsError
from ksserver.graph import Graph, validate_kickstart
from ksserver.services.bootfiles import grub_text, ipxe_text, pxe_text

CASES = 400
# every attribute the shipped graph, the PXE file and site.attrs read from a site
GRAPH_ATTRS = sorted({m for f in (SHIPPED_GRAPH_DIR / "nodes").glob("*.xml")
                      for m in re.findall(r"&([A-Za-z_][A-Za-z0-9_.-]*);", f.read_text())} - {"amp", "lt", "gt"})
PXE_ATTRS = ["Kickstart_PrivateKickstartHost", "Kickstart_PrivateAddress", "Kickstart_PrivateKickstartBasedir",
             "Kickstart_PrivateKickstartCGI", "Kickstart_PrivateGateway", "Kickstart_PrivateNetmask",
             "Kickstart_PrivateDNSServers"]
SETTABLE = [a for a in GRAPH_ATTRS if a not in ("hostname", "rack", "rank", "appliance", "membership", "hostaddr",
                                                "ksmac", "os", "arch")]
VALUES = st.text(max_size=30) | st.text(alphabet=st.sampled_from(list("ab %\n\r\u2028\u0085\"'\\$`;#&<>")), max_size=12)


def _refused(name, value):
    try:
        check_value(name, value)
    except KsError as err:
        assert "\n" not in err.message and f'"{name}"' in err.message
        return True
    return False


def _shape(text):
    parser = KickstartParser(makeVersion(RHEL9))
    parser.readKickstartFromString(text)
    h = parser.handler
    commands = sorted(name for name, cmd in h.commands.items() if getattr(cmd, "seen", False))
    scripts = [(s.type, s.interp, s.inChroot, s.errorOnFail) for s in h.scripts]
    return commands, scripts, sorted(h.packages.packageList), sorted(h.packages.groupList, key=str)


@pytest.fixture(scope="module")
def graph():
    return Graph.load([SHIPPED_GRAPH_DIR])


@pytest.fixture(scope="module")
def plain(graph):
    out = {}
    for app, root in (("compute", "compute"), ("frontend", "server")):
        text = graph.render_kickstart(root, demo_attrs(app))
        out[app] = (_shape(text), set(validate_kickstart(text)))
    return out


@settings(max_examples=CASES, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=st.sampled_from(SETTABLE), value=VALUES, app=st.sampled_from(["compute", "frontend"]))
def test_kickstart_and_xml_keep_their_shape(graph, plain, name, value, app):
    if _refused(name, value):
        return
    attrs = demo_attrs(app, **{name: value})
    root = "compute" if app == "compute" else "server"
    try:
        text = graph.render_kickstart(root, attrs)
    except KsError as err:
        assert "\n" not in err.message  # `set` refuses it, naming the attribute
        return
    shape, complaints = plain[app]
    if set(validate_kickstart(text)) - complaints:
        return  # the kickstart parser objects: `set` refuses it, naming the attribute
    assert _shape(text) == shape
    etree.fromstring(graph.render_xml(root, attrs).split("\n", 1)[1].encode())  # stage 1 is XML


class _Action:
    action, kernel, ramdisk = "install", "vmlinuz-9", "initrd-9.img"
    args = "ksdevice=bootif ks ramdisk_size=150000 bootif"


def _pxe_shape(text):
    lines = text.splitlines()
    append = next(line.split() for line in lines if line.split()[0] == "append")
    return [line.split()[0] for line in lines], [w.partition("=")[0] for w in append]


def _ipxe_shape(text):
    """Each line's command, and the kernel line's argument names; nothing iPXE expands or
    chains but the next-server the script names itself."""
    lines = text.splitlines()
    assert lines[0] == "#!ipxe"
    assert "||" not in text and "&&" not in text and "$" not in text.replace("${next-server}", "")
    kernel = next(line.split() for line in lines if line.startswith("kernel "))
    return [line.split()[0] for line in lines], [w.partition("=")[0] for w in kernel[2:]]


def _grub_shape(text):
    """Each line's command, and the linux line's argument names, as GRUB's sh-like lexer
    reads them (single quotes: every character as it is)."""
    lines = [shlex.split(line) for line in text.splitlines()]
    linux = next(words for words in lines if words[0] == "linux")
    return [words[0] for words in lines], [w.partition("=")[0] for w in linux[2:]]


BOOT_FILES = {"pxe": (pxe_text, _pxe_shape), "ipxe": (ipxe_text, _ipxe_shape), "grub": (grub_text, _grub_shape)}


@pytest.mark.parametrize("kind", sorted(BOOT_FILES))
@settings(max_examples=CASES, deadline=None)
@given(name=st.sampled_from(PXE_ATTRS), value=VALUES)
def test_boot_files_keep_their_commands_and_words(kind, name, value):
    """PXE directives and append words, iPXE commands, GRUB commands and linux words: the
    same with any value as with a plain one, or the value refused naming its attribute."""
    render, shape = BOOT_FILES[kind]
    plain = shape(render(_Action(), "10.1.255.254", demo_attrs("compute"), "tok"))
    if _refused(name, value):
        return
    try:
        text = render(_Action(), "10.1.255.254", demo_attrs("compute", **{name: value}), "tok")
    except KsError as err:
        assert "\n" not in err.message and f'"{name}"' in err.message
        return
    assert shape(text) == plain


@settings(max_examples=CASES, deadline=None)
@given(name=st.sampled_from(SETTABLE), value=VALUES)
def test_site_attrs_keep_one_line_per_attribute(name, value):
    if _refused(name, value):
        return
    attrs = demo_attrs("compute", **{name: value})
    lines = format_site_attrs(attrs).splitlines()
    assert len(lines) == len(attrs) and [line.partition(":")[0] for line in lines] == sorted(attrs)
