"""The withdrawal function (§ 356a BGB, Art. 11a CRD): footer link, form, confirmation step,
withdrawal through the cancellation path, the stored declaration, the acknowledgment e-mail."""
import re
from datetime import datetime, timedelta, timezone

import flask_babel
import pytest
from sqlalchemy import func, select

from mail_helpers import RecordingHandler, free_port, parts_by_type, run_worker
from reflexion.booking.models import Booking, Transition, WithdrawalDeclaration
from reflexion.booking.payments import confirm_payment

NOW = datetime(2026, 11, 23, 8, tzinfo=timezone.utc)  # Monday
START = datetime(2026, 11, 26, 9, tzinfo=timezone.utc)  # Thursday 10:00 MEZ
NOTICE_TO = "praxis@internet-reflexion.example"


@pytest.fixture
def smtp(app):
    from aiosmtpd.controller import Controller

    handler = RecordingHandler()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=controller.port, MAIL_OPERATOR_NOTICE=NOTICE_TO)
    yield handler
    controller.stop()


@pytest.fixture
def csrf_on(app_config):
    app_config["WTF_CSRF_ENABLED"] = True


@pytest.fixture
def limits_on(app_config):
    app_config["RATELIMIT_ENABLED"] = True


def _declare(client, lang, ref, name="Erika Muster", email="erika@example.org"):
    data = {"reference": ref, "name": name, "email": email}
    step = client.post(f"/{lang}/withdraw", data=data)
    assert step.status_code == 200
    flask_babel.refresh()
    done = client.post(f"/{lang}/withdraw/confirm", data=data)
    flask_babel.refresh()
    return step.get_data(as_text=True), done


def _declarations(db):
    return db.session.scalars(select(WithdrawalDeclaration).order_by(WithdrawalDeclaration.id)).all()


def _by_recipient(handler):
    return {m["To"]: m for m in handler.messages()}


@pytest.mark.parametrize("lang, label", [("de", "Vertrag widerrufen"), ("sv", "Ångra avtalet")])
def test_every_public_page_links_to_the_withdrawal_function(client, lang, label):
    for path in ["/", "/terms", "/contact", "/book"]:
        html = client.get(f"/{lang}{path}").get_data(as_text=True)
        flask_babel.refresh()
        assert f'href="/{lang}/withdraw"' in html and label in html, path
    page = client.get(f"/{lang}/withdraw").get_data(as_text=True)
    assert "<h1>" + label in page and 'name="reference"' in page and 'name="email"' in page


def test_terms_and_privacy_describe_the_function(client):
    terms = client.get("/de/terms").get_data(as_text=True)
    assert "data-withdrawal-function" in terms and "/de/withdraw" in terms and "„Vertrag widerrufen“" in terms
    flask_babel.refresh()
    privacy = client.get("/sv/privacy").get_data(as_text=True)
    assert "data-privacy-withdrawal" in privacy and "Ångra avtalet" in privacy


