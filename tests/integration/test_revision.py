"""The inventory revision: every change bumps it, whatever the path."""

from sqlalchemy import create_engine, text


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


def test_event_writer_groups_writes_and_keeps_every_event(ks):
    """Many events, few transactions; flush() writes at once; an event for a host that is
    gone costs only itself; close() writes what is left."""
    from ksserver.services.events import EventWriter

    ks.ok("add", "host", "compute-0-0")
    ks.ok("add", "host", "compute-0-1")
    eng = create_engine(ks.url)
    try:
        with eng.connect() as conn:
            ids = dict(conn.execute(text("SELECT name, id FROM hosts")).all())
        w = EventWriter(ks.url)
        for i in range(500):
            w.add(ids["compute-0-0"], "profile", f"127.0.0.{i % 250 + 1}", None)
        assert w.flush(10)
        assert w.written == 500 and w.batches < 50
        w.add(ids["compute-0-1"], "site.attrs", "127.0.0.1")
        w.add(999999, "profile", "127.0.0.9")  # no such host: refused by the foreign key
        w.add(ids["compute-0-1"], "installed", "127.0.0.1", "detail")
        w.close()
        with eng.connect() as conn:
            rows = conn.execute(text("SELECT h.name, e.stage, e.detail FROM install_events e "
                                     "JOIN hosts h ON h.id = e.host_id ORDER BY e.id")).all()
        assert len(rows) == 502
        assert [tuple(r) for r in rows[-2:]] == [("compute-0-1", "site.attrs", None), ("compute-0-1", "installed", "detail")]
        assert w.written == 502
        w.add(ids["compute-0-0"], "late", None)  # after close: written directly
        with eng.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM install_events WHERE stage = 'late'")).scalar() == 1
    finally:
        eng.dispose()


def test_hot_path_reads_fail_with_the_same_one_line_errors(tmp_path):
    """The kickstart path's reads raise the one-line errors every command raises."""
    import pytest

    from ksserver.db import queries
    from ksserver.db.session import connection
    from ksserver.errors import KsError

    (tmp_path / "empty.db").touch()  # a database without the schema
    with pytest.raises(KsError) as err:
        with connection(f"sqlite:///{tmp_path / 'empty.db'}") as conn:
            queries.host_records_by_ip(conn, "10.1.255.254")
    assert err.value.message == "the database has no ksserver schema: run `ksserver init` first"


def test_what_installers_report_moves_only_the_params_counter(ks):
    """arch and cpus (what an installer reports on its first fetch) bump ``params``; an
    UPDATE of any other column of hosts bumps the revision — every column, so that a
    column added later without its trigger fails here."""
    from sqlalchemy import inspect

    ks.ok("add", "host", "compute-0-0")
    eng = create_engine(ks.url)

    def counters():
        with eng.connect() as conn:
            return tuple(conn.execute(text("SELECT value, params FROM inventory_revision")).one())

    samples = {"name": "'compute-0-9'", "rack": "7", "rank": "7", "runaction": "'os'", "installaction": "'x'",
               "boot_action": "'install'", "install_token": "'tok'", "arch": "'i386'", "cpus": "16"}
    try:
        columns = {c["name"] for c in inspect(eng).get_columns("hosts")}
        with eng.connect() as conn:
            host = conn.execute(text("SELECT id, appliance_id, os_id FROM hosts WHERE name = 'compute-0-0'")).one()
        samples.update(id=str(host[0]), appliance_id=str(host[1]), os_id=str(host[2]))
        assert columns == set(samples), columns ^ set(samples)
        for column in sorted(columns):
            before = counters()
            with eng.begin() as conn:
                conn.execute(text(f"UPDATE hosts SET {column} = {samples[column]} WHERE id = {host[0]}"))
            after = counters()
            if column in ("arch", "cpus"):
                assert after == (before[0], before[1] + 1), column
            else:
                assert after[0] > before[0] and after[1] == before[1], column
    finally:
        eng.dispose()
