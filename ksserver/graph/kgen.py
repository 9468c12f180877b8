"""Stage 2 (the original's kgen): the merged XML profile → Red Hat kickstart text.

Each tag's ``arch/os/release/cond`` is evaluated here, against the request's attributes.
Sections, in order: traversal-order comment, debug comments, main commands, ``%packages``
(enabled sorted, then never-enabled disabled ones as ``-name``; ``@group`` for meta),
one ``%pre`` per ``<pre>``, one ``%post`` per ``<post>``, each closed by ``%end``.

Values from attributes are data, so nothing they hold may change the kickstart's shape
(the rules are ``ksserver.outputs``'): a main command, option or package name that would
span lines is an error (for that host only), and a script with a line the kickstart parser
would read as a section boundary (``%end``, ``%post``…, as it splits lines and words) is
shipped base64-encoded and decoded on the node instead of verbatim.
"""

from __future__ import annotations

import base64
import posixpath
import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from lxml import etree

from ksserver import outputs
from ksserver.errors import KsError
from ksserver.nodes.cond import CoercedAttrs, Cond, make_cond
from ksserver.templating import render

__all__ = ["NodePart", "assemble", "block_inputs", "kickstart_text", "node_part", "DEFAULT_OS_VERSION", "PRE_LOG", "POST_LOG"]

DEFAULT_OS_VERSION = "RHEL9"
PRE_LOG = "/tmp/ks-pre.log"
POST_LOG = "/var/log/ksserver-install.log"
NOCHROOT_POST_LOG = "/mnt/sysimage" + POST_LOG

_DROPPED = frozenset({"description", "copyright", "changelog"})
_PACKAGE = re.compile(r"[^\s%#@][^\s%#]*(?: [^\s%#]+)*\Z|@[^\s%#]+(?: [^\s%#]+)*\Z")
_LEADING_BLANK = re.compile(r"\A(?:[ \t]*\n)+")
_TRAILING_BLANK = re.compile(r"(?:\n[ \t]*)+\Z")
_OWNER = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.\-]*(?:[:.][A-Za-z0-9_][A-Za-z0-9_\-]*)?\Z")
_PERMS = re.compile(r"(?:[0-7]{3,4}|(?:[ugoa]*[-+=][rwxXst]*)(?:,[ugoa]*[-+=][rwxXst]*)*)\Z")


@dataclass(frozen=True)
class Script:
    source: str  # "nodes/x.xml (roll)"
    header: str
    body: str


def _trim(text: str) -> str:
    """Drop the blank lines around a body; keep every other character as written."""
    return _TRAILING_BLANK.sub("", _LEADING_BLANK.sub("", text))


def _splits(text: str) -> bool:
    """Whether the kickstart parser (shlex) can split a command line into words."""
    try:
        shlex.split(text)
    except ValueError:
        return False
    return True


def _where(file: str, el: etree._Element) -> str:
    return f"{file}:{el.sourceline}"


@dataclass(frozen=True, slots=True)
class NodePart:
    """What one node block adds to the kickstart, in the order ``assemble`` joins them: a
    function of the block, the attributes its conditions read and what earlier blocks did
    to the files it writes (``block_inputs`` names both)."""

    source: str  # "nodes/x.xml (roll)", for the traversal-order comment
    debug: tuple[str, ...]
    main: tuple[str, ...]
    enabled: frozenset[str]
    disabled: frozenset[str]
    pre: tuple[Script, ...]
    post: tuple[Script, ...]
    #: (file name, (owner, perms)) for each <file> written, in order: later blocks inherit them
    files: tuple[tuple[str, tuple[str | None, str | None]], ...]


def _tag_cond(el: etree._Element, file: str) -> Cond | None:
    """The condition of one tag (its arch/os/release/cond attributes), or ``None``."""
    get = el.get
    if get("cond") is None and get("arch") is None and get("os") is None and get("release") is None:
        return None
    return make_cond(_where(file, el), get("arch"), get("os"), get("release"), get("cond"))


