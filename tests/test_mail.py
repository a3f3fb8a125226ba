"""E-mails: what each booking event sends, how it is built, and how it leaves the machine.

Sent by the real RQ worker against the test Redis; the outbox transport writes .eml files,
the SMTP transport talks to an aiosmtpd server on loopback; everything received is parsed
back with the standard ``email`` package.
"""
import logging
import re
from datetime import datetime, timedelta, timezone

import pytest
from icalendar import Calendar
from redis import Redis
from sqlalchemy import select

from mail_helpers import (RecordingHandler, free_port, message_of, outbox_messages, parts_by_type, run_worker,
                          stored_emails, translated)
from reflexion.booking import codes
from reflexion.booking.cancellation import cancel_booking
from reflexion.booking.models import Booking
from reflexion.booking.payments import confirm_payment
from reflexion.booking.states import Actor
from reflexion.i18n import format_instant, format_money
from reflexion.mail import messages, notify, tasks
from reflexion.redis_conn import get_redis

UTC = timezone.utc
MONDAY_MORNING = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)  # 09:00 MEZ
TUESDAY_NINE = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)  # Tue 09:00 MEZ


def _emails(db, booking=None):
    return stored_emails(booking)


def _text(message, subtype="plain"):
    return message.get_body(preferencelist=(subtype,)).get_content()


def _all_text(message):
    """Every decoded leaf part, for 'never contains' checks (a QR code as what it encodes, a PDF as its text)."""
    from qr_helpers import decode_qr, pdf_text

    chunks = []
    for part in message.walk():
        if not part.is_multipart():
            content = part.get_content()
            if part.get_content_type() == "image/png":
                content = decode_qr(content)
            elif part.get_content_type() == "application/pdf":
                content = pdf_text(content)
            chunks.append(content.decode() if isinstance(content, bytes) else content)
    return "\n".join(chunks) + "\n" + "\n".join(f"{k}: {v}" for k, v in message.items())


def _book_through_the_site(client, lang="de"):
    html = client.get(f"/{lang}/book").get_data(as_text=True)
    href = re.findall(r'data-slot="[^"]+" href="([^"]+)"', html)[0]
    response = client.post(href, data={"name": "Erika Muster", "email": "erika@example.org",
                                       "call_handle": "erika.muster@example.org", "accept_terms": "y", "early_start": "y"})
    assert response.status_code == 303
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    ref = re.search(r"data-booking-ref>([^<]+)<", page).group(1)
    key = re.search(r"data-access-key>([^<]+)<", page).group(1)
    return ref, key


# -- each event and its e-mail ------------------------------------------------------------

def test_booking_sends_received_email_with_payment_instructions_in_client_language(
        app, client, db, jobs, weekly_hours, frozen_now):
    """Booking on /sv/ queues 'booking received'; the worker sends it in Swedish, no access key, no name."""
    frozen_now(MONDAY_MORNING)
    ref, key = _book_through_the_site(client, "sv")
    (email,) = _emails(db)
    assert (email.kind, email.status, email.lang, email.recipient) == ("booking_received", "queued", "sv",
                                                                      "erika@example.org")
    run_worker(app)
    (message,) = outbox_messages(app)
    assert message["To"] == "erika@example.org"
    assert ref in message["Subject"]
    assert message["Content-Language"] == "sv"
    assert message["Auto-Submitted"] == "auto-generated"
    assert message.get_content_type() == "multipart/alternative"
    text, html = _text(message), _text(message, "html")
    assert "tisdag 24 november 2026 kl. 09:00 CET" in text  # Swedish date, zone shown
    assert app.config["BANK_IBAN"] in text and ref in text
    assert f"/sv/booking/{ref}" in text and f"/sv/booking/{ref}" in html
    everything = _all_text(message)
    assert key not in everything and key.replace("-", "") not in everything
    assert "Erika Muster" not in everything and "erika.muster" not in everything
    assert _emails(db)[0].status == "sent" and _emails(db)[0].attempts == 1


