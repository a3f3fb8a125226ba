"""What a first-time client reads: native wording, rules quoted from the booking's rules, and
times that never break away from their zone (issue 14, points 8 and 10)."""
from datetime import datetime, timedelta, timezone

import pytest

NBSP = "\u00a0"
MONDAY_MORNING = datetime(2026, 11, 23, 8, 0, tzinfo=timezone.utc)  # 09:00 MEZ
SLOT = "2026-11-25T08:00:00Z"  # Wed 09:00 MEZ


@pytest.fixture(autouse=True)
def monday(weekly_hours, frozen_now):
    frozen_now(MONDAY_MORNING)


def test_german_length_messages_say_shorten_to_at_most(client):
    html = client.post("/de/contact", data={"name": "Erika Muster", "email": "erika@example.org",
                                            "call_handle": "erika@example.org", "message": "x" * 4001}).get_data(as_text=True)
    assert "Bitte kürzen Sie Ihre Nachricht auf höchstens 4000 Zeichen." in html
    assert "fassen Sie" not in html


def test_swedish_length_messages_say_shorten_to_at_most(client):
    html = client.post("/sv/contact", data={"name": "Erika Muster", "email": "erika@example.org",
                                            "call_handle": "erika@example.org", "message": "x" * 4001}).get_data(as_text=True)
    assert "Korta ner ditt meddelande till högst 4000 tecken." in html


def test_terms_are_geschaeftsbedingungen_dated_by_month(client):
    html = client.get("/de/terms").get_data(as_text=True)
    assert "Stand: Dezember 2026" in html and "Fassung" not in html
    assert ">AGB</a>" in html  # the footer link
    assert "Geschäftsbedingungen für Videogespräche" in html
    assert " Bedingungen" not in html.replace("Geschäftsbedingungen", "")


def test_swedish_terms_are_dated_by_month(client):
    sv = client.get("/sv/terms").get_data(as_text=True)
    assert "december 2026" in sv and "Villkorens version" not in sv


def test_german_booking_page_speaks_of_german_time(client, make_booking):
    booking = make_booking(datetime(2026, 11, 25, 8, tzinfo=timezone.utc), state="confirmed")
    client.post(f"/de/booking/{booking.ref}", data={"access_key": "abcd-efgh-jkmn"})
    de = client.get(f"/de/booking/{booking.ref}").get_data(as_text=True)
    assert "Alle Zeiten in deutscher Zeit (MEZ, im Sommer MESZ)." in de and "Praxiszeit" not in de


def test_swedish_booking_page_speaks_of_swedish_time(client, make_booking):
    booking = make_booking(datetime(2026, 11, 25, 8, tzinfo=timezone.utc), state="confirmed")
    client.post(f"/sv/booking/{booking.ref}", data={"access_key": "abcd-efgh-jkmn"})
    sv = client.get(f"/sv/booking/{booking.ref}").get_data(as_text=True)
    assert "svensk tid (CET, sommartid CEST)" in sv and "mottagningens tid" not in sv
    assert "Du kan inte själv ringa upp oss." in sv and "ringa in" not in sv


def test_swedish_how_it_works_says_take_part_in_the_call(client):
    html = client.get("/sv/how-it-works").get_data(as_text=True) + client.get("/sv/privacy").get_data(as_text=True)
    assert "kan ha samtalet" not in html


@pytest.fixture
def app_config(app_config):
    app_config["SESSION_MINUTES"] = 50.0
    app_config["NO_ANSWER_MINUTES"] = 10.0
    return app_config


@pytest.mark.parametrize("lang, minutes", [("de", "Minuten"), ("sv", "minuter")])
def test_form_and_calendar_quote_the_configured_rules(client, lang, minutes):
    form = client.get(f"/{lang}/book/{SLOT}").get_data(as_text=True)
    calendar = client.get(f"/{lang}/book").get_data(as_text=True)
    for html in (form, calendar):
        assert f"45 {minutes}" not in html and f"15 {minutes}" not in html
    assert f"50 {minutes}" in form and f"10 {minutes}" in form
    assert f"50 {minutes}" in calendar and f"10 {minutes}" in calendar


