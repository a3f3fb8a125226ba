"""Every date and time the site reads from a URL or form is bounded: the whole range the parsers
accept (years 1–9999, offsets up to ±23:59) gives 404/410/400, never a 500 (OverflowError)."""
from datetime import date, datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from frozen import NOW


_SETTINGS = settings(max_examples=60, deadline=None,
                     suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
offsets = st.integers(min_value=-(24 * 60 - 1), max_value=24 * 60 - 1).map(lambda m: timezone(timedelta(minutes=m)))
any_instant = st.datetimes(min_value=datetime.min, max_value=datetime.max, timezones=offsets)


def _key(instant):
    return instant.isoformat().replace("+00:00", "Z")


@pytest.fixture
def site(client, weekly_hours, frozen_now):
    frozen_now(NOW)
    return client


@_SETTINGS
@given(day=st.dates(min_value=date.min, max_value=date.max))
@example(day=date(9999, 12, 27))
@example(day=date(9999, 12, 31))
@example(day=date(1, 1, 1))
def test_any_week_is_a_page_or_a_404(site, day):
    response = site.get("/de/book", query_string={"week": day.isoformat()})
    horizon = NOW.date() + timedelta(days=56)
    assert response.status_code == (404 if day > horizon else 200), day


@_SETTINGS
@given(instant=any_instant, method=st.sampled_from(["GET", "POST"]))
@example(instant=datetime(9999, 12, 31, 23, 0, tzinfo=timezone.utc), method="GET")
@example(instant=datetime(9999, 12, 31, 23, 59, 59, tzinfo=timezone(-timedelta(hours=23, minutes=59))), method="GET")
@example(instant=datetime(1, 1, 1, 0, 30, tzinfo=timezone(timedelta(hours=23, minutes=59))), method="POST")
def test_any_slot_key_is_gone_not_found_or_a_form(site, instant, method):
    response = site.open(f"/de/book/{_key(instant)}", method=method)
    utc = None
    try:
        utc = instant.astimezone(timezone.utc)
    except OverflowError:
        pass
    if utc is None or utc > NOW + timedelta(days=57):
        assert response.status_code == 404
    elif utc < NOW:
        assert response.status_code == 410
    else:
        assert response.status_code in (200, 400, 409, 410)


@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01", "2040-01-01"])
def test_operator_dates_far_from_today_are_refused_in_german(app, client, db, frozen_now, day):
    from reflexion.operator.auth import create_operator

    frozen_now(NOW)
    create_operator("op@example.com", "correct horse battery")
    db.session.commit()
    assert client.post("/operator/login", data={"email": "op@example.com", "password": "correct horse battery"}
                       ).status_code == 303
    response = client.post("/operator/bookings/new", data={
        "day": day, "start_time": "23:30", "name": "A B", "email": "a@b.de", "call_handle": "ab@b.de", "lang": "de",
        "method": "cash"})
    assert response.status_code == 400 and "innerhalb der nächsten fünf Jahre" in response.get_data(as_text=True)
    response = client.post("/operator/availability/exceptions", data={"day": day, "closed": "y"})
    assert response.status_code == 400