def test_confirmation_email_carries_the_invite_and_never_the_confirmation_data(app, db, jobs, make_booking,
                                                                             frozen_now):
    """mixed -> alternative(plain, html, text/calendar; method=REQUEST) + .ics attachment + the PDF receipt;
    no digits anywhere (the receipt's text included)."""
    frozen_now(MONDAY_MORNING)
    booking = make_booking(TUESDAY_NINE)
    confirm_payment(booking)
    db.session.commit()
    code = codes.confirmation_code_for(booking)
    run_worker(app)
    (message,) = outbox_messages(app)
    assert message.get_content_type() == "multipart/mixed"
    alternative, attachment, receipt = message.get_payload()
    assert receipt.get_content_type() == "application/pdf" and receipt.get_filename() == "Quittung-B-000001.pdf"
    assert alternative.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in alternative.get_payload()] == ["text/plain", "text/html", "text/calendar"]
    calendar_part = alternative.get_payload()[2]
    assert calendar_part.get_param("method") == "REQUEST"
    assert calendar_part.get_content_charset().upper() == "UTF-8"
    assert attachment.get_content_type() == "application/ics" and attachment.get_filename() == "invite.ics"
    inline, attached = calendar_part.get_content(), attachment.get_content()
    inline = inline.encode() if isinstance(inline, str) else inline
    assert inline == attached
    event = Calendar.from_ical(inline).walk("VEVENT")[0]
    assert str(event["UID"]) == booking.ical_uid and event["SEQUENCE"] == 1
    assert event.decoded("dtstart").astimezone(UTC) == TUESDAY_NINE
    everything = _all_text(message)
    assert code not in everything and code.replace(" ", "") not in everything
    assert "Microsoft Teams" in _text(message) and "kontakt@internet-reflexion.example" in _text(message)
    assert "45" in _text(message) and "15" in _text(message)


@pytest.fixture
def csrf_on(app_config):
    """CSRF protection as in production (listed before ``app`` so the app is built with it)."""
    app_config["WTF_CSRF_ENABLED"] = True


def test_client_cancels_unpaid_booking_on_the_booking_page_with_csrf(csrf_on, app, client, db, jobs, frozen_now):
    """POST without the CSRF token is refused; with it the booking is cancelled and a CANCEL invite sent."""
    from reflexion.booking.operations import book_as_operator

    frozen_now(MONDAY_MORNING)
    new = book_as_operator(TUESDAY_NINE, name="Erika Muster", email="erika@example.org",
                          call_handle="erika.muster@example.org", lang="de")
    db.session.commit()
    ref, key = new.booking.ref, new.access_key
    page = client.get(f"/de/booking/{ref}").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    assert client.post(f"/de/booking/{ref}", data={"access_key": key, "csrf_token": token}).status_code == 303
    page = client.get(f"/de/booking/{ref}").get_data(as_text=True)
    assert "data-cancel-booking" in page
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    assert client.post(f"/de/booking/{ref}/cancel").status_code == 400
    assert db.session.get(Booking, new.booking.id).state == "awaiting_payment"
    response = client.post(f"/de/booking/{ref}/cancel", data={"csrf_token": token})
    assert response.status_code == 303
    db.session.expire_all()
    booking = db.session.get(Booking, new.booking.id)
    assert booking.state == "cancelled" and booking.ical_sequence == 1
    assert booking.transitions[-1].actor == "client"
    run_worker(app)
    (cancel_row,) = [e for e in _emails(db, booking) if e.kind == "booking_cancelled"]
    cancel_mail = message_of(app, cancel_row.id)
    # Never paid, never sent an invite: no METHOD:CANCEL for an event they never had (issue #12).
    assert "text/calendar" not in parts_by_type(cancel_mail)
    assert "invite.ics" not in cancel_mail.as_string()
    asked = translated(app, "de", "As you asked, your booking %(ref)s for %(start)s has been cancelled and "
                                  "the time released.", ref=ref, start=format_instant(TUESDAY_NINE, "full", "de"))
    assert asked in _text(cancel_mail)
    shown = client.get(f"/de/booking/{ref}").get_data(as_text=True)
    assert 'data-booking-state="cancelled"' in shown and "data-cancel-booking" not in shown


def test_client_cannot_cancel_a_paid_booking_once_its_session_has_begun(app, client, db, make_booking, frozen_now):
    """Paid bookings can be cancelled by the client until the start (issue #12); from then on the page
    offers no cancel button and a POST answers 409, booking unchanged."""
    frozen_now(MONDAY_MORNING)
    booking = make_booking(TUESDAY_NINE)
    confirm_payment(booking)
    db.session.commit()
    client.post(f"/de/booking/{booking.ref}", data={"access_key": "abcd-efgh-jkmn"})
    assert "data-cancel-booking" in client.get(f"/de/booking/{booking.ref}").get_data(as_text=True)
    frozen_now(TUESDAY_NINE + timedelta(minutes=1))
    assert "data-cancel-booking" not in client.get(f"/de/booking/{booking.ref}").get_data(as_text=True)
    response = client.post(f"/de/booking/{booking.ref}/cancel")
    assert response.status_code == 409
    db.session.refresh(booking)
    assert booking.state in ("confirmed", "due") and booking.refund_cents is None
    assert client.post("/de/booking/R-ZZZZZZ/cancel").status_code == 404


