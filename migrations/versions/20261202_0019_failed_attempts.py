"""failed attempts counted in the database (limits that hold across processes)

Revision ID: 20261202_0019
Revises: 20261202_0018
Create Date: 2026-12-02 01:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '20261202_0019'
down_revision = '20261202_0018'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'failed_attempts',
        sa.Column('scope', sa.String(length=200), nullable=False),
        sa.Column('window', sa.Integer(), nullable=False),
        sa.Column('count', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('scope', 'window'),
    )


def downgrade():
    op.drop_table('failed_attempts')
