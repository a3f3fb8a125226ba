"""withdrawal declarations: when one was made anonymous (retention purge, erasure)

Revision ID: 20261202_0023
Revises: 20261202_0022
Create Date: 2026-12-02 09:00:00

"""
from alembic import op
import sqlalchemy as sa

import reflexion.db_types


# revision identifiers, used by Alembic.
revision = '20261202_0023'
down_revision = '20261202_0022'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('withdrawal_declaration', schema=None) as batch_op:
        batch_op.add_column(sa.Column('anonymised_at', reflexion.db_types.UTCDateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table('withdrawal_declaration', schema=None) as batch_op:
        batch_op.drop_column('anonymised_at')