def test_operator_cancels_paid_booking_and_client_is_told(app, db, jobs, make_booking, frozen_now):
    """Operator cancel: CANCEL invite with a higher SEQUENCE, 'cancelled by' text, fee mentioned."""
    frozen_now(MONDAY_MORNING)
    booking = make_booking(TUESDAY_NINE)
    confirm_payment(booking)
    db.session.commit()
    run_worker(app)
    cancel_booking(booking, actor=Actor.OPERATOR, note="operator ill")
    db.session.commit()
    run_worker(app)
    confirmed_mail, cancelled_mail = outbox_messages(app)
    seq = [Calendar.from_ical(parts_by_type(m)["text/calendar"][0].get_content()).walk("VEVENT")[0]["SEQUENCE"]
           for m in (confirmed_mail, cancelled_mail)]
    assert seq[0] < seq[1]
    text = _text(cancelled_mail)
    by_operator = translated(app, "de", "We are sorry: your booking %(ref)s for %(start)s has been cancelled by "
                                        "%(brand)s.", ref=booking.ref, start=format_instant(TUESDAY_NINE, "full", "de"),
                             brand=app.config["BRAND"])
    assert by_operator in text
    # The operator cancelled: the whole fee is refunded, and the e-mail says so with the amount.
    assert translated(app, "de", "You get %(amount)s of the fee you paid back; we transfer it to you shortly.",
                      amount=format_money(9000, "EUR", "de")) in text
    assert [e.kind for e in _emails(db, booking)] == ["booking_confirmed", "booking_cancelled"]


def test_reminder_is_scheduled_at_confirmation_sent_once_and_dropped_on_cancel(app, db, jobs, make_booking,
                                                                               frozen_now):
    """Job booking-<id>-reminder at reminder_time; the job queues one reminder; cancelling removes it."""
    from rq.job import Job
    from rq.registry import ScheduledJobRegistry

    from reflexion.jobs.queue import TIMERS, get_queue
    from reflexion.conversations.deadlines import reminder_time

    start = MONDAY_MORNING + timedelta(days=3)
    frozen_now(MONDAY_MORNING)
    booking = make_booking(start)
    confirm_payment(booking)
    db.session.commit()
    job_id = f"booking-{booking.id}-reminder"
    registry = ScheduledJobRegistry(queue=get_queue(TIMERS))
    assert job_id in registry.get_job_ids()
    assert registry.get_scheduled_time(job_id) == reminder_time(booking).replace(microsecond=0)
    frozen_now(reminder_time(booking))
    assert tasks.send_reminder(booking.id) == "queued"
    assert tasks.send_reminder(booking.id) == "already queued"
    run_worker(app)
    rows = _emails(db, booking)
    assert [(e.kind, e.status) for e in rows] == [("booking_confirmed", "sent"), ("reminder", "sent")]
    reminder = message_of(app, rows[1].id)
    assert reminder["Subject"] == translated(app, "de", "Reminder: your video call on %(start)s",
                                             start=format_instant(start, "short", "de"))
    cancel_booking(booking, actor=Actor.OPERATOR)
    db.session.commit()
    assert not Job.exists(job_id, connection=get_redis(app))


def test_no_reminder_when_its_time_has_passed(app, db, jobs, make_booking, frozen_now):
    """Paid less than REMINDER_HOURS before the start: no reminder job."""
    from rq.job import Job

    frozen_now(MONDAY_MORNING)
    booking = make_booking(MONDAY_MORNING + timedelta(hours=5))
    confirm_payment(booking)
    db.session.commit()
    assert not Job.exists(f"booking-{booking.id}-reminder", connection=get_redis(app))
    assert tasks.send_reminder(booking.id) == "queued"  # the job itself would still send if run
    frozen_now(MONDAY_MORNING + timedelta(hours=6))
    other = make_booking(MONDAY_MORNING + timedelta(days=2))
    assert tasks.send_reminder(other.id) == "not needed"  # unpaid


