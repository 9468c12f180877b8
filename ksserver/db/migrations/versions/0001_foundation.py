"""foundation: inventory and attributes at four levels

Revision ID: 0001
Revises: 
Create Date: 2026-11-25 14:21:33.035678
"""
from alembic import op
import sqlalchemy as sa


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('appliances',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('membership', sa.String(length=64), nullable=False),
    sa.Column('node', sa.String(length=64), nullable=True),
    sa.Column('graph', sa.String(length=64), nullable=False),
    sa.Column('public', sa.Boolean(), nullable=False),
    sa.Column('kickstartable', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_appliances')),
    sa.UniqueConstraint('membership', name=op.f('uq_appliances_membership')),
    sa.UniqueConstraint('name', name=op.f('uq_appliances_name'))
    )
    op.create_table('global_attributes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=128), nullable=False),
    sa.Column('value', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_global_attributes')),
    sa.UniqueConstraint('name', name=op.f('uq_global_attributes_name'))
    )
    op.create_table('networks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('subnet', sa.String(length=64), nullable=False),
    sa.Column('netmask', sa.String(length=64), nullable=False),
    sa.Column('dnszone', sa.String(length=255), nullable=False),
    sa.Column('mtu', sa.Integer(), nullable=False),
    sa.Column('servedns', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_networks')),
    sa.UniqueConstraint('dnszone', name=op.f('uq_networks_dnszone')),
    sa.UniqueConstraint('name', name=op.f('uq_networks_name'))
    )
    op.create_table('oses',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=32), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_oses')),
    sa.UniqueConstraint('name', name=op.f('uq_oses_name'))
    )
    op.create_table('appliance_attributes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('appliance_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=128), nullable=False),
    sa.Column('value', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['appliance_id'], ['appliances.id'], name=op.f('fk_appliance_attributes_appliance_id_appliances'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_appliance_attributes')),
    sa.UniqueConstraint('appliance_id', 'name', name='uq_appliance_attributes_owner_name')
    )
    op.create_table('hosts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=128), nullable=False),
    sa.Column('appliance_id', sa.Integer(), nullable=False),
    sa.Column('os_id', sa.Integer(), nullable=False),
    sa.Column('rack', sa.Integer(), nullable=False),
    sa.Column('rank', sa.Integer(), nullable=False),
    sa.Column('cpus', sa.Integer(), nullable=False),
    sa.Column('arch', sa.String(length=32), nullable=True),
    sa.Column('runaction', sa.String(length=256), nullable=True),
    sa.Column('installaction', sa.String(length=256), nullable=True),
    sa.ForeignKeyConstraint(['appliance_id'], ['appliances.id'], name=op.f('fk_hosts_appliance_id_appliances')),
    sa.ForeignKeyConstraint(['os_id'], ['oses.id'], name=op.f('fk_hosts_os_id_oses')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_hosts')),
    sa.UniqueConstraint('name', name=op.f('uq_hosts_name'))
    )
    with op.batch_alter_table('hosts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_hosts_appliance_id'), ['appliance_id'], unique=False)

    op.create_table('os_attributes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('os_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=128), nullable=False),
    sa.Column('value', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['os_id'], ['oses.id'], name=op.f('fk_os_attributes_os_id_oses'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_os_attributes')),
    sa.UniqueConstraint('os_id', 'name', name='uq_os_attributes_owner_name')
    )
    op.create_table('host_attributes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('host_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=128), nullable=False),
    sa.Column('value', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['host_id'], ['hosts.id'], name=op.f('fk_host_attributes_host_id_hosts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_host_attributes')),
    sa.UniqueConstraint('host_id', 'name', name='uq_host_attributes_owner_name')
    )
    with op.batch_alter_table('host_attributes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_host_attributes_host_id'), ['host_id'], unique=False)

    op.create_table('interfaces',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('host_id', sa.Integer(), nullable=False),
    sa.Column('device', sa.String(length=64), nullable=False),
    sa.Column('mac', sa.String(length=64), nullable=True),
    sa.Column('ip', sa.String(length=64), nullable=True),
    sa.Column('network_id', sa.Integer(), nullable=True),
    sa.Column('module', sa.String(length=128), nullable=True),
    sa.Column('vlan', sa.Integer(), nullable=True),
    sa.Column('name', sa.String(length=255), nullable=True),
    sa.Column('options', sa.String(length=255), nullable=True),
    sa.Column('channel', sa.String(length=128), nullable=True),
    sa.ForeignKeyConstraint(['host_id'], ['hosts.id'], name=op.f('fk_interfaces_host_id_hosts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['network_id'], ['networks.id'], name=op.f('fk_interfaces_network_id_networks')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_interfaces')),
    sa.UniqueConstraint('host_id', 'device', name='uq_interfaces_host_device')
    )
    with op.batch_alter_table('interfaces', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_interfaces_host_id'), ['host_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_interfaces_ip'), ['ip'], unique=False)
        batch_op.create_index(batch_op.f('ix_interfaces_mac'), ['mac'], unique=False)
        batch_op.create_index(batch_op.f('ix_interfaces_name'), ['name'], unique=False)
        batch_op.create_index(batch_op.f('ix_interfaces_network_id'), ['network_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('interfaces', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_interfaces_network_id'))
        batch_op.drop_index(batch_op.f('ix_interfaces_name'))
        batch_op.drop_index(batch_op.f('ix_interfaces_mac'))
        batch_op.drop_index(batch_op.f('ix_interfaces_ip'))
        batch_op.drop_index(batch_op.f('ix_interfaces_host_id'))

    op.drop_table('interfaces')
    with op.batch_alter_table('host_attributes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_host_attributes_host_id'))

    op.drop_table('host_attributes')
    op.drop_table('os_attributes')
    with op.batch_alter_table('hosts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_hosts_appliance_id'))

    op.drop_table('hosts')
    op.drop_table('appliance_attributes')
    op.drop_table('oses')
    op.drop_table('networks')
    op.drop_table('global_attributes')
    op.drop_table('appliances')