def test_a_paid_booking_is_withdrawn_with_full_refund_and_an_acknowledgment(app, client, db, jobs, frozen_now,
                                                                           make_booking, smtp):
    frozen_now(NOW)
    booking = make_booking(START)
    confirm_payment(booking)
    db.session.commit()
    typed = booking.ref.lower().replace("-", " ")
    first = client.post("/de/withdraw", data={"reference": typed, "name": "Erika Muster", "email": "erika@example.org"})
    flask_babel.refresh()
    assert "Widerruf bestätigen" in first.get_data(as_text=True)
    assert _declarations(db) == [] and booking.state == "confirmed"  # the confirmation step saves nothing
    step, done = _declare(client, "de", typed)
    assert done.status_code == 200
    page = done.get_data(as_text=True)
    assert 'data-outcome="withdrawn"' in page and "Wir haben Ihren Widerruf erhalten" in page
    assert "23. November 2026" in page and "MEZ" in page
    db.session.expire_all()
    booking = db.session.get(Booking, booking.id)
    assert booking.state == "cancelled"
    assert booking.refund_cents == 9000 and booking.refund_state == "due"  # after the cut-off, still all of it
    last = db.session.scalars(select(Transition).where(Transition.booking_id == booking.id)
                              .order_by(Transition.id.desc())).first()
    assert last.note_code == "withdrawn" and last.actor == "client"
    (declaration,) = _declarations(db)
    assert declaration.booking_id == booking.id and declaration.outcome == "withdrawn"
    assert declaration.declared_at == NOW and declaration.name == "Erika Muster"
    run_worker(app)
    messages = [m for m in smtp.messages() if m["To"] == "erika@example.org"]
    (ack,) = [m for m in messages if "Widerruf" in m["Subject"]]
    assert ack["Content-Language"] == "de"
    types = parts_by_type(ack)
    text, html = types["text/plain"][0].get_content(), types["text/html"][0].get_content()
    for part in (text, html):
        assert "Montag, 23. November 2026" in part and "09:00" in part and "MEZ" in part
        assert "Ich widerrufe den Vertrag" in part and "Erika Muster" in part and "erika@example.org" in part
        assert "90,00" in part  # the full fee back
    assert any("storniert" in m["Subject"].lower() or booking.ref in m["Subject"] for m in messages
               if m is not ack)  # the ordinary cancellation e-mail went out too
    assert NOTICE_TO in _by_recipient(smtp)
    notice = _by_recipient(smtp)[NOTICE_TO]
    body = parts_by_type(notice)["text/plain"][0].get_content()
    assert "Erika" not in body and "erika@example.org" not in body


@pytest.mark.parametrize("typed_ref, email", [("R-ZZZZZZ", "erika@example.org"), (None, "someone@example.org"),
                                              ("nonsense", "x@example.org")])
def test_no_match_gives_the_same_neutral_answer_keeps_the_declaration_and_acknowledges(
        app, client, db, jobs, frozen_now, make_booking, smtp, typed_ref, email):
    frozen_now(NOW)
    booking = make_booking(START, lang="sv")
    ref = typed_ref or booking.ref  # an existing reference with another address: no match either
    _, done = _declare(client, "sv", ref, name="Eva Svensson", email=email)
    assert done.status_code == 200
    page = done.get_data(as_text=True)
    assert 'data-outcome="received"' in page and "Vi har tagit emot ditt ångrande" in page
    assert "avbokad" not in page
    assert db.session.get(Booking, booking.id).state == "awaiting_payment"
    (declaration,) = _declarations(db)
    assert (declaration.reference, declaration.booking_id, declaration.outcome) == (ref, None, "no_match")
    run_worker(app)
    ack = _by_recipient(smtp)[email]
    assert ack["Content-Language"] == "sv"
    text = parts_by_type(ack)["text/plain"][0].get_content()
    assert f"Jag ångrar avtalet för bokningen med referensen {ref}." in text
    assert "måndag 23 november 2026" in text and "CET" in text and "Eva Svensson" in text
    assert "avbokad" not in text  # nothing about a booking it may or may not name
    assert NOTICE_TO in _by_recipient(smtp)


def test_same_page_for_an_unknown_reference_and_a_wrong_address(client, db, frozen_now, make_booking):
    frozen_now(NOW)
    booking = make_booking(START)
    _, unknown = _declare(client, "de", "R-ZZZZZZ")
    _, wrong = _declare(client, "de", booking.ref, email="other@example.org")

    def main(response):
        html = response.get_data(as_text=True)
        return html[html.index("<article"):html.index("</article>")].replace("other@example.org", "erika@example.org")

    assert main(unknown) == main(wrong)


def test_an_already_cancelled_booking_says_so(client, db, frozen_now, make_booking):
    frozen_now(NOW)
    booking = make_booking(START, state="cancelled")
    _, done = _declare(client, "de", booking.ref)
    assert 'data-outcome="already_ended"' in done.get_data(as_text=True)
    (declaration,) = _declarations(db)
    assert declaration.booking_id == booking.id and declaration.outcome == "already_ended"
    assert db.session.scalar(select(func.count()).select_from(Transition)
                             .where(Transition.booking_id == booking.id)) == 1