class _Gen:
    def __init__(self, view: CoercedAttrs, files_seen: Mapping[str, tuple[str | None, str | None]]):
        self.view = view
        self.source = ""
        self.debug: list[str] = []
        self.main: list[str] = []
        self.enabled: set[str] = set()
        self.disabled: set[str] = set()
        self.pre: list[Script] = []
        self.post: list[Script] = []
        self.files_seen: dict[str, tuple[str | None, str | None]] = dict(files_seen)
        self.files_written: list[tuple[str, tuple[str | None, str | None]]] = []

    def part(self) -> NodePart:
        return NodePart(
            self.source, tuple(self.debug), tuple(self.main), frozenset(self.enabled), frozenset(self.disabled),
            tuple(self.pre), tuple(self.post), tuple(self.files_written),
        )

    def ok(self, el: etree._Element, file: str) -> bool:
        cond = _tag_cond(el, file)
        return cond is None or cond(self.view)

    # -- the node blocks -------------------------------------------------------------
    def node(self, block: etree._Element) -> None:
        file = block.get("file") or "?"
        roll = block.get("roll") or "base"
        outputs.kickstart_line(roll, f"{file}: roll=")
        source = self.source = f"{file} ({roll})"
        for el in block:
            if not isinstance(el.tag, str) or el.tag in _DROPPED:
                continue
            if not self.ok(el, file):
                continue
            tag = el.tag
            if tag == "main":
                self.main_tag(el, file)
            elif tag == "package":
                self.package(el, file)
            elif tag == "pre":
                self.script(el, file, source, pre=True)
            elif tag == "post":
                self.script(el, file, source, pre=False)
            elif tag == "debug":
                self.debug.extend((el.text or "").strip("\n").splitlines())
            # anything else is passed through by stage 1 and has no kickstart form

    def main_tag(self, main: etree._Element, file: str) -> None:
        if (main.text or "").strip():
            raise KsError(f"{_where(file, main)}: <main> holds text outside a command tag")
        for cmd in main:
            if not isinstance(cmd.tag, str):
                continue
            if (cmd.tail or "").strip():
                raise KsError(f"{_where(file, cmd)}: <main> holds text outside a command tag")
            if not self.ok(cmd, file):
                continue
            if len(cmd):
                raise KsError(f"{_where(file, cmd)}: <{cmd.tag}> may hold only text")
            text = (cmd.text or "").strip()
            if cmd.tag == "include":  # %include FILE, a line of its own
                path = outputs.kickstart_line(text, f"{_where(file, cmd)}: <include>")
                if not path or len(path.split()) != 1:
                    raise KsError(f'{_where(file, cmd)}: <include> needs one file name, not "{path}"')
                self.main.append(f"%include {path}")
                continue
            outputs.kickstart_line(text, f"{_where(file, cmd)}: <{cmd.tag}>")
            if ("'" in text or '"' in text or "\\" in text) and not _splits(text):
                raise KsError(
                    f"{_where(file, cmd)}: <{cmd.tag}> does not split into words "
                    "(does an attribute value hold an unbalanced quote?)"
                )
            name = "bootloader" if cmd.tag == "lilo" else cmd.tag
            self.main.append(f"{name} {text}" if text else name)

    def package(self, el: etree._Element, file: str) -> None:
        if len(el):
            raise KsError(f"{_where(file, el)}: <package> may hold only a package name")
        name = (el.text or "").strip()
        if not _PACKAGE.match(name):
            raise KsError(f'{_where(file, el)}: "{name}" is not a package name')
        # a name of several words is a comps group, as the original's graphs write them
        # (<package>Anonymous FTP Server</package>); type="meta" says so of one word
        if (el.get("type") == "meta" or " " in name) and not name.startswith("@"):
            name = "@" + name
        if el.get("disable") is not None:
            self.disabled.add(name)
        else:
            self.enabled.add(name)

    def _option(self, el: etree._Element, file: str, attr: str) -> str:
        return outputs.kickstart_line((el.get(attr) or "").strip(), f"{_where(file, el)}: {attr}=")

    def script(self, el: etree._Element, file: str, source: str, pre: bool) -> None:
        interpreter = self._option(el, file, "interpreter")
        arg = self._option(el, file, "arg")
        nochroot = "--nochroot" in arg.split()
        parts = [_trim(el.text or "")]
        for child in el:
            if isinstance(child.tag, str):
                if child.tag != "file":
                    raise KsError(f"{_where(file, child)}: <{child.tag}> is not allowed inside <{el.tag}>")
                if self.ok(child, file):
                    parts.append(self.file_tag(child, file))
            parts.append(_trim(child.tail or ""))
        body = "\n".join(p for p in parts if p)
        log = PRE_LOG if pre else (NOCHROOT_POST_LOG if nochroot else POST_LOG)
        words = ["%pre" if pre else "%post", f"--log={log}"]
        if outputs.opens_section(body):
            body = self._encoded(body, interpreter or "/bin/sh", pre)
        elif interpreter:
            words.append(f"--interpreter={interpreter}")
        if arg:
            words.append(arg)
        target = self.pre if pre else self.post
        target.append(Script(source, " ".join(words), body))

    @staticmethod
    def _encoded(body: str, interpreter: str, pre: bool) -> str:
        data = base64.b64encode((body + "\n").encode("utf-8")).decode("ascii")
        lines = [data[i : i + 76] for i in range(0, len(data), 76)]
        tmp = "/tmp/ksserver-%s.$$" % ("pre" if pre else "post")
        return "\n".join(
            [
                "# ksserver: this script is base64-encoded because one of its lines starts with",
                '# "%", which the kickstart parser would read as the end of the section.',
                f"base64 -d > {tmp} << 'KSSERVER-B64'",
                *lines,
                "KSSERVER-B64",
                f"{outputs.shell_word(interpreter)} {tmp}",
                "rc=$?",
                f"rm -f {tmp}",
                "exit $rc",
            ]
        )

    def file_tag(self, el: etree._Element, file: str) -> str:
        where = _where(file, el)
        if len(el):
            raise KsError(f"{where}: <file> may hold only text")
        name = el.get("name")
        if not name or not name.strip():
            raise KsError(f"{where}: <file> needs name=")
        name = outputs.kickstart_line(name.strip(), f"{where}: <file> name=")
        mode = (el.get("mode") or "create").strip()
        if mode not in ("create", "append"):
            raise KsError(f'{where}: <file> mode="{mode}": expected "create" or "append"')
        prev_owner, prev_perms = self.files_seen.get(name, (None, None))
        owner = (el.get("owner") or "").strip() or prev_owner
        perms = (el.get("perms") or "").strip() or prev_perms
        if owner and not _OWNER.match(owner):
            raise KsError(f'{where}: <file> owner="{owner}" is not "user" or "user.group"')
        if perms and not _PERMS.match(perms):
            raise KsError(f'{where}: <file> perms="{perms}" is not a chmod mode')
        self.files_seen[name] = (owner, perms)
        self.files_written.append((name, (owner, perms)))
        q = outputs.shell_word(name)
        out: list[str] = []
        parent = posixpath.dirname(name)
        if parent.count("/") > 1 or not parent.startswith("/"):  # /etc and the like exist
            out.append(f"mkdir -p {outputs.shell_word(parent)}")
        expr = (el.get("expr") or "").strip()
        if expr:
            outputs.kickstart_line(expr, f"{where}: <file> expr=")
            out.append(f"{expr} {'>>' if mode == 'append' else '>'} {q}")
        text = _trim(el.text or "")
        redirect = ">>" if (mode == "append" or expr) else ">"
        if text:
            lines = set(text.split("\n"))
            delim = "KSSERVER-EOF"
            n = 0
            while delim in lines:
                n += 1
                delim = f"KSSERVER-EOF-{n}"
            quoted = delim if el.get("vars") == "expanded" else f"'{delim}'"
            out.append(f"cat {redirect} {q} << {quoted}")
            out.append(text)
            out.append(delim)
        elif not expr:
            out.append(f"touch {q}" if mode == "append" else f": > {q}")
        if owner:
            user_group = owner if ":" in owner else owner.replace(".", ":", 1) if "." in owner else owner
            out.append(f"chown {outputs.shell_word(user_group)} {q}")
        if perms:
            out.append(f"chmod {perms} {q}")
        return "\n".join(out)


