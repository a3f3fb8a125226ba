"""availability version: a counter every committed change to bookings or opening hours raises

Revision ID: 20261202_0020
Revises: 20261202_0017
Create Date: 2026-12-02 05:00:00

"""
from alembic import op
import sqlalchemy as sa

from reflexion.availability.slot_cache import first_version


# revision identifiers, used by Alembic.
revision = '20261202_0020'
down_revision = '20261202_0017'
branch_labels = None
depends_on = None


def upgrade():
    table = op.create_table(
        'availability_version',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('version', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    op.bulk_insert(table, [{"id": 1, "version": first_version()}])


def downgrade():
    op.drop_table('availability_version')
