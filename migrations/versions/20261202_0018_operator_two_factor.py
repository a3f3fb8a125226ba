"""operator second factor: TOTP secret, last used step, lockout, recovery codes

Revision ID: 20261202_0018
Revises: 20261201_0003
Create Date: 2026-12-02 01:30:00

"""
from alembic import op
import sqlalchemy as sa

from reflexion.db_types import UTCDateTime


# revision identifiers, used by Alembic.
revision = '20261202_0018'
down_revision = '20261201_0003'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('operator', schema=None) as batch_op:
        batch_op.add_column(sa.Column('totp_secret', sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column('totp_pending_secret', sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column('totp_last_step', sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column('totp_failures', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('totp_locked_until', UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('recovery_code_hashes', sa.Text(), nullable=True))


def downgrade():
    with op.batch_alter_table('operator', schema=None) as batch_op:
        for name in ('recovery_code_hashes', 'totp_locked_until', 'totp_failures', 'totp_last_step',
                     'totp_pending_secret', 'totp_secret'):
            batch_op.drop_column(name)
