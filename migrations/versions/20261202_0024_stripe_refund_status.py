"""stripe checkouts: the refund Stripe holds for them and its last reported status

Revision ID: 20261202_0024
Revises: 20261202_0023
Create Date: 2026-12-02 10:00:00

"""
from alembic import op
import sqlalchemy as sa

import reflexion.db_types


# revision identifiers, used by Alembic.
revision = '20261202_0024'
down_revision = '20261202_0023'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('stripe_checkout', schema=None) as batch_op:
        batch_op.add_column(sa.Column('refund_id', sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column('refund_status', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('refund_reported_at', reflexion.db_types.UTCDateTime(timezone=True),
                                      nullable=True))
        batch_op.create_index(batch_op.f('ix_stripe_checkout_refund_id'), ['refund_id'], unique=False)


def downgrade():
    with op.batch_alter_table('stripe_checkout', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_stripe_checkout_refund_id'))
        batch_op.drop_column('refund_reported_at')
        batch_op.drop_column('refund_status')
        batch_op.drop_column('refund_id')