def test_a_completed_session_ends_the_right_of_withdrawal_kindly(app, client, db, jobs, frozen_now, make_booking,
                                                                  smtp):
    frozen_now(NOW - timedelta(days=3))
    booking = make_booking(NOW - timedelta(days=1), state="completed", lang="sv")
    booking.early_start_requested_at = NOW - timedelta(days=3)
    db.session.commit()
    frozen_now(NOW)
    _, done = _declare(client, "sv", booking.ref)
    page = done.get_data(as_text=True)
    assert 'data-outcome="completed"' in page and "356" in page
    assert db.session.get(Booking, booking.id).state == "completed"
    run_worker(app)
    text = parts_by_type(_by_recipient(smtp)["erika@example.org"])["text/plain"][0].get_content()
    assert "distansavtalslagen" in text.lower() or "distansavtal" in text.lower()


@pytest.mark.parametrize("lang, data, message", [
    ("de", {"reference": "", "name": "Erika Muster", "email": "erika@example.org"}, "Bitte geben Sie die Buchungsnummer"),
    ("sv", {"reference": "R-ABCDEF", "name": "", "email": "erika@example.org"}, "Ange ditt namn"),
    ("de", {"reference": "R-ABCDEF", "name": "Erika Muster", "email": "kein-at"}, "E-Mail"),
    ("sv", {"reference": "R" * 65, "name": "Erika", "email": "erika@example.org"}, "bokningsreferens"),
])
def test_bad_input_is_refused_localized_and_nothing_is_stored(client, db, frozen_now, lang, data, message):
    frozen_now(NOW)
    for url in (f"/{lang}/withdraw", f"/{lang}/withdraw/confirm"):
        response = client.post(url, data=data)
        flask_babel.refresh()
        assert response.status_code == 400
        assert message in response.get_data(as_text=True)
    assert _declarations(db) == []


def test_csrf_is_required(csrf_on, client, db, frozen_now, make_booking):
    frozen_now(NOW)
    booking = make_booking(START)
    data = {"reference": booking.ref, "name": "Erika Muster", "email": "erika@example.org"}
    assert client.post("/de/withdraw/confirm", data=data).status_code == 400
    assert _declarations(db) == [] and db.session.get(Booking, booking.id).state == "awaiting_payment"
    page = client.get("/de/withdraw").get_data(as_text=True)
    token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    assert client.post("/de/withdraw/confirm", data={**data, "csrf_token": token}).status_code == 200
    assert len(_declarations(db)) == 1


def test_confirmations_are_rate_limited(limits_on, app, client, db, frozen_now):
    from reflexion.redis_conn import get_redis

    get_redis(app).flushdb()
    frozen_now(NOW)
    data = {"reference": "R-ZZZZZZ", "name": "Erika Muster", "email": "erika@example.org"}
    statuses = [client.post("/de/withdraw/confirm", data=data).status_code for _ in range(6)]
    assert statuses == [200] * 5 + [429]
    assert len(_declarations(db)) == 5


def test_the_operator_sees_the_declarations(client, db, frozen_now, make_booking):
    from reflexion.operator.auth import create_operator

    frozen_now(NOW)
    booking = make_booking(START)
    _declare(client, "de", "R-ZZZZZZ", name="Unbekannt Jemand", email="jemand@example.org")
    _declare(client, "de", booking.ref)
    create_operator("op@example.com", "correct horse battery")
    db.session.commit()
    assert client.post("/operator/login", data={"email": "op@example.com",
                                                "password": "correct horse battery"}).status_code == 303
    html = client.get("/operator/").get_data(as_text=True)
    section = html[html.index("data-withdrawals"):]
    assert "R-ZZZZZZ" in section and "jemand@example.org" in section and booking.ref in section
    assert 'data-outcome="no_match"' in section and 'data-outcome="withdrawn"' in section


