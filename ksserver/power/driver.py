"""The hypervisor driver: a small interface, and its libvirt implementation.

Why an interface: the life-cycle operations (start, save, move…) are written once
against :class:`HypervisorDriver`; tests run them against libvirt's in-memory
``test:///default`` driver and wrap it in :class:`ksserver.power.fakes.FaultyDriver` to
inject failures.  Every libvirt error leaves this module as a one-line
:class:`~ksserver.errors.KsError` naming the VM and the container.
"""

from __future__ import annotations

import logging
import threading
from typing import Protocol, runtime_checkable

import libvirt

from ksserver.errors import KsError

ACTIVE = "active"
PAUSED = "paused"
SHUTDOWN = "shutdown"
SHUTOFF = "shutoff"
CRASHED = "crashed"
NOSTATE = "nostate"
STATES = (ACTIVE, PAUSED, SHUTDOWN, SHUTOFF, CRASHED, NOSTATE)
#: states in which the domain occupies memory on its container
RUNNING_STATES = frozenset({ACTIVE, PAUSED, SHUTDOWN})

DEFAULT_URI_TEMPLATE = "xen://{host}/"

log = logging.getLogger(__name__)

#: True when this libvirt can validate domain XML against its schema on define.
HAVE_DEFINE_VALIDATE = hasattr(libvirt, "VIR_DOMAIN_DEFINE_VALIDATE")

_STATE_NAMES = {
    libvirt.VIR_DOMAIN_RUNNING: ACTIVE,
    libvirt.VIR_DOMAIN_BLOCKED: ACTIVE,
    libvirt.VIR_DOMAIN_PAUSED: PAUSED,
    libvirt.VIR_DOMAIN_SHUTDOWN: SHUTDOWN,
    libvirt.VIR_DOMAIN_SHUTOFF: SHUTOFF,
    libvirt.VIR_DOMAIN_CRASHED: CRASHED,
}

_UNSUPPORTED = (libvirt.VIR_ERR_INVALID_ARG, libvirt.VIR_ERR_NO_SUPPORT)

# libvirt prints every error to stderr by default; ours become KsError instead.
libvirt.registerErrorHandler(lambda _ctx, _err: None, None)


def uri_for(container: str, template: str | None = None) -> str:
    """The libvirt URI of a container from its ``libvirt_uri`` attribute, a template in
    which ``{host}`` is the container's name (default ``xen://{host}/``)."""
    template = template or DEFAULT_URI_TEMPLATE
    try:
        return template.format(host=container)
    except (KeyError, IndexError, ValueError) as e:
        raise KsError(
            f"invalid libvirt_uri template ({template}) for {container}:"
            " only {host} may be used"
        ) from e


@runtime_checkable
class HypervisorDriver(Protocol):
    """What the power layer needs from one container's hypervisor."""

    host: str

    def define(self, xml: str, validate: bool = True) -> str: ...
    def start(self, name: str) -> None: ...
    def stop(self, name: str) -> None: ...
    def pause(self, name: str) -> None: ...
    def resume(self, name: str) -> None: ...
    def save(self, name: str, path: str) -> None: ...
    def restore(self, path: str, xml: str | None = None) -> None: ...
    def state(self, name: str) -> str: ...
    def undefine(self, name: str) -> None: ...
    def exists(self, name: str) -> bool: ...
    def xml(self, name: str, inactive: bool = False) -> str: ...


# --- connection pool ------------------------------------------------------------------

_POOL: dict[str, libvirt.virConnect] = {}
_POOL_LOCK = threading.Lock()


def _one_line(err: Exception) -> str:
    msg = err.get_error_message() if isinstance(err, libvirt.libvirtError) else None
    return " ".join(str(msg or err).split())


def connection(uri: str) -> libvirt.virConnect:
    """The pooled connection for ``uri``, opened on first use and reopened if dead.

    One connection per URI matters for correctness, not only speed: the state of
    libvirt's test driver (and of a custom ``test:///file.xml``) lives in the connection.
    """
    with _POOL_LOCK:
        conn = _POOL.get(uri)
        if conn is not None:
            try:
                if conn.isAlive():
                    return conn
            except libvirt.libvirtError:
                pass
            _POOL.pop(uri, None)
        if "/embed" in uri.split("?", 1)[0]:
            raise KsError(f"cannot use hypervisor {uri}: an embedded driver's VMs live only as long as the process "
                          "that started them, and every ksserver command is a process of its own; use a daemon's "
                          "URI (qemu:///system, qemu+ssh://HOST/system, or ?socket=PATH)")
        try:
            conn = libvirt.open(uri)
        except libvirt.libvirtError as e:
            raise KsError(f"cannot connect to hypervisor {uri}: {_one_line(e)}") from None
        if conn is None:  # pragma: no cover - old bindings returned None
            raise KsError(f"cannot connect to hypervisor {uri}")
        _POOL[uri] = conn
        return conn


def close_all() -> None:
    """Close every pooled connection (process shutdown; tests that want fresh state)."""
    with _POOL_LOCK:
        conns = list(_POOL.values())
        _POOL.clear()
    for conn in conns:
        try:
            conn.close()
        except libvirt.libvirtError:
            pass


# --- the libvirt driver ---------------------------------------------------------------


