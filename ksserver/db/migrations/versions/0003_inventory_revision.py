"""inventory revision: one counter that every change to the inventory bumps

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25

Database triggers keep it, so no write path — a service, a bulk insert, a hand-typed SQL
statement, another ksserver node on the same database — can change the inventory without
it. Readers on a hot path compare one number instead of re-reading what did not change.
"""
from alembic import op
import sqlalchemy as sa

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

#: every table whose rows a kickstart, site.attrs or rolls.xml depends on (not install_events)
TABLES = (
    "oses", "appliances", "hosts", "networks", "interfaces",
    "global_attributes", "os_attributes", "appliance_attributes", "host_attributes",
    "bootactions", "rolls", "host_rolls", "partitions", "vm_nodes", "vm_disks",
)


def upgrade() -> None:
    op.create_table(
        "inventory_revision",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inventory_revision")),
    )
    op.execute("INSERT INTO inventory_revision (id, value) VALUES (1, 0)")
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION ksserver_bump_revision() RETURNS trigger AS $$ "
            "BEGIN UPDATE inventory_revision SET value = value + 1 WHERE id = 1; RETURN NULL; END "
            "$$ LANGUAGE plpgsql"
        )
        for table in TABLES:
            op.execute(
                f"CREATE TRIGGER ksserver_rev_{table} AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE "
                f"ON {table} FOR EACH STATEMENT EXECUTE FUNCTION ksserver_bump_revision()"
            )
    else:
        for table in TABLES:
            for event in ("INSERT", "UPDATE", "DELETE"):
                op.execute(
                    f"CREATE TRIGGER ksserver_rev_{table}_{event.lower()} AFTER {event} ON {table} "
                    "BEGIN UPDATE inventory_revision SET value = value + 1 WHERE id = 1; END"
                )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in TABLES:
            op.execute(f"DROP TRIGGER IF EXISTS ksserver_rev_{table} ON {table}")
        op.execute("DROP FUNCTION IF EXISTS ksserver_bump_revision()")
    else:
        for table in TABLES:
            for event in ("insert", "update", "delete"):
                op.execute(f"DROP TRIGGER IF EXISTS ksserver_rev_{table}_{event}")
    op.drop_table("inventory_revision")
