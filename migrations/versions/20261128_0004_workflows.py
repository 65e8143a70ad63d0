"""process instances, work items, timers, messages, webhooks (issue 5)

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28
"""

from alembic import op
import sqlalchemy as sa
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('process_definitions',
    sa.Column('spec_hash', sa.String(length=64), nullable=False),
    sa.Column('process_id', sa.String(length=100), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('file_name', sa.String(length=300), nullable=False),
    sa.Column('xml', sa.Text(), nullable=False),
    sa.Column('loaded_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('spec_hash', 'process_id', name=op.f('pk_process_definitions'))
    )
    op.create_table('webhook_receipts',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('system', sa.String(length=32), nullable=False),
    sa.Column('idempotency_key', sa.String(length=200), nullable=False),
    sa.Column('body_sha256', sa.String(length=64), nullable=False),
    sa.Column('event_type', sa.String(length=100), nullable=False),
    sa.Column('status_code', sa.Integer(), nullable=False),
    sa.Column('response', postgresql.JSONB(astext_type=Text()), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook_receipts')),
    sa.UniqueConstraint('system', 'idempotency_key', name='uq_webhook_receipts_key')
    )
    op.create_table('process_instances',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('process_id', sa.String(length=100), nullable=False),
    sa.Column('spec_hash', sa.String(length=64), nullable=False),
    sa.Column('business_key', sa.String(length=200), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('org_unit_id', sa.Integer(), nullable=True),
    sa.Column('state', sa.Text(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('started_by', sa.String(length=128), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.CheckConstraint("status IN ('running', 'completed', 'incident', 'cancelled')", name=op.f('ck_process_instances_status')),
    sa.ForeignKeyConstraint(['org_unit_id'], ['org_units.id'], name=op.f('fk_process_instances_org_unit_id_org_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_process_instances'))
    )
    op.create_index(op.f('ix_process_instances_org_unit_id'), 'process_instances', ['org_unit_id'], unique=False)
    op.create_index(op.f('ix_process_instances_process_id'), 'process_instances', ['process_id'], unique=False)
    op.create_index('uq_process_instances_business_key', 'process_instances', ['process_id', 'business_key'], unique=True, postgresql_where=sa.text('business_key IS NOT NULL'))
    op.create_table('process_events',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('instance_id', sa.BigInteger(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('bpmn_id', sa.String(length=100), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('actor', sa.String(length=128), nullable=False),
    sa.Column('detail', postgresql.JSONB(astext_type=Text()), nullable=True),
    sa.ForeignKeyConstraint(['instance_id'], ['process_instances.id'], name=op.f('fk_process_events_instance_id_process_instances')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_process_events'))
    )
    op.create_index(op.f('ix_process_events_instance_id'), 'process_events', ['instance_id'], unique=False)
    op.create_table('process_incidents',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('instance_id', sa.BigInteger(), nullable=False),
    sa.Column('task_id', sa.String(length=36), nullable=False),
    sa.Column('bpmn_id', sa.String(length=100), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('operation', sa.String(length=64), nullable=True),
    sa.Column('outbox_item_id', sa.BigInteger(), nullable=True),
    sa.Column('error', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('resolved_by', sa.String(length=128), nullable=True),
    sa.CheckConstraint("status IN ('open', 'retried', 'skipped', 'resolved')", name=op.f('ck_process_incidents_status')),
    sa.ForeignKeyConstraint(['instance_id'], ['process_instances.id'], name=op.f('fk_process_incidents_instance_id_process_instances')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_process_incidents'))
    )
    op.create_index(op.f('ix_process_incidents_instance_id'), 'process_incidents', ['instance_id'], unique=False)
    op.create_table('process_message_waits',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('instance_id', sa.BigInteger(), nullable=False),
    sa.Column('task_id', sa.String(length=36), nullable=False),
    sa.Column('bpmn_id', sa.String(length=100), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('correlation_key', sa.String(length=200), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['instance_id'], ['process_instances.id'], name=op.f('fk_process_message_waits_instance_id_process_instances')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_process_message_waits')),
    sa.UniqueConstraint('instance_id', 'task_id', name='uq_process_message_waits_task')
    )
    op.create_index(op.f('ix_process_message_waits_instance_id'), 'process_message_waits', ['instance_id'], unique=False)
    op.create_index('ix_process_message_waits_key', 'process_message_waits', ['name', 'correlation_key'], unique=False)
    op.create_table('process_messages',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('correlation_key', sa.String(length=200), nullable=True),
    sa.Column('payload', postgresql.JSONB(astext_type=Text()), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('instance_id', sa.BigInteger(), nullable=True),
    sa.Column('received_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('delivered_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("status IN ('pending', 'delivered')", name=op.f('ck_process_messages_status')),
    sa.ForeignKeyConstraint(['instance_id'], ['process_instances.id'], name=op.f('fk_process_messages_instance_id_process_instances')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_process_messages'))
    )
    op.create_index('ix_process_messages_pending', 'process_messages', ['name', 'correlation_key'], unique=False, postgresql_where=sa.text("status = 'pending'"))
    op.create_table('process_timers',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('instance_id', sa.BigInteger(), nullable=False),
    sa.Column('task_id', sa.String(length=36), nullable=False),
    sa.Column('bpmn_id', sa.String(length=100), nullable=False),
    sa.Column('fire_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('fired_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("status IN ('pending', 'fired', 'cancelled')", name=op.f('ck_process_timers_status')),
    sa.ForeignKeyConstraint(['instance_id'], ['process_instances.id'], name=op.f('fk_process_timers_instance_id_process_instances')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_process_timers')),
    sa.UniqueConstraint('instance_id', 'task_id', name='uq_process_timers_task')
    )
    op.create_index('ix_process_timers_due', 'process_timers', ['fire_at'], unique=False, postgresql_where=sa.text("status = 'pending'"))
    op.create_index(op.f('ix_process_timers_instance_id'), 'process_timers', ['instance_id'], unique=False)
    op.create_table('work_items',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('instance_id', sa.BigInteger(), nullable=False),
    sa.Column('task_id', sa.String(length=36), nullable=False),
    sa.Column('process_id', sa.String(length=100), nullable=False),
    sa.Column('bpmn_id', sa.String(length=100), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('candidate_group', sa.String(length=64), nullable=False),
    sa.Column('role', sa.String(length=32), nullable=False),
    sa.Column('org_unit_id', sa.Integer(), nullable=True),
    sa.Column('assignee_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('priority', sa.Integer(), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('form_schema', postgresql.JSONB(astext_type=Text()), nullable=True),
    sa.Column('data', postgresql.JSONB(astext_type=Text()), nullable=False),
    sa.Column('result', postgresql.JSONB(astext_type=Text()), nullable=True),
    sa.Column('business_key', sa.String(length=200), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('completed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('completed_by', sa.String(length=128), nullable=True),
    sa.CheckConstraint("status IN ('open', 'completed', 'cancelled')", name=op.f('ck_work_items_status')),
    sa.ForeignKeyConstraint(['assignee_id'], ['users.id'], name=op.f('fk_work_items_assignee_id_users')),
    sa.ForeignKeyConstraint(['instance_id'], ['process_instances.id'], name=op.f('fk_work_items_instance_id_process_instances')),
    sa.ForeignKeyConstraint(['org_unit_id'], ['org_units.id'], name=op.f('fk_work_items_org_unit_id_org_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_work_items')),
    sa.UniqueConstraint('instance_id', 'task_id', name='uq_work_items_task')
    )
    op.create_index(op.f('ix_work_items_assignee_id'), 'work_items', ['assignee_id'], unique=False)
    op.create_index(op.f('ix_work_items_instance_id'), 'work_items', ['instance_id'], unique=False)
    op.create_index(op.f('ix_work_items_org_unit_id'), 'work_items', ['org_unit_id'], unique=False)
    op.create_index('ix_work_items_queue', 'work_items', ['status', 'role', 'due_at'], unique=False)
    op.create_table('work_queue_filters',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('query', sa.String(length=1000), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_work_queue_filters_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_work_queue_filters')),
    sa.UniqueConstraint('user_id', 'name', name='uq_work_queue_filters_name')
    )
    op.create_index(op.f('ix_work_queue_filters_user_id'), 'work_queue_filters', ['user_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_work_queue_filters_user_id'), table_name='work_queue_filters')
    op.drop_table('work_queue_filters')
    op.drop_index('ix_work_items_queue', table_name='work_items')
    op.drop_index(op.f('ix_work_items_org_unit_id'), table_name='work_items')
    op.drop_index(op.f('ix_work_items_instance_id'), table_name='work_items')
    op.drop_index(op.f('ix_work_items_assignee_id'), table_name='work_items')
    op.drop_table('work_items')
    op.drop_index(op.f('ix_process_timers_instance_id'), table_name='process_timers')
    op.drop_index('ix_process_timers_due', table_name='process_timers', postgresql_where=sa.text("status = 'pending'"))
    op.drop_table('process_timers')
    op.drop_index('ix_process_messages_pending', table_name='process_messages', postgresql_where=sa.text("status = 'pending'"))
    op.drop_table('process_messages')
    op.drop_index('ix_process_message_waits_key', table_name='process_message_waits')
    op.drop_index(op.f('ix_process_message_waits_instance_id'), table_name='process_message_waits')
    op.drop_table('process_message_waits')
    op.drop_index(op.f('ix_process_incidents_instance_id'), table_name='process_incidents')
    op.drop_table('process_incidents')
    op.drop_index(op.f('ix_process_events_instance_id'), table_name='process_events')
    op.drop_table('process_events')
    op.drop_index('uq_process_instances_business_key', table_name='process_instances', postgresql_where=sa.text('business_key IS NOT NULL'))
    op.drop_index(op.f('ix_process_instances_process_id'), table_name='process_instances')
    op.drop_index(op.f('ix_process_instances_org_unit_id'), table_name='process_instances')
    op.drop_table('process_instances')
    op.drop_table('webhook_receipts')
    op.drop_table('process_definitions')
