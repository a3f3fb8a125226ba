"""booking changes: reschedule count, refunds, e-mail parameters

Revision ID: 20261202_0017
Revises: 20261202_0016
Create Date: 2026-12-02 01:15:00

"""
from alembic import op
import sqlalchemy as sa

import reflexion.db_types


# revision identifiers, used by Alembic.
revision = '20261202_0017'
down_revision = '20261202_0016'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('booking', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reschedule_count', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('refund_cents', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('refund_state', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('refund_due_at', reflexion.db_types.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('refunded_at', reflexion.db_types.UTCDateTime(timezone=True), nullable=True))
    with op.batch_alter_table('outgoing_email', schema=None) as batch_op:
        batch_op.add_column(sa.Column('params', sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table('outgoing_email', schema=None) as batch_op:
        batch_op.drop_column('params')
    with op.batch_alter_table('booking', schema=None) as batch_op:
        batch_op.drop_column('refunded_at')
        batch_op.drop_column('refund_due_at')
        batch_op.drop_column('refund_state')
        batch_op.drop_column('refund_cents')
        batch_op.drop_column('reschedule_count')
