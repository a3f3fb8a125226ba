"""online payment with Stripe Checkout: the sessions started and the webhook events handled

Revision ID: 20261202_0021
Revises: 20261202_0020
Create Date: 2026-12-02 06:00:00

"""
from alembic import op
import sqlalchemy as sa

import reflexion.db_types


# revision identifiers, used by Alembic.
revision = '20261202_0021'
down_revision = '20261202_0020'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'stripe_checkout',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('session_id', sa.String(length=255), nullable=False),
        sa.Column('booking_id', sa.Integer(), nullable=False),
        sa.Column('amount_cents', sa.Integer(), nullable=False),
        sa.Column('currency', sa.String(length=3), nullable=False),
        sa.Column('created_at', reflexion.db_types.UTCDateTime(timezone=True), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('payment_intent', sa.String(length=255), nullable=True),
        sa.Column('paid_cents', sa.Integer(), nullable=True),
        sa.Column('paid_currency', sa.String(length=3), nullable=True),
        sa.Column('updated_at', reflexion.db_types.UTCDateTime(timezone=True), nullable=True),
        sa.Column('needs_attention', sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.ForeignKeyConstraint(['booking_id'], ['booking.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('session_id'),
    )
    with op.batch_alter_table('stripe_checkout', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_stripe_checkout_booking_id'), ['booking_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_stripe_checkout_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_stripe_checkout_payment_intent'), ['payment_intent'], unique=False)
        batch_op.create_index(batch_op.f('ix_stripe_checkout_needs_attention'), ['needs_attention'], unique=False)
    op.create_table(
        'stripe_event',
        sa.Column('event_id', sa.String(length=255), nullable=False),
        sa.Column('type', sa.String(length=64), nullable=False),
        sa.Column('received_at', reflexion.db_types.UTCDateTime(timezone=True), nullable=False),
        sa.Column('session_id', sa.String(length=255), nullable=True),
        sa.Column('outcome', sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint('event_id'),
    )


def downgrade():
    op.drop_table('stripe_event')
    with op.batch_alter_table('stripe_checkout', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_stripe_checkout_needs_attention'))
        batch_op.drop_index(batch_op.f('ix_stripe_checkout_payment_intent'))
        batch_op.drop_index(batch_op.f('ix_stripe_checkout_status'))
        batch_op.drop_index(batch_op.f('ix_stripe_checkout_booking_id'))
    op.drop_table('stripe_checkout')
