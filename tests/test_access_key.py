"""The access key is not lost for good (issue 14, point 2): shown for a while in the same browser
session, never readable in the cookie, and renewable by e-mail."""
import base64
import json
import re
import zlib
from datetime import datetime, timedelta, timezone

import pytest

from mail_helpers import outbox_messages, run_worker
from reflexion.booking import codes

MONDAY_MORNING = datetime(2026, 11, 23, 8, 0, tzinfo=timezone.utc)
SLOT = "2026-11-25T08:00:00Z"
KEY_RE = re.compile(r"data-access-key>([a-z0-9-]+)<")


@pytest.fixture(autouse=True)
def monday(weekly_hours, frozen_now):
    frozen_now(MONDAY_MORNING)


def _book(client, lang="de"):
    response = client.post(f"/{lang}/book/{SLOT}", data={
        "name": "Erika Muster", "email": "erika@example.org", "call_handle": "erika@example.org", "accept_terms": "y", "early_start": "y"})
    assert response.status_code == 303
    return response.headers["Location"].split("/booking/")[1].split("/")[0]


def _cookie_payload(client) -> str:
    """The session cookie's payload as anyone holding the cookie can read it (it is only signed)."""
    cookie = client.get_cookie("session").value
    compressed = cookie.startswith(".")
    data = cookie.lstrip(".").split(".")[0]
    raw = base64.urlsafe_b64decode(data + "=" * (-len(data) % 4))
    return (zlib.decompress(raw) if compressed else raw).decode()


def test_the_key_stays_visible_on_reload_and_across_the_language_switch(client, frozen_now):
    ref = _book(client)
    first = KEY_RE.search(client.get(f"/de/booking/{ref}/created").get_data(as_text=True)).group(1)
    again = client.get(f"/de/booking/{ref}/created").get_data(as_text=True)
    assert f"data-access-key>{first}<" in again  # a reload keeps it
    swedish = client.get(f"/sv/booking/{ref}/created").get_data(as_text=True)
    assert f"data-access-key>{first}<" in swedish  # so does the language switch
    frozen_now(MONDAY_MORNING + timedelta(minutes=31))
    later = client.get(f"/de/booking/{ref}/created").get_data(as_text=True)
    assert "data-access-key" not in later and "Zugangsschlüssel verloren?" in later


def test_the_key_is_not_readable_in_the_session_cookie(client):
    ref = _book(client)
    key = KEY_RE.search(client.get(f"/de/booking/{ref}/created").get_data(as_text=True)).group(1)
    payload = _cookie_payload(client)
    assert ref in payload  # the cookie is readable …
    assert key not in payload and codes.normalise_access_key(key) not in payload  # … but not the key
    json.loads(payload)


def _ask(client, ref, email, lang="de"):
    return client.post(f"/{lang}/booking/{ref}/lost-key", data={"email": email})


def test_lost_key_answers_the_same_whether_or_not_the_booking_exists(client, db, make_booking):
    booking = make_booking(datetime(2026, 11, 26, 8, tzinfo=timezone.utc))
    answers = [_ask(client, booking.ref, "erika@example.org"), _ask(client, booking.ref, "someone@example.org"),
               _ask(client, "R-ZZZZZZ", "erika@example.org")]
    texts = [re.sub(r"R-[A-Z0-9]{6}", "REF", a.get_data(as_text=True)) for a in answers]
    assert {a.status_code for a in answers} == {200}
    assert texts[0] == texts[1] == texts[2]
    assert "data-lost-key-sent" in texts[0]


def test_a_new_key_by_e_mail_replaces_the_old_one(app, client, db, jobs, make_booking):
    booking = make_booking(datetime(2026, 11, 26, 8, tzinfo=timezone.utc), lang="sv")
    assert "data-lost-key" in client.get(f"/sv/booking/{booking.ref}").get_data(as_text=True)
    _ask(client, booking.ref, "Erika@Example.org", lang="sv")
    run_worker(app)
    (mail,) = [m for m in outbox_messages(app) if "åtkomstnyckel" in m["Subject"]]
    assert mail["To"].addresses[0].addr_spec == "erika@example.org"
    text = mail.get_body(preferencelist=("plain",)).get_content()
    assert "abcd-efgh-jkmn" not in text  # the e-mail carries a link, no key
    link = re.search(r"https?://\S+/new-key/\S+", text).group(0)
    path = "/" + link.split("/", 3)[3]
    stranger = app.test_client()
    assert "data-new-key" in stranger.get(path).get_data(as_text=True)
    created = stranger.post(path)
    assert created.status_code == 303
    new_key = KEY_RE.search(stranger.get(created.headers["Location"]).get_data(as_text=True)).group(1)
    assert new_key != "abcd-efgh-jkmn"
    old = app.test_client().post(f"/sv/booking/{booking.ref}", data={"access_key": "abcd-efgh-jkmn"})
    assert old.status_code == 403  # the old key stopped working
    fresh = app.test_client().post(f"/sv/booking/{booking.ref}", data={"access_key": new_key})
    assert fresh.status_code == 303
    reused = app.test_client().get(path)  # the link works once
    assert reused.status_code == 410 and "data-new-key-expired" in reused.get_data(as_text=True)


def test_renewal_e_mails_are_rate_limited_per_booking(app, client, db, jobs, make_booking, frozen_now):
    from reflexion.mail.models import OutgoingEmail

    booking = make_booking(datetime(2026, 11, 26, 8, tzinfo=timezone.utc))
    for _ in range(3):
        assert _ask(client, booking.ref, "erika@example.org").status_code == 200
    count = db.session.query(OutgoingEmail).filter_by(kind="access_key_link").count()
    assert count == 1
    frozen_now(MONDAY_MORNING + timedelta(minutes=11))
    _ask(client, booking.ref, "erika@example.org")
    assert db.session.query(OutgoingEmail).filter_by(kind="access_key_link").count() == 2


def test_an_old_renewal_link_has_expired(app, client, db, jobs, make_booking, frozen_now):
    booking = make_booking(datetime(2026, 11, 26, 8, tzinfo=timezone.utc))
    _ask(client, booking.ref, "erika@example.org")
    run_worker(app)
    (mail,) = [m for m in outbox_messages(app) if "Zugangsschlüssel" in m["Subject"]]
    link = re.search(r"https?://\S+/new-key/\S+", mail.get_body(preferencelist=("plain",)).get_content()).group(0)
    frozen_now(MONDAY_MORNING + timedelta(minutes=61))
    assert client.get("/" + link.split("/", 3)[3]).status_code == 410
