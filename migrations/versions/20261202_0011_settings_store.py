"""settings store (values, audit, version) and the rules a booking was made under

Revision ID: 20261202_0011
Revises: 20261202_0015
Create Date: 2026-12-02 01:30:00

Existing bookings keep the length they were booked with (their end minus their start) and get
the no-answer window of the current configuration; their terms version is already stored.
"""
import os

from alembic import op
import sqlalchemy as sa

import reflexion.db_types


revision = '20261202_0011'
down_revision = '20261202_0015'
branch_labels = None
depends_on = None


def _configured_no_answer_minutes() -> float:
    try:
        from flask import current_app

        return float(current_app.config["NO_ANSWER_MINUTES"])
    except (RuntimeError, KeyError):  # run without the app (plain alembic)
        return float(os.environ.get("REFLEXION_NO_ANSWER_MINUTES") or 15)


def upgrade():
    op.create_table(
        'setting',
        sa.Column('key', sa.String(length=64), nullable=False),
        sa.Column('value', sa.Text(), nullable=False),
        sa.Column('updated_at', reflexion.db_types.UTCDateTime(timezone=True), nullable=False),
        sa.Column('updated_by', sa.String(length=254), nullable=False),
        sa.PrimaryKeyConstraint('key'),
    )
    op.create_table(
        'setting_change',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('at', reflexion.db_types.UTCDateTime(timezone=True), nullable=False),
        sa.Column('actor', sa.String(length=254), nullable=False),
        sa.Column('key', sa.String(length=64), nullable=False),
        sa.Column('old_value', sa.Text(), nullable=True),
        sa.Column('new_value', sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('setting_change', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_setting_change_at'), ['at'], unique=False)
    version = op.create_table(
        'settings_version',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('version', sa.Integer(), server_default='0', nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    op.bulk_insert(version, [{'id': 1, 'version': 0}])

    with op.batch_alter_table('booking', schema=None) as batch_op:
        batch_op.add_column(sa.Column('session_minutes', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('no_answer_minutes', sa.Float(), nullable=True))
    booking = sa.table('booking', sa.column('id', sa.Integer()),
                       sa.column('start_at', reflexion.db_types.UTCDateTime(timezone=True)),
                       sa.column('end_at', reflexion.db_types.UTCDateTime(timezone=True)),
                       sa.column('session_minutes', sa.Float()), sa.column('no_answer_minutes', sa.Float()))
    bind = op.get_bind()
    no_answer = _configured_no_answer_minutes()
    rows = [{'row_id': row.id, 'minutes': (row.end_at - row.start_at).total_seconds() / 60}
            for row in bind.execute(sa.select(booking.c.id, booking.c.start_at, booking.c.end_at))]
    if rows:
        bind.execute(booking.update().where(booking.c.id == sa.bindparam('row_id'))
                     .values(session_minutes=sa.bindparam('minutes'), no_answer_minutes=no_answer), rows)
    with op.batch_alter_table('booking', schema=None) as batch_op:
        batch_op.alter_column('session_minutes', existing_type=sa.Float(), nullable=False)
        batch_op.alter_column('no_answer_minutes', existing_type=sa.Float(), nullable=False)


def downgrade():
    with op.batch_alter_table('booking', schema=None) as batch_op:
        batch_op.drop_column('no_answer_minutes')
        batch_op.drop_column('session_minutes')
    op.drop_table('settings_version')
    with op.batch_alter_table('setting_change', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_setting_change_at'))
    op.drop_table('setting_change')
    op.drop_table('setting')
