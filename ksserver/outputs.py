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
* XML text and attribute (``xml_text``): escaped by lxml or Jinja, or by ``xml_escaped``
  where ksserver writes XML by hand; characters XML 1.0 cannot carry (``XML_ILLEGAL``) are
  refused.
* boot line — PXE ``append``, iPXE, GRUB, Xen config (``boot_word``, ``boot_line``): one
  line; a value that becomes one kernel argument is one word (no white space, no control
  character); a bootaction's own arguments may hold spaces but no line break or control.
* iPXE script line (``ipxe_line``): a boot line in which ``$`` (expansion) and ``||``/``&&``
  (command chaining) are refused.
* GRUB script line (``grub_words``): a boot line whose words holding GRUB's metacharacters
  are single-quoted; a single quote is refused.
* hosts file (``hosts_word``): a name is one word.
* key:value file — site.attrs (``key_value``): one line per key, so a value's lines are
  joined with spaces (as the original did).
* DHCP configuration: Kea's is JSON, written by ``json.dumps`` (a value cannot leave its
  string); ISC ``dhcpd.conf`` strings (``dhcpd_string``) have no escape the original used,
  so a quote, a backslash, a line break or a control character is refused.
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
_SPACE_OR_CONTROL = re.compile(r"[\s\x00-\x1f\x7f-\x9f]")
_BOOT_LINE = re.compile(f"[\x00-\x1f\x7f-\x9f{re.escape(LINE_BREAKS)}]")


def _name(char: str) -> str:
    return repr(char) if char.isprintable() and not char.isspace() else f"U+{ord(char):04X}"


def _refuse(pattern: re.Pattern, text: str, message: str) -> str:
    """``text``, or ``KsError(message)`` when ``pattern`` finds a character in it
    (``{char}`` in the message names that character)."""
    m = pattern.search(text)
    if m:
        raise KsError(message.replace("{char}", _name(m.group())))  # not format(): ``what`` may hold braces
    return text


def kickstart_line(text: str, what: str) -> str:
    """``text`` as (part of) one kickstart command line, or refused naming ``what``."""
    return _refuse(_LINE_BREAK, text, what + " spans several lines (a value holds the line break {char})")


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
    return _refuse(_SHELL_ACTS, text, what + " lands in shell code and holds {char}, which the shell would act on")


def xml_text(text: str, what: str) -> str:
    return _refuse(XML_ILLEGAL, text, what + " holds the character {char}, which XML cannot carry")


def xml_escaped(text: str, what: str) -> str:
    """A value as the text of XML ksserver writes by hand (the ``report host`` commands a
    graph's ``<eval mode="xml">`` reads): refused where XML cannot carry it, else escaped."""
    return xml_text(text, what).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def boot_word(text: str, what: str) -> str:
    """One kernel argument's value: one word."""
    return _refuse(_SPACE_OR_CONTROL, text, what + " holds {char}: a boot argument is one word")


def boot_line(text: str, what: str) -> str:
    """A boot line's arguments (several words): no line break, no control character."""
    return _refuse(_BOOT_LINE, text, what + " holds {char}: a boot line is one line")


_DHCPD_STRING = re.compile(f'["\\\\\x00-\x1f\x7f-\x9f{re.escape(LINE_BREAKS)}]')


def dhcpd_string(text: str, what: str) -> str:
    """A quoted string of ``dhcpd.conf``."""
    return _refuse(_DHCPD_STRING, text, what + " holds {char}, which a dhcpd.conf string cannot carry")


_IPXE_ACTS = re.compile(r"\$|\|\||&&")


def ipxe_line(text: str, what: str) -> str:
    """An iPXE command line: a boot line where ``${…}`` would be expanded and ``||``/``&&``
    would chain another command, so neither may come from a value."""
    boot_line(text, what)
    return _refuse(_IPXE_ACTS, text, what + " holds {char}, which iPXE would act on")


