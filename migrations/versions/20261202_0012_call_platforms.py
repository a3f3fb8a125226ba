"""call platforms: the booked platform on bookings and contact messages

Revision ID: 20261202_0012
Revises: 20261202_0011
Create Date: 2026-12-02 01:15:00

Existing bookings and contact messages with a call handle were all taken for the one platform
the practice used; they move to the default platform, Microsoft Teams. Their handles stay.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '20261202_0012'
down_revision = '20261202_0011'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('booking', schema=None) as batch_op:
        batch_op.add_column(sa.Column('call_platform', sa.String(length=32), server_default='teams',
                                      nullable=False))
        batch_op.add_column(sa.Column('operator_handle', sa.String(length=64), nullable=True))
    with op.batch_alter_table('contact_message', schema=None) as batch_op:
        batch_op.add_column(sa.Column('call_platform', sa.String(length=32), nullable=True))
    op.execute("UPDATE contact_message SET call_platform = 'teams' WHERE call_handle IS NOT NULL")


def downgrade():
    with op.batch_alter_table('contact_message', schema=None) as batch_op:
        batch_op.drop_column('call_platform')
    with op.batch_alter_table('booking', schema=None) as batch_op:
        batch_op.drop_column('operator_handle')
        batch_op.drop_column('call_platform')
