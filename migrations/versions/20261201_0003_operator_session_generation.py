"""operator session generation (server-side session revocation)

Revision ID: 20261201_0003
Revises: 20261201_0002
Create Date: 2026-12-01 23:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '20261201_0003'
down_revision = '20261201_0002'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('operator', schema=None) as batch_op:
        batch_op.add_column(sa.Column('session_generation', sa.Integer(), server_default='0', nullable=False))


def downgrade():
    with op.batch_alter_table('operator', schema=None) as batch_op:
        batch_op.drop_column('session_generation')