def test_booking_page_quotes_the_length_it_was_booked_with(client, db, make_booking):
    booking = make_booking(datetime(2026, 11, 25, 8, tzinfo=timezone.utc), state="confirmed")
    booking.end_at = booking.start_at + timedelta(minutes=45)  # booked under the old rule
    db.session.commit()
    client.post(f"/de/booking/{booking.ref}", data={"access_key": "abcd-efgh-jkmn"})
    html = client.get(f"/de/booking/{booking.ref}").get_data(as_text=True)
    assert "Das Gespräch endet 45 Minuten nach der gebuchten Anfangszeit" in html


def test_a_time_stays_on_one_line_with_its_zone(client):
    de = client.get(f"/de/book/{SLOT}").get_data(as_text=True)
    assert f"09:00{NBSP}MEZ" in de and f"09:50{NBSP}MEZ" in de
    sv = client.get(f"/sv/book/{SLOT}").get_data(as_text=True)
    assert f"kl.{NBSP}09:00{NBSP}CET" in sv


@pytest.mark.parametrize("lang, unchecked", [
    ("de", "noch nicht mit einem Zeitserver abgeglichen"),
    ("sv", "ännu inte har stämts av"),
])
def test_clients_read_a_calm_true_clock_note_while_the_clock_is_unchecked(client, lang, unchecked):
    """Issue 14 point 9: the unchecked clock is the operator's concern, not every client's."""
    for page in ("", "book", "how-it-works"):
        html = client.get(f"/{lang}/{page}").get_data(as_text=True)
        assert 'data-clock-note="never"' in html
        assert unchecked not in html
    assert {"de": "Unser Buchungssystem gleicht seine Uhr regelmäßig mit öffentlichen Zeitservern ab.",
            "sv": "Vårt bokningssystem stämmer regelbundet av sin klocka mot offentliga tidsservrar."}[lang] in html


def test_the_operator_still_sees_that_the_clock_is_unchecked(client, db):
    from reflexion.operator.auth import create_operator

    create_operator("op@example.org", "correct horse battery")
    db.session.commit()
    client.post("/operator/login", data={"email": "op@example.org", "password": "correct horse battery"})
    html = client.get("/operator/").get_data(as_text=True)
    assert "data-clock-never-checked" in html
    assert "noch nicht mit einem Zeitserver abgeglichen" in html


def test_a_confirmed_booking_offers_google_and_outlook_links(client, make_booking):
    """Point 4: one click into Google Calendar or Outlook.com, with only what the invite carries."""
    from html import unescape
    from urllib.parse import parse_qs, urlsplit

    booking = make_booking(datetime(2026, 11, 25, 8, tzinfo=timezone.utc), state="confirmed",
                           email="erika.private@example.org")
    client.post(f"/de/booking/{booking.ref}", data={"access_key": "abcd-efgh-jkmn"})
    html = client.get(f"/de/booking/{booking.ref}").get_data(as_text=True)
    import re

    google = unescape(re.search(r'href="([^"]+)"[^>]*data-calendar-link="google"', html).group(1))
    outlook = unescape(re.search(r'href="([^"]+)"[^>]*data-calendar-link="outlook"', html).group(1))
    g = parse_qs(urlsplit(google).query)
    assert google.startswith("https://calendar.google.com/calendar/render?")
    assert g["action"] == ["TEMPLATE"] and g["dates"] == ["20261125T080000Z/20261125T085000Z"]  # 50 minutes in this module
    o = parse_qs(urlsplit(outlook).query)
    assert outlook.startswith("https://outlook.live.com/calendar/0/deeplink/compose?")
    assert o["startdt"] == ["2026-11-25T08:00:00Z"] and o["enddt"] == ["2026-11-25T08:50:00Z"]
    for link in (google, outlook):
        assert "erika.private" not in link and "Erika Muster" not in link  # nothing beyond the invite
    assert "Videogespräch mit" in g["text"][0]
