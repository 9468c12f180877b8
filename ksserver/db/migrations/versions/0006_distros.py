"""install trees: the distros a frontend serves

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02

``ksserver add distro NAME DIR`` registers a Red Hat-family tree read from its
``.treeinfo``; its bootactions and OS attributes are rows of their own tables. A change
moves the inventory revision, as every table a kickstart may depend on does (0003).
"""
from alembic import op
import sqlalchemy as sa

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "distros",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("path", sa.String(1024), nullable=False),
        sa.Column("family", sa.String(128), nullable=False),
        sa.Column("version", sa.String(64), nullable=False),
        sa.Column("arch", sa.String(32), nullable=False),
        sa.Column("kernel", sa.String(1024), nullable=False),
        sa.Column("initrd", sa.String(1024), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_distros")),
        sa.UniqueConstraint("name", name=op.f("uq_distros_name")),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE TRIGGER ksserver_rev_distros AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE "
            "ON distros FOR EACH STATEMENT EXECUTE FUNCTION ksserver_bump_revision()"
        )
    else:
        for event in ("INSERT", "UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER ksserver_rev_distros_{event.lower()} AFTER {event} ON distros "
                "BEGIN UPDATE inventory_revision SET value = value + 1 WHERE id = 1; END"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS ksserver_rev_distros ON distros")
    op.drop_table("distros")
