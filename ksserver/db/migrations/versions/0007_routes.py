"""static routes at the four levels

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02

The original kept routes per level (global, OS, appliance, node); its graphs read a host's
through ``rocks report host route`` and its default route through ``report host network``.
One table, the level a column. A change moves the inventory revision (0003).
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
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE TRIGGER ksserver_rev_routes AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE "
            "ON routes FOR EACH STATEMENT EXECUTE FUNCTION ksserver_bump_revision()"
        )
    else:
        for event in ("INSERT", "UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER ksserver_rev_routes_{event.lower()} AFTER {event} ON routes "
                "BEGIN UPDATE inventory_revision SET value = value + 1 WHERE id = 1; END"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS ksserver_rev_routes ON routes")
    op.drop_index(op.f("ix_routes_owner_id"), table_name="routes")
    op.drop_table("routes")
