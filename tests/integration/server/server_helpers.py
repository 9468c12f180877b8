"""Helpers for the server tests (a module of its own: every conftest is named conftest)."""


def add_compute(ks, name: str, ip: str, mac: str) -> None:
    ks.ok("add", "host", name)
    ks.ok("add", "host", "interface", name, "eth0", f"ip={ip}", f"mac={mac}", "subnet=private", f"name={name}")