def test_an_outdated_email_is_skipped(app, db, jobs, make_booking, frozen_now):
    """A confirmation still queued when the booking got cancelled is not sent."""
    frozen_now(MONDAY_MORNING)
    booking = make_booking(TUESDAY_NINE)
    confirm_payment(booking)
    cancel_booking(booking, actor=Actor.OPERATOR)
    db.session.commit()
    run_worker(app)
    statuses = {e.kind: e.status for e in _emails(db, booking)}
    assert statuses == {"booking_confirmed": "skipped", "booking_cancelled": "sent"}
    assert len(outbox_messages(app)) == 1


def test_each_event_sends_its_email_only_once(app, db, make_booking, frozen_now):
    """A hook that runs twice for one change queues nothing twice."""
    frozen_now(MONDAY_MORNING)
    booking = make_booking(TUESDAY_NINE)
    entry = confirm_payment(booking)
    notify.state_changed(booking, entry)
    db.session.commit()
    assert [e.kind for e in _emails(db, booking)] == ["booking_confirmed"]


# -- transports ----------------------------------------------------------------------

def test_outbox_writes_eml_and_logs_one_line_without_address(app, db, jobs, make_booking, frozen_now, caplog):
    """Without MAIL_SERVER: one .eml in instance/outbox and one log line naming only id and kind."""
    frozen_now(MONDAY_MORNING)
    booking = make_booking(TUESDAY_NINE)
    notify.booking_created(booking)
    db.session.commit()
    with caplog.at_level(logging.INFO, logger="reflexion.mail"):
        run_worker(app)
    lines = [r.getMessage() for r in caplog.records if r.name.startswith("reflexion.mail")]
    assert len(lines) == 1 and "outbox/" in lines[0]
    assert "@" not in lines[0] and "Erika" not in lines[0]
    (message,) = outbox_messages(app)
    assert message["To"] == "erika@example.org"


@pytest.fixture
def smtp_server():
    from aiosmtpd.controller import Controller

    handler = RecordingHandler()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller, handler
    controller.stop()


def test_smtp_delivers_to_a_real_server_on_loopback(app, db, jobs, make_booking, frozen_now, smtp_server):
    """MAIL_SERVER set: the message arrives at the SMTP server and parses back with the email package."""
    controller, handler = smtp_server
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=controller.port)
    frozen_now(MONDAY_MORNING)
    booking = make_booking(TUESDAY_NINE, lang="sv")
    confirm_payment(booking)
    db.session.commit()
    run_worker(app)
    (envelope,) = handler.envelopes
    assert envelope.rcpt_tos == ["erika@example.org"]
    assert envelope.mail_from == "no-reply@internet-reflexion.example"
    (message,) = handler.messages()
    assert message["To"] == "erika@example.org"
    assert message["Content-Language"] == "sv"
    assert "Internet Reflexion" in message["From"]
    types = parts_by_type(message)
    assert {"text/plain", "text/html", "text/calendar", "application/ics"} <= set(types)
    assert "tisdag" in types["text/plain"][0].get_content()
    cal = Calendar.from_ical(types["text/calendar"][0].get_content())
    assert str(cal["METHOD"]) == "REQUEST"
    assert outbox_messages(app) == []
    (email,) = _emails(db, booking)
    assert email.status == "sent" and email.sent_at == MONDAY_MORNING


def test_temporary_smtp_failure_is_retried_and_the_booking_is_untouched(app, db, jobs, make_booking, frozen_now,
                                                                         smtp_server):
    """A 451 on the first try: the row records the error, RQ retries, the second try delivers."""
    controller, handler = smtp_server
    handler.fail_first = 1
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=controller.port, MAIL_RETRY_INTERVALS=[0, 0])
    frozen_now(MONDAY_MORNING)
    booking = make_booking(TUESDAY_NINE)
    notify.booking_created(booking)
    db.session.commit()
    run_worker(app)
    (email,) = _emails(db, booking)
    assert (email.status, email.attempts) == ("sent", 2)
    assert handler.attempts == 2 and len(handler.envelopes) == 1
    db.session.refresh(booking)
    assert booking.state == "awaiting_payment"


