"""booking: when the client asked for a session inside the withdrawal period

Revision ID: 20261202_0013
Revises: 20261202_0019
Create Date: 2026-12-02 01:10:00

"""
from alembic import op
import sqlalchemy as sa

import reflexion.db_types


# revision identifiers, used by Alembic.
revision = '20261202_0013'
down_revision = '20261202_0019'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('booking', schema=None) as batch_op:
        batch_op.add_column(sa.Column('early_start_requested_at', reflexion.db_types.UTCDateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table('booking', schema=None) as batch_op:
        batch_op.drop_column('early_start_requested_at')
