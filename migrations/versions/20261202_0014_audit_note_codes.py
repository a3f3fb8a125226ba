"""audit notes as codes: booking_transition.note_code and note_params

Revision ID: 20261202_0014
Revises: 20261202_0012
Create Date: 2026-12-02 01:20:00

The English sentences the system wrote become codes (rendered in the reader's language when
shown). "paid by <method>" keeps its method as a parameter; "abuse; remaining time
consumed: <typed>" keeps the typed part as the free-text note. Any other text (what the
operator typed) stays as free text. The downgrade writes the English sentences back.
"""
import json

from alembic import op
import sqlalchemy as sa


revision = '20261202_0014'
down_revision = '20261202_0012'
branch_labels = None
depends_on = None

# Frozen copy of the texts of that time (the app's table may change later; a migration must not).
_FIXED = {
    "payment deadline passed": "payment_deadline_passed",
    "booked start reached": "start_reached",
    "not answered within the no-answer window": "not_answered",
    "hard end reached": "hard_end",
    "call begun before the booked start": "call_begun_early",
    "client answered the call": "answered",
    "confirmation data verified": "verified",
    "identity not confirmed": "identity_not_confirmed",
    "ended by the operator": "ended_by_operator",
    "cancelled on the booking page": "cancelled_by_client",
    "cancelled by the operator": "cancelled_by_operator",
}
_ABUSE = "abuse; remaining time consumed"
_PAID = "paid by "

_transition = sa.table(
    "booking_transition",
    sa.column("id", sa.Integer),
    sa.column("note", sa.String),
    sa.column("note_code", sa.String),
    sa.column("note_params", sa.JSON),
)


def _code_of(note: str):
    """(code, params, free text) for an old note; (None, None, note) when it is typed text."""
    if note in _FIXED:
        return _FIXED[note], None, None
    if note == _ABUSE:
        return "abuse", None, None
    if note.startswith(_ABUSE + ": "):
        return "abuse", None, note[len(_ABUSE) + 2:]
    if note.startswith(_PAID) and note[len(_PAID):].replace("_", "").isalnum():
        return "paid", {"method": note[len(_PAID):]}, None
    return None, None, note


def upgrade():
    with op.batch_alter_table('booking_transition', schema=None) as batch_op:
        batch_op.add_column(sa.Column('note_code', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('note_params', sa.JSON(), nullable=True))
    connection = op.get_bind()
    rows = connection.execute(sa.select(_transition.c.id, _transition.c.note)
                              .where(_transition.c.note.isnot(None))).all()
    for row_id, note in rows:
        code, params, text = _code_of(note)
        if code is not None:
            connection.execute(_transition.update().where(_transition.c.id == row_id)
                               .values(note_code=code, note_params=params, note=text))


_CODE_TEXTS = {code: text for text, code in _FIXED.items()}


def downgrade():
    connection = op.get_bind()
    rows = connection.execute(sa.select(_transition.c.id, _transition.c.note, _transition.c.note_code,
                                        _transition.c.note_params)
                              .where(_transition.c.note_code.isnot(None))).all()
    for row_id, note, code, params in rows:
        if isinstance(params, str):  # some drivers hand JSON back as text
            params = json.loads(params)
        if code == "paid":
            text = _PAID + (params or {}).get("method", "")
        elif code == "abuse":
            text = _ABUSE + (f": {note}" if note else "")
        else:
            fixed = _CODE_TEXTS.get(code, code)
            text = f"{fixed}: {note}" if note else fixed
        connection.execute(_transition.update().where(_transition.c.id == row_id).values(note=text[:500]))
    with op.batch_alter_table('booking_transition', schema=None) as batch_op:
        batch_op.drop_column('note_params')
        batch_op.drop_column('note_code')
