"""What a first-time operator (and the client they book for) meets (issue 14, points 11-15)."""
from datetime import datetime, timedelta, timezone

import pytest

from mail_helpers import outbox_messages, run_worker
from reflexion.operator.bookings import book_by_operator
from frozen import NOW  # Mon 09:00 MEZ


START = datetime(2026, 11, 23, 9, 0, tzinfo=timezone.utc)    # Mon 10:00 MEZ


def _sent(app):
    return [(m["Subject"], m.get_body(preferencelist=("plain",)).get_content()) for m in outbox_messages(app)]


def test_a_booking_made_as_paid_sends_only_the_confirmation(app, db, jobs, frozen_now):
    """Point 13: no 'please pay by <start>' e-mail, nothing about an access key never shown."""
    frozen_now(NOW)
    book_by_operator(START, name="Erika Muster", email="erika@example.org", call_handle="erika@example.org", paid=True)
    db.session.commit()
    run_worker(app)
    sent = _sent(app)
    assert len(sent) == 1, [s for s, _ in sent]
    subject, text = sent[0]
    assert subject.startswith("Bestätigt")
    assert "Zugangsschlüssel" not in text and "bezahlen" not in subject.lower()


def test_an_unpaid_operator_booking_tells_how_to_get_an_access_key(app, db, jobs, frozen_now):
    frozen_now(NOW)
    new = book_by_operator(START + timedelta(days=2), name="Per Svensson", email="per@example.org",
                           call_handle="per@example.se", lang="sv")
    db.session.commit()
    run_worker(app)
    ((subject, text),) = _sent(app)
    assert f"/sv/booking/{new.booking.ref}/lost-key" in text
    assert "som du fick se när du bokade" not in text  # no key "you were shown when booking"


@pytest.fixture
def operator_client(client, db):
    from reflexion.operator.auth import create_operator

    create_operator("op@example.org", "correct horse battery")
    db.session.commit()
    client.post("/operator/login", data={"email": "op@example.org", "password": "correct horse battery"})
    return client


def test_closing_a_day_with_bookings_warns_and_lists_them(operator_client, db, frozen_now, make_booking):
    """Point 15: no silent closing of a day that holds four bookings, two of them paid."""
    from reflexion.availability.models import AvailabilityException

    frozen_now(NOW)
    day = datetime(2026, 11, 26, 8, tzinfo=timezone.utc)  # Thu
    booked = [make_booking(day + timedelta(hours=h), state="confirmed" if h < 2 else "awaiting_payment",
                           name=f"Client {h}") for h in range(4)]
    make_booking(day + timedelta(days=1), name="Next Day")
    data = {"day": "2026-11-26", "closed": "y"}
    response = operator_client.post("/operator/availability/exceptions", data=data)
    html = response.get_data(as_text=True)
    assert response.status_code == 409
    assert 'data-closing-warning="4"' in html and "4 Buchungen" in html
    for booking in booked:
        assert f'data-stranded="{booking.ref}"' in html
    assert "Next Day" not in html
    assert html.count("· bezahlt") == 2 and html.count("· nicht bezahlt") == 2
    assert db.session.query(AvailabilityException).count() == 0  # nothing closed yet
    anyway = operator_client.post("/operator/availability/exceptions", data={**data, "close_despite_bookings": "yes"})
    assert anyway.status_code == 303
    assert db.session.query(AvailabilityException).count() == 1


def test_closing_an_empty_day_needs_no_warning(operator_client, db, frozen_now):
    frozen_now(NOW)
    response = operator_client.post("/operator/availability/exceptions", data={"day": "2026-11-26", "closed": "y"})
    assert response.status_code == 303
