"""notifications outbox, device tokens, opt-outs, staff OTPs (issue 6)

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28
"""

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('device_tokens',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('consumer_id', sa.Integer(), nullable=False),
    sa.Column('token', sa.String(length=512), nullable=False),
    sa.Column('platform', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('last_used_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('retired_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('retired_reason', sa.String(length=200), nullable=True),
    sa.CheckConstraint("platform IN ('android', 'ios', 'web')", name=op.f('ck_device_tokens_platform')),
    sa.ForeignKeyConstraint(['consumer_id'], ['consumers.id'], name=op.f('fk_device_tokens_consumer_id_consumers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_device_tokens')),
    sa.UniqueConstraint('token', name=op.f('uq_device_tokens_token'))
    )
    op.create_index(op.f('ix_device_tokens_consumer_id'), 'device_tokens', ['consumer_id'], unique=False)
    op.create_table('notification_opt_outs',
    sa.Column('consumer_id', sa.Integer(), nullable=False),
    sa.Column('source', sa.String(length=32), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['consumer_id'], ['consumers.id'], name=op.f('fk_notification_opt_outs_consumer_id_consumers')),
    sa.PrimaryKeyConstraint('consumer_id', name=op.f('pk_notification_opt_outs'))
    )
    op.create_table('notifications',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('recipient_kind', sa.String(length=8), nullable=False),
    sa.Column('consumer_id', sa.Integer(), nullable=True),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('org_unit_id', sa.Integer(), nullable=True),
    sa.Column('mobile', sa.String(length=16), nullable=True),
    sa.Column('device_token_id', sa.BigInteger(), nullable=True),
    sa.Column('channels', sa.String(length=64), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=True),
    sa.Column('message_type', sa.String(length=32), nullable=False),
    sa.Column('language', sa.String(length=2), nullable=False),
    sa.Column('params', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('sealed_params', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('sms_segments', sa.Integer(), nullable=False),
    sa.Column('dedupe_key', sa.String(length=200), nullable=False),
    sa.Column('priority', sa.String(length=8), nullable=False),
    sa.Column('queue', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('provider', sa.String(length=16), nullable=True),
    sa.Column('provider_id', sa.String(length=200), nullable=True),
    sa.Column('provider_status', sa.String(length=32), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('max_attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('claimed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('delivered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('failed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("priority IN ('urgent', 'normal')", name=op.f('ck_notifications_priority')),
    sa.CheckConstraint("recipient_kind IN ('consumer', 'user')", name=op.f('ck_notifications_recipient_kind')),
    sa.CheckConstraint("status IN ('queued', 'sending', 'sent', 'delivered', 'failed', 'suppressed')", name=op.f('ck_notifications_status')),
    sa.CheckConstraint('(consumer_id IS NULL) <> (user_id IS NULL)', name=op.f('ck_notifications_one_recipient')),
    sa.ForeignKeyConstraint(['consumer_id'], ['consumers.id'], name=op.f('fk_notifications_consumer_id_consumers')),
    sa.ForeignKeyConstraint(['device_token_id'], ['device_tokens.id'], name=op.f('fk_notifications_device_token_id_device_tokens')),
    sa.ForeignKeyConstraint(['org_unit_id'], ['org_units.id'], name=op.f('fk_notifications_org_unit_id_org_units')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_notifications_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notifications')),
    sa.UniqueConstraint('dedupe_key', name=op.f('uq_notifications_dedupe_key'))
    )
    op.create_index(op.f('ix_notifications_consumer_id'), 'notifications', ['consumer_id'], unique=False)
    op.create_index('ix_notifications_created_at', 'notifications', ['created_at'], unique=False)
    op.create_index('ix_notifications_due', 'notifications', ['next_attempt_at'], unique=False, postgresql_where=sa.text("status = 'queued'"))
    op.create_index(op.f('ix_notifications_org_unit_id'), 'notifications', ['org_unit_id'], unique=False)
    op.create_index('ix_notifications_provider_id', 'notifications', ['provider', 'provider_id'], unique=False)
    op.create_index(op.f('ix_notifications_user_id'), 'notifications', ['user_id'], unique=False)
    op.create_table('staff_otps',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('purpose', sa.String(length=64), nullable=False),
    sa.Column('object_key', sa.String(length=128), nullable=False),
    sa.Column('code_hash', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('max_attempts', sa.Integer(), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('notification_id', sa.BigInteger(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("status IN ('active', 'used', 'exhausted', 'superseded')", name=op.f('ck_staff_otps_status')),
    sa.ForeignKeyConstraint(['notification_id'], ['notifications.id'], name=op.f('fk_staff_otps_notification_id_notifications')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_staff_otps_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_staff_otps'))
    )
    op.create_index('ix_staff_otps_user_created', 'staff_otps', ['user_id', 'id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_staff_otps_user_created', table_name='staff_otps')
    op.drop_table('staff_otps')
    op.drop_index(op.f('ix_notifications_user_id'), table_name='notifications')
    op.drop_index('ix_notifications_provider_id', table_name='notifications')
    op.drop_index(op.f('ix_notifications_org_unit_id'), table_name='notifications')
    op.drop_index('ix_notifications_due', table_name='notifications', postgresql_where=sa.text("status = 'queued'"))
    op.drop_index('ix_notifications_created_at', table_name='notifications')
    op.drop_index(op.f('ix_notifications_consumer_id'), table_name='notifications')
    op.drop_table('notifications')
    op.drop_table('notification_opt_outs')
    op.drop_index(op.f('ix_device_tokens_consumer_id'), table_name='device_tokens')
    op.drop_table('device_tokens')