def test_permanent_smtp_failure_ends_as_failed_without_addresses_in_the_record(app, db, jobs, make_booking,
                                                                                frozen_now, smtp_server):
    """Every try refused: after the last retry the row is 'failed' with the SMTP code, no address."""
    controller, handler = smtp_server
    handler.fail_first = 99
    handler.failure = "554 5.7.1 <erika@example.org> rejected"
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=controller.port, MAIL_RETRY_INTERVALS=[0, 0])
    frozen_now(MONDAY_MORNING)
    booking = make_booking(TUESDAY_NINE)
    notify.booking_created(booking)
    db.session.commit()
    run_worker(app)
    (email,) = _emails(db, booking)
    assert (email.status, email.attempts) == ("failed", 3)
    assert email.last_error == "SMTPDataError 554" and "@" not in email.last_error


def test_send_jobs_carry_retry_with_backoff(app, db, make_booking, frozen_now):
    """The default policy: five retries with growing intervals on the mail queue, job id email-<id>."""
    from rq.job import Job

    frozen_now(MONDAY_MORNING)
    booking = make_booking(TUESDAY_NINE)
    email = notify.queue_email(messages.BOOKING_RECEIVED, booking=booking)
    db.session.commit()
    job = Job.fetch(f"email-{email.id}", connection=get_redis(app))
    assert job.origin == "mail"
    assert job.retries_left == 5
    assert job.retry_intervals == [30, 120, 600, 1800, 7200]


@pytest.fixture
def tls_files(tmp_path):
    """A test CA (its certificate for MAIL_CA_FILE) and a server certificate for 127.0.0.1, made in Python."""
    import trustme

    authority = trustme.CA()
    ca_file = tmp_path / "ca.pem"
    authority.cert_pem.write_to_path(str(ca_file))
    return ca_file, authority.issue_cert("127.0.0.1", "localhost")


def _server_tls(server_cert):
    import ssl

    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_cert.configure_cert(context)
    return context


def test_smtp_starttls_with_login(app, db, jobs, make_booking, frozen_now, tls_files):
    """MAIL_USE_TLS: STARTTLS against the server's certificate (MAIL_CA_FILE), then AUTH, then delivery."""
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult

    ca_file, server_cert = tls_files
    logins = []

    def authenticator(server, session, envelope, mechanism, auth_data):
        logins.append((auth_data.login, auth_data.password, session.ssl is not None))
        return AuthResult(success=auth_data.login == b"reflexion" and auth_data.password == b"s3cret")

    handler = RecordingHandler()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port(), tls_context=_server_tls(server_cert),
                            require_starttls=True, authenticator=authenticator, auth_require_tls=True)
    controller.start()
    try:
        app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=controller.port, MAIL_USE_TLS=True,
                          MAIL_CA_FILE=str(ca_file), MAIL_USERNAME="reflexion", MAIL_PASSWORD="s3cret")
        frozen_now(MONDAY_MORNING)
        booking = make_booking(TUESDAY_NINE)
        notify.booking_created(booking)
        db.session.commit()
        run_worker(app)
    finally:
        controller.stop()
    assert logins == [(b"reflexion", b"s3cret", True)]
    assert len(handler.envelopes) == 1
    assert _emails(db, booking)[0].status == "sent"


def test_smtp_implicit_tls(app, db, jobs, make_booking, frozen_now, tls_files):
    """MAIL_USE_SSL: TLS from the first byte (port 465 style)."""
    from aiosmtpd.controller import Controller

    ca_file, server_cert = tls_files
    handler = RecordingHandler()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port(), ssl_context=_server_tls(server_cert))
    controller.start()
    try:
        app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=controller.port, MAIL_USE_SSL=True,
                          MAIL_CA_FILE=str(ca_file))
        frozen_now(MONDAY_MORNING)
        booking = make_booking(TUESDAY_NINE)
        notify.booking_created(booking)
        db.session.commit()
        run_worker(app)
    finally:
        controller.stop()
    assert len(handler.envelopes) == 1


# -- safety ----------------------------------------------------------------------------

@pytest.mark.parametrize("address", [
    "erika@example.org\r\nBcc: evil@example.org",
    "erika@example.org\nBcc: evil@example.org",
    "Erika <erika@example.org>, evil@example.org",
    "erika@example.org evil@example.org",
])
def test_injected_recipient_is_never_sent(app, db, jobs, make_booking, frozen_now, address):
    """An address carrying CR/LF, a second address or spaces fails at once: no message, no retry."""
    frozen_now(MONDAY_MORNING)
    booking = make_booking(TUESDAY_NINE, email=address)
    notify.booking_created(booking)
    db.session.commit()
    run_worker(app)
    (email,) = _emails(db, booking)
    assert (email.status, email.attempts) == ("failed", 1)
    assert outbox_messages(app) == []