def _booking_page(app, booking, lang):
    client = app.test_client()
    opened = client.post(f"/{lang}/booking/{booking.ref}", data={"access_key": "abcd-efgh-jkmn"})
    assert opened.status_code == 303
    page = client.get(opened.headers["Location"])
    flask_babel.refresh()
    assert page.status_code == 200
    return client, page.get_data(as_text=True)


def _withdrawal_link(html):
    if "data-booking-withdrawal" not in html:
        return None
    return html.split("data-booking-withdrawal>", 1)[1].split("</p>", 1)[0]


@pytest.mark.parametrize("lang, label, hint", [
    ("de", "Vertrag widerrufen", "ohne Angabe von Gründen"),
    ("sv", "Ångra avtalet", "utan att ange skäl"),
])
def test_booking_page_links_to_the_withdrawal_form_with_its_reference_while_the_period_runs(
        app, db, frozen_now, make_booking, lang, label, hint):
    frozen_now(NOW - timedelta(days=20))
    too_late = make_booking(START + timedelta(days=1), state="confirmed", lang=lang)  # booked 20 days ago
    frozen_now(NOW)
    unpaid = make_booking(START, lang=lang)
    confirmed = make_booking(START + timedelta(hours=2), state="confirmed", lang=lang)
    cancelled = make_booking(START + timedelta(hours=4), state="cancelled", lang=lang)
    db.session.commit()

    for booking in (unpaid, confirmed):
        client, html = _booking_page(app, booking, lang)
        link = _withdrawal_link(html)
        assert link is not None, booking.state
        assert f'href="/{lang}/withdraw?ref={booking.ref}"' in link and label in link and hint in link
    # the link's target: the form with the reference filled in, and only the reference
    form = client.get(f"/{lang}/withdraw?ref={confirmed.ref}&name=Mallory&email=m@example.org").get_data(as_text=True)
    flask_babel.refresh()
    assert f'value="{confirmed.ref}"' in re.search(r'<input[^>]*name="reference"[^>]*>', form).group(0)
    assert "Mallory" not in form and "m@example.org" not in form
    junk = client.get(f"/{lang}/withdraw?ref=<b>hello</b>").get_data(as_text=True)
    flask_babel.refresh()
    assert "hello" not in junk

    for booking in (too_late, cancelled):
        assert _withdrawal_link(_booking_page(app, booking, lang)[1]) is None, booking.state
    frozen_now(START + timedelta(hours=2, minutes=1))  # the session has begun
    assert _withdrawal_link(_booking_page(app, confirmed, lang)[1]) is None


@pytest.mark.parametrize("lang, last_day, session_start", [
    ("de", "bis einschließlich montag, 7. dezember 2026 (14 tage nach der buchung)",
     "bis zum beginn ihres gesprächs am donnerstag, 26. november 2026, 10:00 mez"),
    ("sv", "till och med måndag 7 december 2026 (14 dagar efter bokningen)",
     "fram till att ditt samtal börjar torsdag 26 november 2026 kl. 10:00 cet"),
])
def test_the_withdrawal_hint_says_until_when(app, db, frozen_now, make_booking, lang, last_day, session_start):
    """Booked Monday 23 November: the period runs to the end of 7 December, unless the session
    begins first, which ends the right of withdrawal then."""
    frozen_now(NOW)
    later = make_booking(START + timedelta(days=30), state="confirmed", lang=lang)
    soon = make_booking(START, state="confirmed", lang=lang)
    db.session.commit()

    def hint(booking):
        text = re.sub(r"<[^>]+>", " ", _withdrawal_link(_booking_page(app, booking, lang)[1]))
        return " ".join(text.replace("\xa0", " ").split()).lower()

    assert last_day in hint(later) and "beginn" not in hint(later) and "börjar" not in hint(later)
    assert session_start in hint(soon) and "14" not in hint(soon)
