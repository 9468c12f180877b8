"""The install server and what it serves: bootactions, boot state, PXE files, rolls,
install status, and ``ksserver serve``."""

from ksserver.cli.results import Table
from ksserver.errors import KsError
from ksserver.services import boot, bootfiles, install, rolls, views
from ksserver.truth import NO, YES, is_yes


def add_bootaction(session, action=None, kernel=None, ramdisk=None, args=None):
    boot.add_bootaction(session, action, kernel, ramdisk, args)


def list_bootaction(session):
    return Table(views.BOOTACTION.header, boot.list_bootactions(session), trim_owner=False)


def remove_bootaction(session, action=None):
    boot.remove_bootaction(session, action)


def set_host_action(session, host, action, kind):
    boot.set_host_action(session, host, kind, action)


def set_host_boot(session, host, action=None):
    boot.set_hosts_boot(session, host, action)


def list_host_boot(session, host, showtoken=None):
    show = is_yes(showtoken)
    header = ["HOST", "ACTION", "INSTALLACTION", "RUNACTION"] + (["TOKEN"] if show else [])
    return Table(header, boot.list_host_boot(session, host, show), trim_owner=False)


def report_host_bootfile(session, host):
    return bootfiles.report(session, host)


def sync_host_bootfile(session, host, tftpboot=None):
    written, removed = bootfiles.sync(session, host, tftpboot)
    return f"wrote {written} boot file{'' if written == 1 else 's'}, removed {removed}\n"


def list_host_status(session, host):
    return Table(views.STATUS.header, install.host_status(session, host), trim_owner=False)


def add_roll(session, name, version=None, arch=None, os=None, url=None):
    rolls.add_roll(session, name, version, arch, os, url)


def list_roll(session, name):
    return Table(views.ROLL.header, rolls.list_rolls(session, name), trim_owner=False)


def enable_roll(session, name, enabled, version=None, arch=None, os=None):
    rolls.enable_roll(session, name, enabled, version, arch, os)


def remove_roll(session, name, version=None, arch=None, os=None):
    rolls.remove_roll(session, name, version, arch, os)


def set_host_roll(session, host, name, version, arch, os=None):
    rolls.set_host_roll(session, [host], name, version, arch, os)


def remove_host_roll(session, host, name, version=None, arch=None, os=None):
    rolls.remove_host_roll(session, [host], name, version, arch, os)


def list_host_roll(session, host):
    return Table(["HOST", "NAME", "VERSION", "ARCH", "OS"], rolls.list_host_rolls(session, host), trim_owner=False)


def report_host_roll(session, host):
    return rolls.report_host_rolls(session, host)


def serve(power, bind=None, workers=None, threads=None, timeout=None, dev=None, certfile=None, keyfile=None, warm=None,
          api=None):
    import sys

    from ksserver.web.serve import run

    if warm is not None and str(warm).strip().lower() not in YES | NO:
        raise KsError(f'warm= takes yes or no, not "{warm}"')
    # the API's jobs run ksserver commands (insert ethers) in processes of their own
    command = [sys.executable, "-m", "ksserver"]
    run(bind, workers, threads, is_yes(dev), timeout, certfile=certfile, keyfile=keyfile, warm=warm is None or is_yes(warm),
        api=api, power=power, command=command)
