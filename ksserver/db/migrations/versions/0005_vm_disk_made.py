"""a VM disk remembers that its image was made

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02

``start host vm`` makes the missing disk images of a VM being installed. A disk whose image
existed once and is gone (deleted, or lost in a move) must not silently come back empty:
``made`` says the image has existed, and a start then refuses instead.
"""
from alembic import op
import sqlalchemy as sa

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("vm_disks") as batch:
        batch.add_column(sa.Column("made", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("vm_disks") as batch:
        batch.drop_column("made")
