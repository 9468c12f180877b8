"""what installers report (arch, CPU count) has a counter of its own

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25

On its first fetch every installer reports its arch and CPU count, and they are recorded
on its host. When that bumped the one inventory revision, a storm of first installs made
every worker drop all it had read, a few times a second. Now an UPDATE that sets only
``hosts.arch`` or ``hosts.cpus`` bumps ``inventory_revision.params`` instead, and readers
re-read only host records by it; any other change still bumps ``value``.

Every other column of ``hosts`` is listed in the trigger below: a migration that adds a
column to ``hosts`` must list it there too (``tests/integration/test_revision.py`` checks
every column).
"""
from alembic import op
import sqlalchemy as sa

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

PARAMS = ("arch", "cpus")
OTHERS = ("id", "name", "appliance_id", "os_id", "rack", "rank", "runaction", "installaction",
          "boot_action", "install_token")


def upgrade() -> None:
    with op.batch_alter_table("inventory_revision") as batch:
        batch.add_column(sa.Column("params", sa.BigInteger(), nullable=False, server_default="0"))
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION ksserver_bump_params() RETURNS trigger AS $$ "
            "BEGIN UPDATE inventory_revision SET params = params + 1 WHERE id = 1; RETURN NULL; END "
            "$$ LANGUAGE plpgsql"
        )
        op.execute("DROP TRIGGER ksserver_rev_hosts ON hosts")
        op.execute(
            "CREATE TRIGGER ksserver_rev_hosts AFTER INSERT OR DELETE OR TRUNCATE ON hosts "
            "FOR EACH STATEMENT EXECUTE FUNCTION ksserver_bump_revision()"
        )
        op.execute(
            f"CREATE TRIGGER ksserver_rev_hosts_update AFTER UPDATE OF {', '.join(OTHERS)} ON hosts "
            "FOR EACH STATEMENT EXECUTE FUNCTION ksserver_bump_revision()"
        )
        op.execute(
            f"CREATE TRIGGER ksserver_params_hosts AFTER UPDATE OF {', '.join(PARAMS)} ON hosts "
            "FOR EACH STATEMENT EXECUTE FUNCTION ksserver_bump_params()"
        )
    else:
        op.execute("DROP TRIGGER ksserver_rev_hosts_update")
        op.execute(
            f"CREATE TRIGGER ksserver_rev_hosts_update AFTER UPDATE OF {', '.join(OTHERS)} ON hosts "
            "BEGIN UPDATE inventory_revision SET value = value + 1 WHERE id = 1; END"
        )
        op.execute(
            f"CREATE TRIGGER ksserver_params_hosts AFTER UPDATE OF {', '.join(PARAMS)} ON hosts "
            "BEGIN UPDATE inventory_revision SET params = params + 1 WHERE id = 1; END"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER ksserver_params_hosts ON hosts")
        op.execute("DROP TRIGGER ksserver_rev_hosts_update ON hosts")
        op.execute("DROP TRIGGER ksserver_rev_hosts ON hosts")
        op.execute(
            "CREATE TRIGGER ksserver_rev_hosts AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON hosts "
            "FOR EACH STATEMENT EXECUTE FUNCTION ksserver_bump_revision()"
        )
        op.execute("DROP FUNCTION ksserver_bump_params()")
    else:
        op.execute("DROP TRIGGER ksserver_params_hosts")
        op.execute("DROP TRIGGER ksserver_rev_hosts_update")
        op.execute(
            "CREATE TRIGGER ksserver_rev_hosts_update AFTER UPDATE ON hosts "
            "BEGIN UPDATE inventory_revision SET value = value + 1 WHERE id = 1; END"
        )
    with op.batch_alter_table("inventory_revision") as batch:
        batch.drop_column("params")
