"""Every kind of place a value lands in what ksserver emits, and its rule there.

A value is data in every output: nothing it holds may change the shape of the file it
lands in (add a kickstart command, open a section, add a boot directive or argument, a
site.attrs line, an XML element). Each context says how that is guaranteed — by escaping
where the format can carry anything, by refusing where it cannot — and every emitter calls
the rule of its context; ``check_setting`` refuses at ``set`` what no output could carry.

Contexts:

* kickstart command line (``kickstart_line``): one line, so no line break of any kind —
  the kickstart parser (pykickstart, which the installer uses) splits lines as Python's
  ``str.splitlines`` does, on ``LINE_BREAKS``; quotes must balance (checked by kgen with
  ``shlex``, as pykickstart splits words).
* kickstart section body (``opens_section``): a script's text is carried verbatim unless a
  line of it, as the parser splits lines and words, would start with ``%`` (end the section
  or open another): then kgen ships the script base64-encoded and decodes it on the node.
* shell word (``shell_word``): quoted for the shell with ``shlex.quote``.
* shell code (``shell_code``): a value a graph puts in a script's own text (not a
  ``<file>``'s, which travels in a quoted here-document) cannot be quoted for it — the
  graph's author chose the quoting — so a character the shell would act on is refused.
* XML text and attribute (``xml_text``): escaped by lxml or Jinja; characters XML 1.0
  cannot carry (``XML_ILLEGAL``) are refused.
* boot line — PXE ``append``, iPXE, GRUB, Xen config (``boot_word``, ``boot_line``): one
  line; a value that becomes one kernel argument is one word (no white space, no control
  character); a bootaction's own arguments may hold spaces but no line break or control.
* key:value file — site.attrs (``key_value``): one line per key, so no line break.
"""

from __future__ import annotations

import re
import shlex

from ksserver.errors import KsError

#: what ``str.splitlines`` — and so the kickstart parser — reads as the end of a line
LINE_BREAKS = "\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029"
_LINE_BREAK = re.compile(f"[{re.escape(LINE_BREAKS)}]")
#: characters XML 1.0 cannot carry, even as character references
XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_SPACE_OR_CONTROL = re.compile(r"[\s\x00-\x1f\x7f-\x9f]")


def _name(char: str) -> str:
    return repr(char) if char.isprintable() and not char.isspace() else f"U+{ord(char):04X}"


def kickstart_line(text: str, what: str) -> str:
    """``text`` as (part of) one kickstart command line, or refused naming ``what``."""
    m = _LINE_BREAK.search(text)
    if m:
        raise KsError(f"{what} spans several lines (a value holds the line break {_name(m.group())})")
    return text


def opens_section(body: str) -> bool:
    """Whether the kickstart parser would read a line of ``body`` as a section boundary:
    a line (split as ``str.splitlines`` splits) whose first word starts with ``%``."""
    for line in body.splitlines():
        words = line.split()
        if words and words[0].startswith("%"):
            return True
    return False


def shell_word(text: str) -> str:
    return shlex.quote(text)


_SHELL_ACTS = re.compile(f"[`$\\\\\"';&|<>(){{}}{re.escape(LINE_BREAKS)}]")


def shell_code(text: str, what: str) -> str:
    m = _SHELL_ACTS.search(text)
    if m:
        raise KsError(f"{what} lands in shell code and holds {_name(m.group())}, which the shell would act on")
    return text


def xml_text(text: str, what: str) -> str:
    m = XML_ILLEGAL.search(text)
    if m:
        raise KsError(f"{what} holds the character {_name(m.group())}, which XML cannot carry")
    return text


def boot_word(text: str, what: str) -> str:
    """One kernel argument's value: one word."""
    m = _SPACE_OR_CONTROL.search(text)
    if m:
        raise KsError(f"{what} holds {_name(m.group())}: a boot argument is one word")
    return text


def boot_line(text: str, what: str) -> str:
    """A boot line's arguments (several words): no line break, no control character."""
    m = _CONTROL.search(text) or _LINE_BREAK.search(text)
    if m:
        raise KsError(f"{what} holds {_name(m.group())}: a boot line is one line")
    return text


def key_value(text: str, what: str) -> str:
    return kickstart_line(text, what)


def check_setting(name: str, value: str) -> str:
    """What ``set … attr`` refuses of any value, whatever the attribute: what no output can
    carry (a character XML cannot hold: every kickstart is XML first), a line break other
    than ``\\n`` (the kickstart parser, a shell and a boot loader disagree on it), and a line
    whose first word starts with ``%`` (it would end a kickstart section)."""
    m = XML_ILLEGAL.search(value)
    if m:
        raise KsError(f'value of attribute "{name}" holds the character {_name(m.group())}, which no output can carry')
    m = _LINE_BREAK.search(value.replace("\n", ""))
    if m:
        raise KsError(f'value of attribute "{name}" holds the line break {_name(m.group())}: only "\\n" separates lines')
    if opens_section(value):
        raise KsError(f'value of attribute "{name}" has a line starting with "%", which could end a kickstart section')
    return value
