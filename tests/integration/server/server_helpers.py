"""Helpers for the server tests (a module of its own: every conftest is named conftest)."""


def add_compute(ks, name: str, ip: str, mac: str) -> None:
    ks.ok("add", "host", name)
    ks.ok("add", "host", "interface", name, "eth0", f"ip={ip}", f"mac={mac}", "subnet=private", f"name={name}")


def wait_for_status(ks, expect: dict[str, dict[str, str]], timeout: float = 10.0) -> dict[str, dict]:
    """``list host status`` once it shows ``expect`` (host → column → value). Install events
    are written behind the responses (``services.events``: within a fraction of a second),
    so a test that reads them right after a request waits for them; it fails as the plain
    assertion would, showing the last status, if they never come."""
    import json
    import time

    deadline = time.monotonic() + timeout
    while True:
        status = {r["host"]: r for r in json.loads(ks.ok("list", "host", "status", "--json"))}
        if all(all(status.get(h, {}).get(k) == v for k, v in cols.items()) for h, cols in expect.items()):
            return status
        if time.monotonic() > deadline:
            raise AssertionError(f"install status never showed {expect}: {status}")
        time.sleep(0.1)

