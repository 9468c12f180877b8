"""Helpers for the server tests (a module of its own: every conftest is named conftest)."""


def add_compute(ks, name: str, ip: str, mac: str) -> None:
    ks.ok("add", "host", name)
    ks.ok("add", "host", "interface", name, "eth0", f"ip={ip}", f"mac={mac}", "subnet=private", f"name={name}")


def wait_for_status(ks, expect: dict[str, dict[str, str]], timeout: float = 10.0) -> dict[str, dict]:
    """``list host status`` once it shows ``expect`` (host → column → value). Install events
    are written behind the responses (``services.events``: within a fraction of a second),
    so a test that reads them right after a request waits for them; it fails as the plain
    assertion would if they never come."""
    import json

    from waiting import wait_until

    def shown():
        status = {r["host"]: r for r in json.loads(ks.ok("list", "host", "status", "--json"))}
        ok = all(all(status.get(h, {}).get(k) == v for k, v in cols.items()) for h, cols in expect.items())
        return status if ok else None

    return wait_until(shown, f"install status to show {expect}", timeout, 0.1)
