"""withdrawal declarations: the withdrawal function's record of every declaration

Revision ID: 20261202_0022
Revises: 20261202_0021
Create Date: 2026-12-02 06:30:00

"""
from alembic import op
import sqlalchemy as sa

import reflexion.db_types


# revision identifiers, used by Alembic.
revision = '20261202_0022'
down_revision = '20261202_0021'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'withdrawal_declaration',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('reference', sa.String(length=64), nullable=False),
        sa.Column('name', sa.String(length=120), nullable=False),
        sa.Column('email', sa.String(length=254), nullable=False),
        sa.Column('lang', sa.String(length=2), nullable=False),
        sa.Column('declared_at', reflexion.db_types.UTCDateTime(timezone=True), nullable=False),
        sa.Column('booking_id', sa.Integer(), nullable=True),
        sa.Column('outcome', sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(['booking_id'], ['booking.id'], ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('withdrawal_declaration', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_withdrawal_declaration_booking_id'), ['booking_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_withdrawal_declaration_declared_at'), ['declared_at'], unique=False)


def downgrade():
    with op.batch_alter_table('withdrawal_declaration', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_withdrawal_declaration_declared_at'))
        batch_op.drop_index(batch_op.f('ix_withdrawal_declaration_booking_id'))
    op.drop_table('withdrawal_declaration')
