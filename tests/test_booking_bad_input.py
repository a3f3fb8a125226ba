"""Bad input on the booking pages: a clear message in the page's language, a 4xx, nothing saved."""
from datetime import datetime, timezone

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from reflexion.booking.models import Booking, Transition
from frozen import NOW  # Monday 09:00 MEZ


SLOT = "2026-11-25T08:00:00Z"  # Wednesday 09:00 MEZ
VALID = {"name": "Erika Muster", "email": "erika@example.org", "call_handle": "erika.muster@example.org", "accept_terms": "y", "early_start": "y"}


@pytest.fixture(autouse=True)
def _setup(weekly_hours, frozen_now):
    frozen_now(NOW)


def _count(db):
    return db.session.scalar(select(func.count(Booking.id))), db.session.scalar(select(func.count(Transition.id)))


@pytest.mark.parametrize("field, value, message_de", [
    ("name", "", "Bitte geben Sie Ihren Namen ein."),
    ("name", "E", "Bitte geben Sie zwischen 2 und 120 Zeichen ein."),
    ("name", "x" * 121, "Bitte geben Sie zwischen 2 und 120 Zeichen ein."),
    ("name", "Erika\u0000Muster", "Bitte entfernen Sie unsichtbare oder Steuerzeichen."),
    ("name", "Erika\nBcc: evil@example.org", "Bitte schreiben Sie dies in eine Zeile."),
    ("email", "", "Bitte geben Sie Ihre E-Mail-Adresse ein."),
    ("email", "not-an-address", "Bitte geben Sie eine gültige E-Mail-Adresse ein."),
    ("email", "a@b", "Bitte geben Sie eine gültige E-Mail-Adresse ein."),
    ("email", "x" * 250 + "@example.org", "Diese E-Mail-Adresse ist zu lang."),
    ("call_handle", "", "Bitte geben Sie den Namen ein, unter dem wir Sie anrufen können."),
    ("call_handle", "erika muster", "Bitte geben Sie eine Angabe ein, unter der Microsoft Teams Sie findet"),
    ("call_handle", "<script>", "Bitte geben Sie eine Angabe ein, unter der Microsoft Teams Sie findet"),
    ("call_handle", "0151 234", "Das ist keine gültige Telefonnummer."),
    ("call_platform", "skype", "Bitte wählen Sie eine der angebotenen Plattformen für das Gespräch."),
    ("call_handle", "a" * 65, "Bitte geben Sie zwischen 2 und 64 Zeichen ein."),
    ("accept_terms", None, "Bitte bestätigen Sie, dass Sie die Geschäftsbedingungen akzeptieren."),
])
def test_invalid_field_returns_400_with_german_message_and_saves_nothing(client, db, field, value, message_de):
    data = dict(VALID)
    if value is None:
        data.pop(field)
    else:
        data[field] = value
    response = client.post(f"/de/book/{SLOT}", data=data)
    assert response.status_code == 400
    assert message_de in response.get_data(as_text=True)
    assert _count(db) == (0, 0)


def test_invalid_field_message_is_swedish_on_swedish_pages(client, db):
    response = client.post(f"/sv/book/{SLOT}", data={**VALID, "email": "nope"})
    assert response.status_code == 400
    assert "Ange en giltig e-postadress." in response.get_data(as_text=True)
    assert _count(db) == (0, 0)


@pytest.mark.parametrize("slot, status", [
    ("2026-11-20T08:00:00Z", 410),  # in the past
    ("2026-11-23T13:00:00Z", 410),  # today, inside the 24-hour notice
    ("2026-11-25T07:00:00Z", 410),  # 08:00 MEZ: before opening hours
    ("2026-11-25T08:30:00Z", 410),  # off the slot grid
    ("2026-11-28T09:00:00Z", 410),  # Saturday: closed
    ("2027-03-01T08:00:00Z", 404),  # beyond the booking horizon: not found (issue 15 #13)
    ("not-a-time", 404),
    ("2026-11-25T08:00:00", 404),  # no zone
])
def test_unbookable_slots_are_refused_without_saving(client, db, slot, status):
    response = client.post(f"/de/book/{slot}", data=VALID)
    assert response.status_code == status
    assert _count(db) == (0, 0)
    assert client.get(f"/de/book/{slot}").status_code == status


def test_taken_slot_page_offers_other_times(app, client, db):
    assert client.post(f"/de/book/{SLOT}", data=VALID).status_code == 303
    other = app.test_client()  # another client's browser (the first one is sent to its own booking)
    response = other.post(f"/sv/book/{SLOT}", data={**VALID, "email": "b@example.org"})
    body = response.get_data(as_text=True)
    assert response.status_code == 409
    assert 'data-unavailable="taken"' in body and 'lang="sv"' in body
    assert 'data-slot="2026-11-25T09:00:00Z"' in body  # the next free time is offered
    assert _count(db) == (1, 1)
    assert other.get(f"/de/book/{SLOT}").status_code == 409


def test_missing_or_invalid_csrf_token_is_refused(app, db):
    app.config["WTF_CSRF_ENABLED"] = True
    client = app.test_client()
    missing = client.post(f"/de/book/{SLOT}", data=VALID)
    assert missing.status_code == 400
    assert "Ihr Formular ist abgelaufen" in missing.get_data(as_text=True)
    forged = client.post(f"/sv/book/{SLOT}", data={**VALID, "csrf_token": "forged"})
    assert forged.status_code == 400
    assert _count(db) == (0, 0)


def test_unknown_language_is_404(client):
    assert client.get("/en/book").status_code == 404
    assert client.get(f"/xx/book/{SLOT}").status_code == 404


def test_database_refuses_two_live_bookings_at_one_start(app, db, make_booking):
    start = datetime(2026, 11, 25, 8, tzinfo=timezone.utc)
    make_booking(start)
    with pytest.raises(IntegrityError):
        make_booking(start, email="second@example.org")
    db.session.rollback()
    make_booking(start, state="cancelled")  # a finished booking does not hold the slot


@pytest.mark.parametrize("separator", ["\u2028", "\u2029", "\x85", "\x0b", "\x1e"])
def test_line_and_paragraph_separators_in_names_are_refused(client, db, separator):
    from reflexion.validators import LINE_BREAKS

    assert separator in LINE_BREAKS
    from flask_wtf import FlaskForm

    from reflexion.validators import name_field

    class Form(FlaskForm):
        name = name_field("Name", "required")

    with client.application.test_request_context("/de/", method="POST", data={"name": f"Erika{separator}Muster"}):
        form = Form()
        assert not form.validate()
        assert form.name.errors
