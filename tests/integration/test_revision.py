"""The inventory revision: every change bumps it, whatever the path; the memo follows it."""

from sqlalchemy import create_engine, text

from ksserver.db.revision import RevisionMemo
from ksserver.db.session import transaction


def revision(ks) -> int:
    eng = create_engine(ks.url)
    try:
        with eng.connect() as conn:
            return conn.execute(text("SELECT value FROM inventory_revision")).scalar()
    finally:
        eng.dispose()


def test_every_kind_of_change_bumps_the_revision(ks):
    steps = [
        ("set", "attr", "x", "1"),
        ("set", "os", "attr", "linux", "x", "2"),
        ("set", "appliance", "attr", "compute", "x", "3"),
        ("add", "host", "compute-0-0"),
        ("set", "host", "attr", "compute-0-0", "x", "4"),
        ("add", "host", "interface", "compute-0-0", "eth0", "ip=10.1.255.254", "subnet=private"),
        ("set", "host", "boot", "compute-0-0", "action=install"),
        ("remove", "host", "attr", "compute-0-0", "x"),
        ("remove", "host", "compute-0-0"),
    ]
    before = revision(ks)
    for step in steps:
        ks.ok(*step)
        after = revision(ks)
        assert after > before, step
        before = after
    # reads change nothing
    ks.ok("list", "host", "attr")
    assert revision(ks) == before


def test_a_direct_sql_change_bumps_it_too_and_events_do_not(ks):
    before = revision(ks)
    eng = create_engine(ks.url)
    try:
        with eng.begin() as conn:
            conn.execute(text("UPDATE global_attributes SET value = 'x' WHERE name = 'Kickstart_Lang'"))
        mid = revision(ks)
        assert mid > before
        with eng.begin() as conn:
            host = conn.execute(text("SELECT id FROM hosts")).scalar()
            conn.execute(text("INSERT INTO install_events (host_id, stage, at) VALUES (:h, 'profile', CURRENT_TIMESTAMP)"), {"h": host})
        assert revision(ks) == mid
    finally:
        eng.dispose()


def test_memo_answers_from_memory_until_the_inventory_changes(ks):
    memo = RevisionMemo()
    calls = []

    def read(session):
        cached = memo.bind(session)
        return cached("k", lambda: calls.append(1) or len(calls))

    with transaction(ks.url) as s:
        assert read(s) == 1
    with transaction(ks.url) as s:
        assert read(s) == 1  # same revision: no second read
    ks.ok("set", "attr", "y", "1")
    with transaction(ks.url) as s:
        assert read(s) == 2  # changed: read again
