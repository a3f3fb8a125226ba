"""receipts and credit notes with gap-free numbers

Revision ID: 20261202_0015
Revises: 20261202_0013
Create Date: 2026-12-02 01:20:00

"""
from alembic import op
import sqlalchemy as sa

from reflexion.db_types import UTCDateTime


# revision identifiers, used by Alembic.
revision = '20261202_0015'
down_revision = '20261202_0013'
branch_labels = None
depends_on = None


def upgrade():
    counter = op.create_table(
        'document_counter',
        sa.Column('series', sa.String(length=16), nullable=False),
        sa.Column('last_number', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('series'),
    )
    # One row per series from the start, so issuing never has to create one.
    op.bulk_insert(counter, [{'series': 'receipt', 'last_number': 0}, {'series': 'credit_note', 'last_number': 0}])
    op.create_table(
        'receipt',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('number', sa.Integer(), nullable=False),
        sa.Column('booking_id', sa.Integer(), nullable=True),
        sa.Column('payment_id', sa.Integer(), nullable=True),
        sa.Column('refers_to_id', sa.Integer(), nullable=True),
        sa.Column('issued_at', UTCDateTime(timezone=True), nullable=False),
        sa.Column('lang', sa.String(length=2), nullable=False),
        sa.Column('booking_ref', sa.String(length=16), nullable=False),
        sa.Column('client_name', sa.String(length=120), nullable=False),
        sa.Column('seller_name', sa.String(length=200), nullable=False),
        sa.Column('seller_brand', sa.String(length=200), nullable=False),
        sa.Column('seller_address', sa.Text(), nullable=False),
        sa.Column('seller_email', sa.String(length=254), nullable=False),
        sa.Column('vat_mode', sa.String(length=16), nullable=False),
        sa.Column('vat_rate_percent', sa.String(length=8), nullable=False),
        sa.Column('vat_id', sa.String(length=40), nullable=False),
        sa.Column('tax_number', sa.String(length=40), nullable=False),
        sa.Column('service_start', UTCDateTime(timezone=True), nullable=False),
        sa.Column('service_minutes', sa.String(length=12), nullable=False),
        sa.Column('amount_cents', sa.Integer(), nullable=False),
        sa.Column('currency', sa.String(length=3), nullable=False),
        sa.Column('paid_at', UTCDateTime(timezone=True), nullable=True),
        sa.Column('payment_method', sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(['booking_id'], ['booking.id'], ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['payment_id'], ['payment.id'], ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['refers_to_id'], ['receipt.id'], ),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('kind', 'number', name='uq_receipt_kind_number'),
        sa.UniqueConstraint('payment_id'),
    )
    with op.batch_alter_table('receipt', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_receipt_booking_id'), ['booking_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_receipt_refers_to_id'), ['refers_to_id'], unique=False)


def downgrade():
    with op.batch_alter_table('receipt', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_receipt_refers_to_id'))
        batch_op.drop_index(batch_op.f('ix_receipt_booking_id'))
    op.drop_table('receipt')
    op.drop_table('document_counter')