def test_client_typed_name_and_handle_never_reach_a_header(app, db, jobs, make_booking, frozen_now):
    """CR/LF in name and handle: the message has exactly our headers and one recipient."""
    frozen_now(MONDAY_MORNING)
    payload = "Eve\r\nBcc: evil@example.org\r\nSubject: free money"
    booking = make_booking(TUESDAY_NINE, name=payload, call_handle=payload)
    confirm_payment(booking)
    db.session.commit()
    run_worker(app)
    (message,) = outbox_messages(app)
    assert sorted(message.keys()) == sorted(["Subject", "From", "To", "Date", "Message-ID", "Auto-Submitted",
                                             "X-Auto-Response-Suppress", "MIME-Version", "Content-Type",
                                             "Content-Language"])
    assert message["To"] == "erika@example.org" and "free money" not in message["Subject"]
    raw_headers = message.as_string().split("\n\n", 1)[0]
    assert "evil@example.org" not in raw_headers


def test_failed_enqueue_never_loses_the_booking_and_is_caught_up(app, client, db, jobs, weekly_hours, frozen_now,
                                                                redis_server):
    """Redis away during the request: the booking and its e-mail row are saved; the sweep sends it later."""
    frozen_now(MONDAY_MORNING)
    working = get_redis(app)
    app.extensions["reflexion_redis"] = Redis.from_url("unix:///nonexistent/redis.sock")
    try:
        ref, _key = _book_through_the_site(client)
    finally:
        app.extensions["reflexion_redis"] = working
    booking = db.session.scalar(select(Booking).where(Booking.ref == ref))
    (email,) = _emails(db, booking)
    assert email.status == "queued"
    assert tasks.requeue_unsent() == 0  # too fresh: its job may still be on its way
    frozen_now(MONDAY_MORNING + timedelta(minutes=10))
    assert tasks.requeue_unsent() == 1
    run_worker(app)
    assert _emails(db, booking)[0].status == "sent"
    assert tasks.requeue_unsent() == 0


def test_operator_notice_for_contact_message_carries_no_content(app, client, db, jobs, frozen_now):
    """MAIL_OPERATOR_NOTICE set: one content-free notice per burst of messages; unset: none."""
    frozen_now(MONDAY_MORNING)
    form = {"name": "Karl Secret", "email": "karl@example.org", "call_handle": "karl.s@example.org",
            "message": "My very private problem"}
    assert client.post("/de/contact", data=form).status_code == 303
    assert _emails(db) == []
    app.config["MAIL_OPERATOR_NOTICE"] = "operator@example.org"
    assert client.post("/de/contact", data=form).status_code == 303
    assert client.post("/de/contact", data=form).status_code == 303
    (email,) = _emails(db)
    assert (email.kind, email.recipient, email.booking_id) == ("operator_notice", "operator@example.org", None)
    run_worker(app)
    (message,) = outbox_messages(app)
    everything = _all_text(message)
    for secret in ("Karl", "karl@example.org", "karl.s", "private problem"):
        assert secret not in everything
    assert "/operator/" in _text(message)


def test_send_left_behind_by_a_dead_worker_is_enqueued_again(app, db, jobs, make_booking, frozen_now):
    """Row stuck in 'sending' with its job failed in RQ (worker killed): the sweep sends it again."""
    from rq.job import Job, JobStatus

    frozen_now(MONDAY_MORNING)
    booking = make_booking(TUESDAY_NINE)
    email = notify.queue_email(messages.BOOKING_RECEIVED, booking=booking)
    db.session.commit()
    email.status = "sending"
    db.session.commit()
    job = Job.fetch(f"email-{email.id}", connection=get_redis(app))
    assert tasks.requeue_unsent(MONDAY_MORNING + timedelta(minutes=10)) == 0  # queued: still alive
    get_redis(app).delete("rq:queue:mail")
    job.set_status(JobStatus.FAILED)
    assert tasks.requeue_unsent(MONDAY_MORNING + timedelta(minutes=10)) == 1
    run_worker(app)
    assert _emails(db, booking)[0].status == "sent"
    assert len(outbox_messages(app)) == 1
