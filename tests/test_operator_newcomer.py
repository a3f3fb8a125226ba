"""What a first-time operator (and the client they book for) meets (issue 14, points 11-15)."""
from datetime import datetime, timedelta, timezone

import pytest

from mail_helpers import outbox_messages, run_worker
from reflexion.jobs.queue import use_job_app
from reflexion.operator.bookings import book_by_operator

NOW = datetime(2026, 11, 23, 8, 0, tzinfo=timezone.utc)      # Mon 09:00 MEZ
START = datetime(2026, 11, 23, 9, 0, tzinfo=timezone.utc)    # Mon 10:00 MEZ


@pytest.fixture
def jobs(app):
    use_job_app(app)
    yield app
    use_job_app(None)


def _sent(app):
    return [(m["Subject"], m.get_body(preferencelist=("plain",)).get_content()) for m in outbox_messages(app)]


def test_a_booking_made_as_paid_sends_only_the_confirmation(app, db, jobs, frozen_now):
    """Point 13: no 'please pay by <start>' e-mail, nothing about an access key never shown."""
    frozen_now(NOW)
    book_by_operator(START, name="Erika Muster", email="erika@example.org", call_handle="erika", paid=True)
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
                           call_handle="per", lang="sv")
    db.session.commit()
    run_worker(app)
    ((subject, text),) = _sent(app)
    assert f"/sv/booking/{new.booking.ref}/lost-key" in text
    assert "som du fick se när du bokade" not in text  # no key "you were shown when booking"
