"""The operator's statement upload (/operator/payments/import): login, CSRF, size limit, results, actions."""
import io
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import func, select

from reflexion.payments.models import StatementEntry, StatementEntryAction, StatementImport

NOW = datetime(2026, 11, 23, 8, 0, tzinfo=timezone.utc)
START = datetime(2026, 11, 26, 8, 0, tzinfo=timezone.utc)
FILES = Path(__file__).parent / "statements"
CAMT_02 = (FILES / "sparkasse_camt053_001_02.xml").read_bytes()
URL = "/operator/payments/import"


def _login(client, db):
    from reflexion.operator.auth import create_operator

    create_operator("op@example.com", "correct horse battery")
    db.session.commit()
    client.application.config["OPERATOR_SESSION_MAX_HOURS"] = 24 * 365
    response = client.post("/operator/login", data={"email": "op@example.com", "password": "correct horse battery",
                                                     **_token(client, "/operator/login")})
    assert response.status_code == 303


def _token(client, url):
    if not client.application.config["WTF_CSRF_ENABLED"]:
        return {}
    from flask import g

    # The test's app context (conftest) outlives each request, and flask-wtf caches the token
    # in ``g``: forget the one from before the login (which cleared the session).
    g.pop("csrf_token", None)
    html = client.get(url).get_data(as_text=True)
    return {"csrf_token": re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', html).group(1)}


@pytest.fixture
def bookings(db, make_booking, frozen_now):
    frozen_now(NOW)
    made = {}
    for i, (ref, name) in enumerate([("R-7KQ4M2", "Erika Mustermann"), ("R-WN5T8C", "Sabine Koch"),
                                     ("R-Q2J7VA", "Thomas Wagner")]):
        booking = make_booking(START + timedelta(hours=2 * i), name=name)
        booking.ref = ref
        made[ref] = booking
    db.session.commit()
    return made


def _upload(client, data, name="auszug.xml", **extra):
    return client.post(URL, data={"statement": (io.BytesIO(data), name), **extra},
                       content_type="multipart/form-data")


def test_the_import_page_needs_a_login(client, db):
    assert client.get(URL).status_code in (302, 303)
    response = _upload(client, CAMT_02)
    assert response.status_code in (302, 303) and "/operator/login" in response.headers["Location"]
    assert db.session.scalar(select(func.count()).select_from(StatementImport)) == 0


def test_upload_confirms_matches_and_shows_what_needs_attention_in_german(client, db, bookings):
    _login(client, db)
    page = client.get(URL).get_data(as_text=True)
    assert "Kontoauszug importieren" in page and 'enctype="multipart/form-data"' in page
    response = _upload(client, CAMT_02)
    assert response.status_code == 303
    result = client.get(response.headers["Location"]).get_data(as_text=True)
    assert 'data-matched="R-7KQ4M2"' in result
    assert 'data-outcome="partial"' in result and 'data-outcome="no_reference"' in result
    assert 'data-suggested="R-Q2J7VA"' in result  # by the payer's name and the amount
    assert "Weniger als das Honorar" in result and "Trotzdem bestätigen" in result
    db.session.expire_all()
    assert bookings["R-7KQ4M2"].state == "confirmed"
    again = client.get(client.post(URL, data={"statement": (io.BytesIO(CAMT_02), "auszug.xml")},
                                   content_type="multipart/form-data").headers["Location"]).get_data(as_text=True)
    assert 'data-count="already_imported">5<' in again


def test_actions_from_the_panel_confirm_mark_refund_and_ignore(client, db, bookings):
    _login(client, db)
    _upload(client, CAMT_02)
    entries = {e.outcome: e for e in db.session.scalars(select(StatementEntry))}
    partial, no_ref = entries["partial"], entries["no_reference"]
    response = client.post(f"/operator/payments/entries/{partial.id}", data={"action": "confirm", "back": "import",
                                                                           "ref": "r wn5t8c"})
    assert response.status_code == 303
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "R-WN5T8C ist bestätigt" in page
    response = client.post(f"/operator/payments/entries/{no_ref.id}", data={"action": "refund_due",
                                                                          "note": "zurück überweisen"})
    assert response.status_code == 303
    again = client.post(f"/operator/payments/entries/{no_ref.id}", data={"action": "ignore"})
    assert "bereits erledigt" in client.get(again.headers["Location"]).get_data(as_text=True)
    db.session.expire_all()
    assert bookings["R-WN5T8C"].state == "confirmed" and no_ref.resolution == "refund_due"
    actions = db.session.scalars(select(StatementEntryAction.action).where(
        StatementEntryAction.actor == "op@example.com").order_by(StatementEntryAction.id)).all()
    assert actions == ["matched", "confirmed", "refund_due"]  # the import's own match, then the operator's


@pytest.mark.parametrize("data, words", [
    (CAMT_02[:4000], "unvollständig"),
    (b"Buchungstag;Betrag\n24.11.2026;90,00\n", "kein Kontoauszug"),
    (b'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.054.001.08"/>', "camt.054.001.08"),
])
def test_a_bad_file_gets_a_german_message_and_changes_nothing(client, db, bookings, data, words):
    _login(client, db)
    response = _upload(client, data)
    assert response.status_code == 400
    assert words in response.get_data(as_text=True)
    db.session.expire_all()
    assert bookings["R-7KQ4M2"].state == "awaiting_payment"
    assert db.session.scalar(select(func.count()).select_from(StatementImport)) == 0


def test_no_file_chosen_is_a_400_with_the_field_message(client, db):
    _login(client, db)
    response = client.post(URL, data={}, content_type="multipart/form-data")
    assert response.status_code == 400 and "Bitte wählen Sie die Kontoauszugsdatei" in response.get_data(as_text=True)


def test_a_statement_larger_than_the_app_wide_limit_is_accepted_here_up_to_its_own(client, db, bookings, app):
    """MAX_CONTENT_LENGTH (64 KiB) holds for every other route; this one takes STATEMENT_MAX_MB."""
    _login(client, db)
    padding = b"<!-- " + b"x" * 200_000 + b" -->\n"
    big = CAMT_02.replace(b"<BkToCstmrStmt>", padding + b"<BkToCstmrStmt>", 1)
    assert len(big) > app.config["MAX_CONTENT_LENGTH"]
    assert _upload(client, big).status_code == 303
    app.config["STATEMENT_MAX_MB"] = 0.1
    response = _upload(client, big, name="zwei.xml")
    assert response.status_code == 413 and "zu groß" in response.get_data(as_text=True)
    elsewhere = client.post("/operator/bookings/new", data={"name": "x" * 70_000})
    assert elsewhere.status_code == 413


class TestWithCsrf:
    @pytest.fixture
    def app_config(self, app_config):
        app_config["WTF_CSRF_ENABLED"] = True
        return app_config

    def test_upload_without_the_token_is_refused(self, client, db, bookings):
        _login(client, db)
        assert _upload(client, CAMT_02).status_code == 400
        assert db.session.scalar(select(func.count()).select_from(StatementImport)) == 0
        assert _upload(client, CAMT_02, **_token(client, URL)).status_code == 303

    def test_an_action_without_the_token_is_refused(self, client, db, bookings):
        _login(client, db)
        _upload(client, CAMT_02, **_token(client, URL))
        entry = db.session.scalars(select(StatementEntry).where(StatementEntry.outcome == "partial")).one()
        assert client.post(f"/operator/payments/entries/{entry.id}", data={"action": "ignore"}).status_code == 400
        db.session.expire_all()
        assert entry.resolution is None


def test_an_import_racing_another_one_applies_nothing_and_says_so(client, db, bookings, monkeypatch):
    """Two uploads of the same file at once: the unique entry identity lets one commit; the other
    (here: its flush meeting the first one's rows) answers 409 and leaves nothing half-done."""
    from sqlalchemy.exc import IntegrityError

    import reflexion.payments.views as views

    _login(client, db)
    real = views.import_statement

    def racing(data, **kw):
        real(data, **kw)
        raise IntegrityError("INSERT INTO statement_entry", {}, Exception("UNIQUE constraint failed"))

    monkeypatch.setattr(views, "import_statement", racing)
    response = _upload(client, CAMT_02)
    assert response.status_code == 409 and "noch einmal" in response.get_data(as_text=True)
    db.session.expire_all()
    assert bookings["R-7KQ4M2"].state == "awaiting_payment"
    assert db.session.scalar(select(func.count()).select_from(StatementEntry)) == 0
