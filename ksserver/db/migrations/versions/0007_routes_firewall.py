"""static routes and firewall rules at the four levels

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02

The original kept routes and firewall rules per level (global, OS, appliance, node); its
graphs read a host's through ``rocks report host route|firewall`` and its default route
through ``report host network``. One table each, the level a column. A change moves the
inventory revision (0003).
"""
from alembic import op
import sqlalchemy as sa

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "routes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("level", sa.String(1), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=True),
        sa.Column("network", sa.String(64), nullable=False),
        sa.Column("netmask", sa.String(64), nullable=False),
        sa.Column("gateway", sa.String(255), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_routes")),
        sa.UniqueConstraint("level", "owner_id", "network", name="uq_routes_level_owner_network"),
    )
    op.create_index(op.f("ix_routes_owner_id"), "routes", ["owner_id"])
    op.create_table(
        "firewall_rules",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("level", sa.String(1), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=True),
        sa.Column("network", sa.String(64), nullable=True),
        sa.Column("output_network", sa.String(64), nullable=True),
        sa.Column("service", sa.String(64), nullable=False),
        sa.Column("protocol", sa.String(16), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("chain", sa.String(32), nullable=False),
        sa.Column("flags", sa.String(255), nullable=True),
        sa.Column("comment", sa.String(255), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_firewall_rules")),
    )
    op.create_index(op.f("ix_firewall_rules_owner_id"), "firewall_rules", ["owner_id"])
    for table in ("routes", "firewall_rules"):
        if op.get_bind().dialect.name == "postgresql":
            op.execute(
                f"CREATE TRIGGER ksserver_rev_{table} AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE "
                f"ON {table} FOR EACH STATEMENT EXECUTE FUNCTION ksserver_bump_revision()"
            )
        else:
            for event in ("INSERT", "UPDATE", "DELETE"):
                op.execute(
                    f"CREATE TRIGGER ksserver_rev_{table}_{event.lower()} AFTER {event} ON {table} "
                    "BEGIN UPDATE inventory_revision SET value = value + 1 WHERE id = 1; END"
                )


def downgrade() -> None:
    for table in ("firewall_rules", "routes"):
        if op.get_bind().dialect.name == "postgresql":
            op.execute(f"DROP TRIGGER IF EXISTS ksserver_rev_{table} ON {table}")
        op.drop_index(op.f(f"ix_{table}_owner_id"), table_name=table)
        op.drop_table(table)