class LibvirtDriver:
    """:class:`HypervisorDriver` over libvirt-python, for the container ``host``.

    ``LibvirtDriver.for_container("vm-container-0-0", "xen://{host}/")`` is the usual
    way in; the connection is taken from the module-level pool lazily, so creating a
    driver never touches the network.
    """

    def __init__(self, uri: str, host: str | None = None):
        self.uri = uri
        self.host = host or uri
        #: whether the last define() was schema-validated by libvirt
        self.last_define_validated = False

    @classmethod
    def for_container(cls, container: str, template: str | None = None) -> "LibvirtDriver":
        return cls(uri_for(container, template), host=container)

    def __repr__(self) -> str:
        return f"LibvirtDriver({self.uri!r}, host={self.host!r})"

    @property
    def conn(self) -> libvirt.virConnect:
        return connection(self.uri)

    # helpers
    def _fail(self, what: str, name: str, err: Exception) -> KsError:
        return KsError(f"cannot {what} VM {name} on {self.host}: {_one_line(err)}")

    def _lookup(self, name: str, what: str) -> libvirt.virDomain:
        try:
            return self.conn.lookupByName(name)
        except libvirt.libvirtError as e:
            if e.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN:
                raise KsError(f"cannot {what} VM {name} on {self.host}: no such VM") from None
            raise self._fail(what, name, e) from None

    # the interface
    def define(self, xml: str, validate: bool = True) -> str:
        """Define (persist) a domain; returns its name.  With ``validate`` the XML is
        checked against libvirt's schema (``VIR_DOMAIN_DEFINE_VALIDATE``) when this
        libvirt has the flag; without it the domain is defined unvalidated."""
        conn = self.conn
        name = _name_of(xml)
        self.last_define_validated = False
        try:
            if validate and HAVE_DEFINE_VALIDATE:
                try:
                    dom = conn.defineXMLFlags(xml, libvirt.VIR_DOMAIN_DEFINE_VALIDATE)
                    self.last_define_validated = True
                except libvirt.libvirtError as e:
                    # an older daemon on the container may not know the flag
                    if e.get_error_code() not in _UNSUPPORTED or "flag" not in _one_line(e).lower():
                        raise
                    log.warning("%s cannot validate domain XML on define; defining %s unvalidated", self.host, name)
                    dom = conn.defineXML(xml)
            else:
                if validate:
                    log.warning("this libvirt has no VIR_DOMAIN_DEFINE_VALIDATE; defining %s unvalidated", name)
                dom = conn.defineXML(xml)
        except libvirt.libvirtError as e:
            raise self._fail("define", name, e) from None
        return dom.name()

    def _act(self, name: str, what: str, method: str, *args) -> None:
        dom = self._lookup(name, what)
        try:
            getattr(dom, method)(*args)
        except libvirt.libvirtError as e:
            raise self._fail(what, name, e) from None

    def start(self, name: str) -> None:
        self._act(name, "start", "create")

    def stop(self, name: str) -> None:
        """Destroy: pull the power cord."""
        self._act(name, "stop", "destroy")

    def pause(self, name: str) -> None:
        self._act(name, "pause", "suspend")

    def resume(self, name: str) -> None:
        self._act(name, "resume", "resume")

    def save(self, name: str, path: str) -> None:
        self._act(name, "save", "save", path)

    def restore(self, path: str, xml: str | None = None) -> None:
        """Restore a saved VM; ``xml`` may adjust host-specific parts (disk paths)."""
        label = _name_of(xml) if xml else path
        try:
            if xml is None:
                self.conn.restore(path)
            else:
                self.conn.restoreFlags(path, xml, 0)
        except libvirt.libvirtError as e:
            raise KsError(f"cannot restore VM {label} on {self.host}: {_one_line(e)}") from None

    def state(self, name: str) -> str:
        try:
            dom = self.conn.lookupByName(name)
            code = dom.state()[0]
        except libvirt.libvirtError as e:
            if e.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN:
                return NOSTATE
            raise self._fail("get the state of", name, e) from None
        return _STATE_NAMES.get(code, NOSTATE)

    def undefine(self, name: str) -> None:
        """Forget the persistent definition (and its managed save / snapshot metadata).
        A running domain keeps running, as a transient one."""
        dom = self._lookup(name, "undefine")
        flags = libvirt.VIR_DOMAIN_UNDEFINE_MANAGED_SAVE | libvirt.VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA
        try:
            dom.undefineFlags(flags)
        except libvirt.libvirtError as e:
            if e.get_error_code() not in _UNSUPPORTED:
                raise self._fail("undefine", name, e) from None
            try:
                dom.undefine()
            except libvirt.libvirtError as e2:
                raise self._fail("undefine", name, e2) from None

    def exists(self, name: str) -> bool:
        try:
            self.conn.lookupByName(name)
            return True
        except libvirt.libvirtError as e:
            if e.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN:
                return False
            raise self._fail("look up", name, e) from None

    def is_persistent(self, name: str) -> bool:
        dom = self._lookup(name, "inspect")
        try:
            return bool(dom.isPersistent())
        except libvirt.libvirtError as e:
            raise self._fail("inspect", name, e) from None

    def xml(self, name: str, inactive: bool = False) -> str:
        dom = self._lookup(name, "read the XML of")
        try:
            return dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE if inactive else 0)
        except libvirt.libvirtError as e:
            raise self._fail("read the XML of", name, e) from None

    def names(self) -> list[str]:
        """Every domain known on this container, running or defined."""
        try:
            return sorted(d.name() for d in self.conn.listAllDomains())
        except libvirt.libvirtError as e:
            raise KsError(f"cannot list VMs on {self.host}: {_one_line(e)}") from None


def _name_of(xml: str | None) -> str:
    """The <name> of a domain XML, for error messages ('?' when unreadable)."""
    if not xml:
        return "?"
    from ksserver.power.xmlutil import parse_xml

    try:
        return (parse_xml(xml).findtext("name") or "?").strip()
    except Exception:
        return "?"
