"""install server and virtual clusters: bootactions, rolls, install events, partitions, VMs

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 14:30:33.627265
"""
from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('bootactions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('action', sa.String(length=256), nullable=False),
    sa.Column('kernel', sa.String(length=1024), nullable=True),
    sa.Column('ramdisk', sa.String(length=1024), nullable=True),
    sa.Column('args', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bootactions')),
    sa.UniqueConstraint('action', name=op.f('uq_bootactions_action'))
    )
    op.create_table('rolls',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=128), nullable=False),
    sa.Column('version', sa.String(length=64), nullable=False),
    sa.Column('arch', sa.String(length=32), nullable=False),
    sa.Column('os', sa.String(length=32), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('url', sa.String(length=1024), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rolls')),
    sa.UniqueConstraint('name', 'version', 'arch', 'os', name='uq_rolls_identity')
    )
    op.create_table('host_rolls',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('host_id', sa.Integer(), nullable=False),
    sa.Column('roll_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['host_id'], ['hosts.id'], name=op.f('fk_host_rolls_host_id_hosts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['roll_id'], ['rolls.id'], name=op.f('fk_host_rolls_roll_id_rolls'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_host_rolls')),
    sa.UniqueConstraint('host_id', 'roll_id', name='uq_host_rolls_pair')
    )
    with op.batch_alter_table('host_rolls', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_host_rolls_host_id'), ['host_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_host_rolls_roll_id'), ['roll_id'], unique=False)

    op.create_table('install_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('host_id', sa.Integer(), nullable=False),
    sa.Column('stage', sa.String(length=32), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('remote_addr', sa.String(length=64), nullable=True),
    sa.Column('detail', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['host_id'], ['hosts.id'], name=op.f('fk_install_events_host_id_hosts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_install_events'))
    )
    with op.batch_alter_table('install_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_install_events_host_id'), ['host_id'], unique=False)

    op.create_table('partitions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('host_id', sa.Integer(), nullable=False),
    sa.Column('device', sa.String(length=128), nullable=False),
    sa.Column('mountpoint', sa.String(length=512), nullable=True),
    sa.Column('size', sa.String(length=64), nullable=True),
    sa.Column('fstype', sa.String(length=64), nullable=True),
    sa.ForeignKeyConstraint(['host_id'], ['hosts.id'], name=op.f('fk_partitions_host_id_hosts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_partitions')),
    sa.UniqueConstraint('host_id', 'device', name='uq_partitions_host_device')
    )
    with op.batch_alter_table('partitions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_partitions_host_id'), ['host_id'], unique=False)

    op.create_table('vm_nodes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('host_id', sa.Integer(), nullable=False),
    sa.Column('physnode_id', sa.Integer(), nullable=False),
    sa.Column('mem', sa.Integer(), nullable=False),
    sa.Column('slice', sa.Integer(), nullable=False),
    sa.Column('virt_type', sa.String(length=64), nullable=True),
    sa.ForeignKeyConstraint(['host_id'], ['hosts.id'], name=op.f('fk_vm_nodes_host_id_hosts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['physnode_id'], ['hosts.id'], name=op.f('fk_vm_nodes_physnode_id_hosts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_vm_nodes')),
    sa.UniqueConstraint('host_id', name=op.f('uq_vm_nodes_host_id'))
    )
    with op.batch_alter_table('vm_nodes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_vm_nodes_physnode_id'), ['physnode_id'], unique=False)

    op.create_table('vm_disks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('vm_node_id', sa.Integer(), nullable=False),
    sa.Column('vbd_type', sa.String(length=32), nullable=False),
    sa.Column('prefix', sa.String(length=1024), nullable=False),
    sa.Column('name', sa.String(length=1024), nullable=False),
    sa.Column('device', sa.String(length=32), nullable=False),
    sa.Column('mode', sa.String(length=32), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['vm_node_id'], ['vm_nodes.id'], name=op.f('fk_vm_disks_vm_node_id_vm_nodes'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_vm_disks'))
    )
    with op.batch_alter_table('vm_disks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_vm_disks_vm_node_id'), ['vm_node_id'], unique=False)

    with op.batch_alter_table('hosts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('boot_action', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('install_token', sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_hosts_install_token'), ['install_token'])



def downgrade() -> None:
    with op.batch_alter_table('hosts', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_hosts_install_token'), type_='unique')
        batch_op.drop_column('install_token')
        batch_op.drop_column('boot_action')

    with op.batch_alter_table('vm_disks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_vm_disks_vm_node_id'))

    op.drop_table('vm_disks')
    with op.batch_alter_table('vm_nodes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_vm_nodes_physnode_id'))

    op.drop_table('vm_nodes')
    with op.batch_alter_table('partitions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_partitions_host_id'))

    op.drop_table('partitions')
    with op.batch_alter_table('install_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_install_events_host_id'))

    op.drop_table('install_events')
    with op.batch_alter_table('host_rolls', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_host_rolls_roll_id'))
        batch_op.drop_index(batch_op.f('ix_host_rolls_host_id'))

    op.drop_table('host_rolls')
    op.drop_table('rolls')
    op.drop_table('bootactions')
