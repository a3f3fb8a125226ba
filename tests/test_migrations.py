"""The Alembic migrations build exactly the schema the models describe."""
import json

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade

from reflexion.extensions import db


def test_upgrade_gives_the_models_schema_and_downgrade_removes_it(app):
    db.drop_all()
    upgrade()
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"render_as_batch": True})
        diff = compare_metadata(context, db.metadata)
    assert diff == [], diff
    downgrade(revision="base")
    with db.engine.connect() as connection:
        tables = set(db.inspect(connection).get_table_names()) - {"alembic_version"}
    assert tables == set()


def test_old_english_notes_become_codes_and_typed_text_stays(app):
    """Migration 20261202_0014: known sentences become codes (with the payment method as a
    parameter), typed text stays free text; the downgrade writes the sentences back."""
    from sqlalchemy import text

    db.drop_all()
    upgrade(revision="20261201_0003")
    notes = ["client answered the call", "paid by cash", "abuse; remaining time consumed: threats",
             "ended by the operator", "Kundin bat darum", None]
    with db.engine.begin() as connection:
        connection.execute(text(
            "INSERT INTO booking (id, ref, access_key_hash, state, start_at, end_at, name, email, call_handle,"
            " lang, created_at, created_by, fee_cents, currency, verify_failures, ical_uid, ical_sequence)"
            " VALUES (1, 'R1', 'h', 'completed', '2026-11-23 09:00:00', '2026-11-23 09:45:00', 'n', 'e', 'c',"
            " 'de', '2026-11-20 09:00:00', 'client', 9000, 'EUR', 0, 'u1', 0)"))
        for i, note in enumerate(notes, 1):
            connection.execute(text(
                "INSERT INTO booking_transition (id, booking_id, from_state, to_state, actor, at, note)"
                " VALUES (:id, 1, 'a', 'b', 'operator', '2026-11-23 09:00:00', :note)"), {"id": i, "note": note})
    upgrade()
    with db.engine.connect() as connection:
        rows = connection.execute(text(
            "SELECT note_code, note_params, note FROM booking_transition ORDER BY id")).all()
    params = [json.loads(p) if isinstance(p, str) else p for _, p, _ in rows]
    assert [(code, param, note) for (code, _, note), param in zip(rows, params)] == [
        ("answered", None, None), ("paid", {"method": "cash"}, None), ("abuse", None, "threats"),
        ("ended_by_operator", None, None), (None, None, "Kundin bat darum"), (None, None, None)]
    downgrade(revision="20261201_0003")
    with db.engine.connect() as connection:
        back = [n for (n,) in connection.execute(text("SELECT note FROM booking_transition ORDER BY id"))]
    assert back == notes
    downgrade(revision="base")