def node_part(block: etree._Element, view: CoercedAttrs,
              files_seen: Mapping[str, tuple[str | None, str | None]]) -> NodePart:
    """The contribution of one ``<node>`` block, given what earlier blocks did to files."""
    gen = _Gen(view, files_seen)
    gen.node(block)
    return gen.part()


def block_inputs(block: etree._Element) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """What ``node_part`` of this block reads besides the block: the attribute names of its
    conditions and the names of its ``<file>`` tags. A condition that does not compile
    names nothing here; ``node_part`` reports it if it is reached."""
    names: set[str] = set()
    files: set[str] = set()
    for el in block.iter():
        if not isinstance(el.tag, str):
            continue
        try:
            cond = _tag_cond(el, "?")
        except KsError:
            cond = None
        if cond is not None:
            names |= cond.names
        if el.tag == "file":
            files.add((el.get("name") or "").strip())
    return tuple(sorted(names)), tuple(sorted(files))


def assemble(parts: list[NodePart], graph: str, root: str, attrs: Mapping[str, Any]) -> str:
    """The kickstart from the parts of its blocks, in traversal order."""
    order: dict[str, None] = {}
    debug: list[str] = []
    main: list[str] = []
    enabled: set[str] = set()
    disabled: set[str] = set()
    pre: list[Script] = []
    post: list[Script] = []
    for part in parts:
        order.setdefault(part.source)
        debug += part.debug
        main += part.main
        enabled |= part.enabled
        disabled |= part.disabled
        pre += part.pre
        post += part.post
    return render(
        "kickstart/kickstart.ks.j2",
        graph=graph,
        root=root,
        os_version=outputs.kickstart_line(str(attrs.get("os_version") or DEFAULT_OS_VERSION), 'attribute "os_version"'),
        order=list(order),
        debug=debug,
        main=main,
        packages=sorted(enabled),
        disabled=sorted(disabled - enabled),
        pre=pre,
        post=post,
    )


def kickstart_text(profile: etree._Element, attrs: Mapping[str, Any]) -> str:
    """The kickstart for a stage-1 profile (``<kickstart>`` of ``<node>`` blocks)."""
    view = CoercedAttrs(attrs)
    files_seen: dict[str, tuple[str | None, str | None]] = {}
    parts = []
    for block in profile:
        if isinstance(block.tag, str) and block.tag == "node":
            part = node_part(block, view, files_seen)
            files_seen.update(part.files)
            parts.append(part)
    return assemble(parts, profile.get("graph") or "default", profile.get("root") or "?", attrs)
