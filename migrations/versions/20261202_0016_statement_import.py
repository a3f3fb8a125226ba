"""bank-statement import: imported statements, their credits (stable identity) and the operator's actions; payment.booked_on

Revision ID: 20261202_0016
Revises: 20261202_0014
Create Date: 2026-12-02 01:30:00

"""
from alembic import op
import sqlalchemy as sa

import reflexion.db_types


revision = '20261202_0016'
down_revision = '20261202_0014'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'statement_import',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('filename', sa.String(length=255), nullable=True),
        sa.Column('format', sa.String(length=32), nullable=False),
        sa.Column('accounts', sa.String(length=500), nullable=False),
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('imported_at', reflexion.db_types.UTCDateTime(timezone=True), nullable=False),
        sa.Column('imported_by', sa.String(length=254), nullable=False),
        sa.Column('lines_total', sa.Integer(), nullable=False),
        sa.Column('matched', sa.Integer(), nullable=False),
        sa.Column('needs_attention', sa.Integer(), nullable=False),
        sa.Column('already_imported', sa.Integer(), nullable=False),
        sa.Column('skipped', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_statement_import')),
    )
    op.create_table(
        'statement_entry',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('import_id', sa.Integer(), nullable=False),
        sa.Column('identity', sa.String(length=64), nullable=False),
        sa.Column('account', sa.String(length=64), nullable=False),
        sa.Column('entry_ref', sa.String(length=120), nullable=True),
        sa.Column('booked_on', sa.Date(), nullable=True),
        sa.Column('value_on', sa.Date(), nullable=True),
        sa.Column('amount_cents', sa.Integer(), nullable=False),
        sa.Column('currency', sa.String(length=3), nullable=False),
        sa.Column('remittance', sa.Text(), nullable=True),
        sa.Column('end_to_end_id', sa.String(length=120), nullable=True),
        sa.Column('debtor_name', sa.String(length=140), nullable=True),
        sa.Column('debtor_iban', sa.String(length=40), nullable=True),
        sa.Column('outcome', sa.String(length=32), nullable=False),
        sa.Column('booking_id', sa.Integer(), nullable=True),
        sa.Column('payment_id', sa.Integer(), nullable=True),
        sa.Column('resolution', sa.String(length=16), nullable=True),
        sa.Column('resolved_at', reflexion.db_types.UTCDateTime(timezone=True), nullable=True),
        sa.Column('resolved_by', sa.String(length=254), nullable=True),
        sa.Column('refund_cents', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['import_id'], ['statement_import.id'], name=op.f('fk_statement_entry_import_id_statement_import'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['booking_id'], ['booking.id'], name=op.f('fk_statement_entry_booking_id_booking'), ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['payment_id'], ['payment.id'], name=op.f('fk_statement_entry_payment_id_payment'), ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_statement_entry')),
        sa.UniqueConstraint('identity', name=op.f('uq_statement_entry_identity')),
    )
    with op.batch_alter_table('statement_entry', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_statement_entry_import_id'), ['import_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_statement_entry_booking_id'), ['booking_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_statement_entry_outcome'), ['outcome'], unique=False)
        batch_op.create_index(batch_op.f('ix_statement_entry_resolution'), ['resolution'], unique=False)
    op.create_table(
        'statement_entry_action',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('entry_id', sa.Integer(), nullable=False),
        sa.Column('action', sa.String(length=16), nullable=False),
        sa.Column('actor', sa.String(length=254), nullable=False),
        sa.Column('at', reflexion.db_types.UTCDateTime(timezone=True), nullable=False),
        sa.Column('booking_id', sa.Integer(), nullable=True),
        sa.Column('note', sa.String(length=500), nullable=True),
        sa.ForeignKeyConstraint(['entry_id'], ['statement_entry.id'], name=op.f('fk_statement_entry_action_entry_id_statement_entry'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_statement_entry_action')),
    )
    with op.batch_alter_table('statement_entry_action', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_statement_entry_action_entry_id'), ['entry_id'], unique=False)
    with op.batch_alter_table('payment', schema=None) as batch_op:
        batch_op.add_column(sa.Column('booked_on', sa.Date(), nullable=True))


def downgrade():
    with op.batch_alter_table('payment', schema=None) as batch_op:
        batch_op.drop_column('booked_on')
    op.drop_table('statement_entry_action')
    op.drop_table('statement_entry')
    op.drop_table('statement_import')
