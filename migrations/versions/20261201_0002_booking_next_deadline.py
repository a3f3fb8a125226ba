"""booking.next_deadline_at: when the clock next changes a booking (the reconcile sweep's index)

Revision ID: 20261201_0002
Revises: 20261125_0001
Create Date: 2026-12-01 22:30:00

Existing rows get a conservative value (never later than the true deadline): the payment
deadline, the booked start for confirmed and due bookings, the end for answered and
in-progress ones. The sweep corrects an early value the first time it looks at the row.
"""
from alembic import op
import sqlalchemy as sa

import reflexion.db_types


revision = '20261201_0002'
down_revision = '20261125_0001'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('booking', schema=None) as batch_op:
        batch_op.add_column(sa.Column('next_deadline_at', reflexion.db_types.UTCDateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f('ix_booking_next_deadline_at'), ['next_deadline_at'], unique=False)
    op.execute(
        "UPDATE booking SET next_deadline_at = CASE"
        " WHEN state = 'awaiting_payment' THEN payment_deadline"
        " WHEN state IN ('confirmed', 'due') THEN start_at"
        " WHEN state IN ('answered', 'in_progress') THEN end_at"
        " ELSE NULL END"
    )


def downgrade():
    with op.batch_alter_table('booking', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_booking_next_deadline_at'))
        batch_op.drop_column('next_deadline_at')
