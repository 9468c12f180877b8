"""The install server and what it serves: bootactions, boot state, PXE files, rolls,
install status, and ``ksserver serve``."""

from ksserver.cli.framework import Table, command, truthy
from ksserver.errors import KsError
from ksserver.services import boot, bootfiles, install, rolls, transaction


# --- bootactions and boot state ---------------------------------------------------------------
@command("add bootaction", "action?", ("kernel", "ramdisk", "args"))
def add_bootaction(action=None, kernel=None, ramdisk=None, args=None):
    """Add a bootaction (kernel, ramdisk, args), or update the columns given if it exists."""
    with transaction() as session:
        boot.add_bootaction(session, action, kernel, ramdisk, args)


@command("list bootaction", json=True)
def list_bootaction():
    """Bootactions: ACTION KERNEL RAMDISK ARGS, sorted by action."""
    with transaction() as session:
        rows = boot.list_bootactions(session)
    return Table(["ACTION", "KERNEL", "RAMDISK", "ARGS"], rows, trim_owner=False)


@command("remove bootaction", "action?")
def remove_bootaction(action=None):
    """Remove a bootaction."""
    with transaction() as session:
        boot.remove_bootaction(session, action)


def _action_setter(kind: str, name: str):
    def run(host, action):
        with transaction() as session:
            boot.set_host_action(session, host, kind, action)

    run.__doc__ = f"Set the bootaction hosts use to {'install' if kind == 'installaction' else 'run'} (none clears)."
    command(name, "host+ action")(run)


_action_setter("installaction", "set host installaction")
_action_setter("runaction", "set host runaction")
_action_setter("installaction", "set host installation")  # the seed's spelling


@command("set host boot", "host+", ("action",))
def set_host_boot(host, action=None):
    """Set what hosts do at their next PXE boot: action=install (mints an install token) or os."""
    with transaction() as session:
        boot.set_hosts_boot(session, host, action)


@command("list host boot", "host*", ("showtoken",), json=True)
def list_host_boot(host, showtoken=None):
    """Hosts' next boot, install and run actions; showtoken=yes adds the install token."""
    show = truthy(showtoken)
    with transaction() as session:
        rows = boot.list_host_boot(session, host, show)
    header = ["HOST", "ACTION", "INSTALLACTION", "RUNACTION"] + (["TOKEN"] if show else [])
    return Table(header, rows, trim_owner=False)


@command("report host bootfile", "host+")
def report_host_bootfile(host):
    """Hosts' PXE files (pxelinux.cfg), as `sync host bootfile` writes them."""
    with transaction() as session:
        return bootfiles.report(session, host)


@command("sync host bootfile", "host*", ("tftpboot",))
def sync_host_bootfile(host, tftpboot=None):
    """Write pxelinux.cfg/<HEX-IP> files (all hosts when none named), atomically."""
    with transaction() as session:
        written, removed = bootfiles.sync(session, host, tftpboot)
    return f"wrote {written} boot files, removed {removed}\n"


@command("list host status", "host*", json=True)
def list_host_status(host):
    """Install progress: each host's next boot, last install stage, its time and address."""
    with transaction() as session:
        rows = install.host_status(session, host)
    return Table(["HOST", "BOOT", "STAGE", "TIME", "ADDRESS"], rows, trim_owner=False)


# --- rolls ------------------------------------------------------------------------------------
@command("add roll", "name", ("version", "arch", "os", "url"))
def add_roll(name, version=None, arch=None, os=None, url=None):
    """Add a roll: name, version=, arch= [os=linux] [url=]."""
    with transaction() as session:
        rolls.add_roll(session, name, version, arch, os, url)


@command("list roll", "name*", json=True)
def list_roll(name):
    """Rolls: NAME VERSION ARCH OS ENABLED URL."""
    with transaction() as session:
        rows = rolls.list_rolls(session, name)
    return Table(["NAME", "VERSION", "ARCH", "OS", "ENABLED", "URL"], rows, trim_owner=False)


def _enable(enabled: bool):
    def run(name, version=None, arch=None, os=None):
        with transaction() as session:
            rolls.enable_roll(session, name, enabled, version, arch, os)

    run.__doc__ = f"{'Enable' if enabled else 'Disable'} a roll (every version/arch unless given)."
    command(f"{'enable' if enabled else 'disable'} roll", "name", ("version", "arch", "os"))(run)


_enable(True)
_enable(False)


@command("remove roll", "name", ("version", "arch", "os"))
def remove_roll(name, version=None, arch=None, os=None):
    """Remove a roll (every version/arch unless given) and its host assignments."""
    with transaction() as session:
        rolls.remove_roll(session, name, version, arch, os)


@command("set host roll", "host name version arch", ("os",))
def set_host_roll(host, name, version, arch, os=None):
    """Give a frontend host a roll to install lights-out."""
    with transaction() as session:
        rolls.set_host_roll(session, [host], name, version, arch, os)


@command("remove host roll", "host name version? arch?", ("os",))
def remove_host_roll(host, name, version=None, arch=None, os=None):
    """Take a roll from a frontend host."""
    with transaction() as session:
        rolls.remove_host_roll(session, [host], name, version, arch, os)


@command("list host roll", "host*", json=True)
def list_host_roll(host):
    """Rolls of frontend hosts: HOST NAME VERSION ARCH OS."""
    with transaction() as session:
        rows = rolls.list_host_rolls(session, host)
    return Table(["HOST", "NAME", "VERSION", "ARCH", "OS"], rows, trim_owner=False)


@command("report host roll", "host*")
def report_host_roll(host):
    """rolls.xml of frontend hosts (what a lights-out install reads)."""
    with transaction() as session:
        return rolls.report_host_rolls(session, host)


# --- the server -------------------------------------------------------------------------------
@command("serve", "", ("bind", "workers", "threads", "timeout", "dev", "certfile", "keyfile", "warm"))
def serve(bind=None, workers=None, threads=None, timeout=None, dev=None, certfile=None, keyfile=None, warm=None):
    """Serve kickstarts, site.attrs and rolls.xml to installers (gunicorn; dev=yes: Flask's
    server). bind=HOST:PORT (0.0.0.0:8080), workers=2, threads= (share of
    max_concurrent_profiles); certfile= and keyfile= serve HTTPS, as the original's installers
    expect: a kickstart holds a password hash and the URL an install token. warm=no: do not
    render the kickstarts of hosts set to install ahead of their request."""
    from ksserver.web.serve import run

    if warm is not None and str(warm).strip().lower() not in _YES_NO:
        raise KsError(f'warm= takes yes or no, not "{warm}"')
    run(bind, workers, threads, truthy(dev), timeout, certfile=certfile, keyfile=keyfile,
        warm=warm is None or truthy(warm))


_YES_NO = {"yes", "no", "y", "n", "true", "false", "on", "off", "1", "0"}