_GRUB_ACTS = re.compile(r"[$;|&<>(){}\"\\#`*?\[\]]")


def grub_words(text: str, what: str) -> str:
    """Words of a GRUB script line: a word holding one of GRUB's metacharacters (expansion,
    quoting, command separators, blocks, comments, globs) is single-quoted, inside which
    GRUB takes every character as it is; a single quote cannot be carried and is refused."""
    boot_line(text, what)
    _refuse(re.compile("'"), text, what + " holds {char}, which a GRUB script line cannot carry")
    return " ".join(f"'{w}'" if _GRUB_ACTS.search(w) else w for w in text.split())


def hosts_word(text: str, what: str) -> str:
    """A name in a hosts file (``/etc/hosts``: address, then names, white space between):
    one word, nothing a resolver would read as another field or line."""
    return _refuse(_SPACE_OR_CONTROL, text, what + " holds {char}: a hosts-file name is one word")


_KEA_DB_WORD = re.compile(r"[^\s'\"\\=]{1,255}\Z")


def kea_db_word(text: str, what: str) -> str:
    """A part of Kea's database connection (DHCP config, ``hosts-database``): Kea puts it
    in libpq's connection string unquoted, so a space, a quote, a backslash or an ``=``
    would change what Kea connects to; refused."""
    if not _KEA_DB_WORD.match(text):
        raise KsError(f'{what} holds a space, a quote, a backslash or an "=", which Kea cannot pass on')
    return text


def key_value(text: str) -> str:
    """A value of a ``key:value`` file (site.attrs, one line per key): its lines, as the
    kickstart parser splits them, joined with spaces."""
    return " ".join(str(text).splitlines())


def check_setting(name: str, value: str) -> str:
    """What ``set … attr`` refuses of any value, whatever the attribute: what no output can
    carry (a character XML cannot hold: every kickstart is XML first), a line break other
    than ``\\n`` (the kickstart parser, a shell and a boot loader disagree on it), and a line
    whose first word starts with ``%`` (it would end a kickstart section)."""
    what = f'value of attribute "{name}"'
    _refuse(XML_ILLEGAL, value, what + " holds the character {char}, which no output can carry")
    _refuse(_LINE_BREAK, value.replace("\n", ""), what + ' holds the line break {char}: only "\\n" separates lines')
    if opens_section(value):
        raise KsError(f'value of attribute "{name}" has a line starting with "%", which could end a kickstart section')
    return value


# --- what a read-only viewer sees (the console's read users, the API's read tokens) ----------

#: what a word of an attribute's name ends with when its value is a secret
SECRET_NAME = ("password", "passwd", "passphrase", "secret", "token", "key", "pw", "hash", "crypt", "credential")
MASK = "********"
_URL_PASSWORD = re.compile(r"(://[^/:@\s]*:)[^@/\s]+@")
_WORDS = re.compile(r"[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])")  # Kickstart_PrivateRootPassword: 4 words


def is_secret(attr: str) -> bool:
    """Whether an attribute's name says its value is secret: a word of it (split at ``_``,
    ``-``, ``.`` and case) ends with one of ``SECRET_NAME`` (``rootpw``, ``ssh_keys``,
    ``Kickstart_PrivateRootPassword``), not merely holds one (``Kickstart_Keyboard``)."""
    for word in _WORDS.findall(attr):
        low = word.lower().removesuffix("s")
        if low.endswith(SECRET_NAME):
            return True
    return False


def shown_to_reader(attr: str, value: str | None) -> str | None:
    """An attribute's value as a read-only viewer sees it: masked whole when its name says
    secret, and a password inside a URL masked whatever the name (``Dhcp_HostsDatabase``)."""
    if value is None:
        return None
    if is_secret(attr):
        return MASK
    if "://" not in value:
        return value
    return _URL_PASSWORD.sub(lambda m: m.group(1) + MASK + "@", value)
