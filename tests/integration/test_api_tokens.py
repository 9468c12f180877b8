"""API tokens (issue 15's first piece): shown once, kept as a digest, checked, removed."""

from __future__ import annotations

import json

from ksserver.db.session import transaction
from ksserver.services import tokens


def test_a_token_is_shown_once_kept_as_its_digest_and_checked(ks):
    out = ks.ok("add", "api", "token", "ansible", "role=admin").splitlines()
    assert out[0] == ("created API token ansible (role admin); it is shown only now: keep it where a password "
                      "would be kept")
    token = out[-1]
    assert token.startswith("ks_") and len(token) == 46
    # the listing never shows it; the database holds its SHA-256, not the token
    rows = json.loads(ks.ok("list", "api", "token", "--json"))
    assert [(r["name"], r["role"], r["last_used"]) for r in rows] == [("ansible", "admin", None)]
    assert token not in ks.ok("list", "api", "token")
    with transaction(ks.url) as s:
        assert tokens.verify(s, token) == ("ansible", "admin")
        assert tokens.verify(s, token[:-1] + ("A" if token[-1] != "A" else "B")) is None
        assert tokens.verify(s, None) is None and tokens.verify(s, "Bearer " + token) is None
    if ks.backend == "sqlite":  # the database file and its write-ahead log, as they are on disk
        stored = b"".join(p.read_bytes() for p in ks.path.glob("ksserver.db*"))
        assert tokens.digest(token).encode() in stored and token.encode() not in stored
        assert (ks.path / "ksserver.db").stat().st_mode & 0o077 == 0  # not readable by others
    assert json.loads(ks.ok("list", "api", "token", "--json"))[0]["last_used"]  # its use was recorded
    # read is the default role; the other errors are one line
    assert ks.ok("add", "api", "token", "dashboard").startswith("created API token dashboard (role read);")
    assert json.loads(ks.ok("list", "api", "token", "--json"))[1]["role"] == "read"
    assert ks.fails("add", "api", "token", "ansible") == 'error - API token "ansible" exists'
    assert ks.fails("add", "api", "token", "x", "role=root") == 'error - invalid role "root": read or admin'
    ks.ok("remove", "api", "token", "ansible")
    with transaction(ks.url) as s:
        assert tokens.verify(s, token) is None  # it stops working at once
    assert ks.fails("remove", "api", "token", "ansible") == 'error - no API token "ansible"'
