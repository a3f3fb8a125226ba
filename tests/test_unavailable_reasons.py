"""The 'cannot be booked' page names the real reason (issue 14, point 5)."""
from datetime import date, datetime, timezone

import pytest

MONDAY_MORNING = datetime(2026, 11, 23, 8, 0, tzinfo=timezone.utc)  # Mon 09:00 MEZ


@pytest.fixture(autouse=True)
def monday(weekly_hours, frozen_now):
    frozen_now(MONDAY_MORNING)


@pytest.mark.parametrize("slot, reason, german", [
    ("2026-11-20T08:00:00Z", "past", "liegt bereits in der Vergangenheit"),
    ("2026-11-23T10:00:00Z", "too_soon", "Buchungen sind ab 24 Stunden im Voraus möglich"),
    ("2027-03-01T08:00:00Z", "too_far", "bis zu 56 Tage im Voraus"),
    ("2026-11-28T08:00:00Z", "closed", "Am Samstag, 28. November 2026 bieten wir keine Gespräche an."),
    ("2026-11-25T08:10:00Z", "off_grid", "beginnt kein Gespräch"),
])
def test_each_reason_is_named_in_german(client, slot, reason, german):
    for method in ("get", "post"):
        response = getattr(client, method)(f"/de/book/{slot}", data={
            "name": "Erika Muster", "email": "erika@example.org", "call_handle": "erika@example.org", "accept_terms": "y", "early_start": "y"})
        html = response.get_data(as_text=True)
        assert response.status_code == (404 if reason == "too_far" else 410)
        assert f'data-unavailable="{reason}"' in html and german in html
        if reason != "too_soon":
            assert "24 Stunden" not in html  # the notice rule is not blamed for everything


def test_a_day_closed_by_an_exception_is_called_closed_in_swedish(client, db):
    from reflexion.availability.models import AvailabilityException

    db.session.add(AvailabilityException(day=date(2026, 11, 27), closed=True))
    db.session.commit()
    html = client.get("/sv/book/2026-11-27T08:00:00Z").get_data(as_text=True)
    assert 'data-unavailable="closed"' in html
    assert "Vi erbjuder inga samtal på fredag 27 november 2026." in html


def test_a_genuinely_taken_time_is_announced_kindly(client, make_booking):
    make_booking(datetime(2026, 11, 25, 8, tzinfo=timezone.utc))
    response = client.get("/de/book/2026-11-25T08:00:00Z")
    html = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "Dieser Termin ist leider schon vergeben" in html
    assert "schneller" not in html and "nichts berechnet" not in html
    sv = client.get("/sv/book/2026-11-25T08:00:00Z").get_data(as_text=True)
    assert 'data-unavailable="taken"' in sv


def _book(client, slot="2026-11-25T08:00:00Z", lang="de"):
    return client.post(f"/{lang}/book/{slot}", data={
        "name": "Erika Muster", "email": "erika@example.org", "call_handle": "erika@example.org", "accept_terms": "y", "early_start": "y"})


def test_back_after_booking_leads_to_the_clients_own_booking(client):
    """Issue 14 point 1: the form of one's own, just booked time sends one to the booking."""
    created = _book(client)
    assert created.status_code == 303
    ref = created.headers["Location"].split("/booking/")[1].split("/")[0]
    back = client.get("/de/book/2026-11-25T08:00:00Z")
    assert back.status_code == 303 and back.headers["Location"].endswith(f"/de/booking/{ref}/created")
    client.get(back.headers["Location"])
    again = client.get("/sv/book/2026-11-25T08:00:00Z")  # later, in the other language
    assert again.status_code == 303 and f"/booking/{ref}" in again.headers["Location"]
    resubmitted = _book(client)  # the form sent twice
    assert resubmitted.status_code == 303 and f"/booking/{ref}" in resubmitted.headers["Location"]


def test_another_browser_still_reads_that_the_time_is_taken(app, client):
    _book(client)
    stranger = app.test_client()
    response = stranger.get("/de/book/2026-11-25T08:00:00Z")
    assert response.status_code == 409
    assert "Dieser Termin ist leider schon vergeben" in response.get_data(as_text=True)


def test_the_form_page_is_not_kept_in_the_browser_cache(client):
    assert "no-store" in client.get("/de/book/2026-11-25T08:00:00Z").headers["Cache-Control"]


def test_week_navigation_stays_inside_the_horizon(client):
    """Issue 14 point 6: the last bookable week has no 'next week'; beyond it is not found (issue 15 #13)."""
    assert client.get("/de/book?week=2099-01-01").status_code == 404
    last_monday = "2027-01-18"  # now + 56 days = Mon 2027-01-18
    html = client.get(f"/de/book?week={last_monday}").get_data(as_text=True)
    assert f'data-week="{last_monday}"' in html
    assert 'rel="next"' not in html and 'rel="prev"' in html
    assert client.get("/de/book?week=2000-01-03").get_data(as_text=True).count('rel="prev"') == 0
    before_last = client.get("/de/book?week=2027-01-11").get_data(as_text=True)
    assert f"week={last_monday}" in before_last and 'rel="next"' in before_last
