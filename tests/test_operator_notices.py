"""Notices to the operator: new client booking, payment confirmed, client cancellation, new
contact message — by e-mail (a real SMTP server on loopback) and by push (apprise to a real
HTTP endpoint on loopback), sent by the RQ worker, content-free, never in the client's way."""
import json
import threading
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from rq.registry import FailedJobRegistry
from sqlalchemy import select

from mail_helpers import RecordingHandler, free_port, outbox_messages, run_worker
from reflexion.booking import codes
from reflexion.booking.cancellation import cancel_booking
from reflexion.booking.states import Actor
from reflexion.booking.models import Booking
from reflexion.jobs.queue import MAIL, get_queue
from reflexion.mail.models import OutgoingEmail

UTC = timezone.utc
NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)  # Monday 09:00 MEZ
SLOT_A = "2026-12-08T08:00:00Z"  # outside the withdrawal period: no extra tick
SLOT_B = "2026-12-08T09:00:00Z"
NOTICE_TO = "praxis@example.org"
CLIENT = {"name": "Erika Geheimnis", "email": "erika.geheim@example.org", "call_handle": "erika.geheim.99@example.net",
          "accept_terms": "y"}
MESSAGE = {"name": "Karl Vertraulich", "email": "karl.v@example.org", "call_handle": "karl.v.77@example.net",
           "message": "Mein sehr privates Anliegen 4711"}
PRIVATE = ("Erika", "Geheimnis", "erika.geheim", "Karl", "Vertraulich", "karl.v", "privates Anliegen", "4711")


@pytest.fixture
def smtp_server():
    from aiosmtpd.controller import Controller

    handler = RecordingHandler()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller, handler
    controller.stop()


class _Recorder(BaseHTTPRequestHandler):
    received: list

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.server.received.append((self.path, json.loads(body)))
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args):
        pass


@pytest.fixture
def push_endpoint():
    """A tiny HTTP server on loopback that records what apprise's json:// posts to it."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    server.received = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join(5)


def _everything(message) -> str:
    parts = [str(message["Subject"])]
    for part in message.walk():
        if not part.is_multipart():
            parts.append(part.get_content() if isinstance(part.get_content(), str) else "")
    return "\n".join(parts)


def _the_four_events(client, runner, db):
    """A client books A and B (German, Swedish), the operator marks A paid, the client cancels B,
    someone writes a message. Returns the two bookings."""
    assert client.post(f"/de/book/{SLOT_A}", data=CLIENT).status_code == 303
    assert client.post(f"/sv/book/{SLOT_B}", data=CLIENT).status_code == 303
    a, b = db.session.scalars(select(Booking).order_by(Booking.start_at)).all()
    result = runner.invoke(args=["bookings", "mark-paid", a.ref])
    assert result.exit_code == 0, result.output
    assert client.post(f"/sv/booking/{b.ref}/cancel").status_code == 303
    assert client.post("/de/contact", data=MESSAGE).status_code == 303
    db.session.expire_all()
    return db.session.get(Booking, a.id), db.session.get(Booking, b.id)


def test_each_event_sends_a_content_free_notice_over_smtp(app, client, runner, db, jobs, frozen_now, weekly_hours,
                                                          smtp_server):
    controller, handler = smtp_server
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=controller.port, MAIL_OPERATOR_NOTICE=NOTICE_TO)
    frozen_now(NOW)
    a, b = _the_four_events(client, runner, db)
    assert (a.state, b.state) == ("confirmed", "cancelled")
    run_worker(app)

    notices = [m for env, m in zip(handler.envelopes, handler.messages()) if env.rcpt_tos == [NOTICE_TO]]
    subjects = sorted(str(m["Subject"]) for m in notices)
    assert subjects == sorted([f"Neue Buchung {a.ref}", f"Neue Buchung {b.ref}", f"Zahlung bestätigt: {a.ref}",
                               f"Buchung {b.ref} vom Klienten storniert",
                               "Im Praxisbereich wartet eine neue Nachricht"]), subjects
    code = codes.confirmation_code_for(a)
    for message in notices:
        text = _everything(message)
        assert message["Content-Language"] == "de"
        assert "MEZ" in text  # times carry their zone
        assert "/operator/" in text
        for private in PRIVATE + (code, code.replace(" ", "")):
            assert private not in text, (message["Subject"], private)
    paid = next(m for m in notices if str(m["Subject"]).startswith("Zahlung"))
    assert "Dienstag, 8. Dezember 2026, 09:00 MEZ" in _everything(paid)  # the session's time
    assert "Montag, 23. November 2026, 09:00 MEZ" in _everything(paid)  # when it was paid
    # The clients' own e-mails still go to the client, unchanged.
    assert any(env.rcpt_tos == ["erika.geheim@example.org"] for env in handler.envelopes)
    rows = db.session.scalars(select(OutgoingEmail).where(OutgoingEmail.recipient == NOTICE_TO)).all()
    assert len(rows) == 5 and {r.status for r in rows} == {"sent"}


def test_notices_go_to_the_contact_address_by_default_and_not_for_the_operators_own_moves(
        app, client, runner, db, jobs, frozen_now, weekly_hours):
    app.config.update(MAIL_OPERATOR_NOTICE=None, CONTACT_EMAIL="kontakt@praxis.example")
    frozen_now(NOW)
    result = runner.invoke(args=["bookings", "create", "--start", "2026-12-09T08:00:00Z", "--name", "Op Booked",
                                 "--email", "op@example.org", "--handle", "op.booked@example.org"])
    assert result.exit_code == 0, result.output
    cancel_booking(db.session.scalar(select(Booking)), actor=Actor.OPERATOR, note="test")
    db.session.commit()
    assert db.session.scalars(select(OutgoingEmail).where(
        OutgoingEmail.kind.like("operator_notice%"))).all() == []  # the operator's own booking and cancel
    assert client.post(f"/de/book/{SLOT_A}", data=CLIENT).status_code == 303
    (row,) = db.session.scalars(select(OutgoingEmail).where(OutgoingEmail.kind.like("operator_notice%"))).all()
    assert (row.kind, row.recipient, row.lang) == ("operator_notice_booked", "kontakt@praxis.example", "de")
    app.config["MAIL_OPERATOR_NOTICE"] = "off"
    assert client.post(f"/de/book/{SLOT_B}", data=CLIENT).status_code == 303
    assert len(db.session.scalars(select(OutgoingEmail).where(OutgoingEmail.kind.like("operator_notice%"))).all()) == 1


def test_push_notices_reach_a_real_http_endpoint_through_apprise(app, client, runner, db, jobs, frozen_now,
                                                                 weekly_hours, push_endpoint):
    port = push_endpoint.server_address[1]
    app.config.update(NOTICE_URLS=[f"json://127.0.0.1:{port}/notify"])
    frozen_now(NOW)
    a, b = _the_four_events(client, runner, db)
    assert client.post("/de/contact", data=MESSAGE).status_code == 303  # a second message: one push only
    run_worker(app)
    assert {path for path, _ in push_endpoint.received} == {"/notify"}
    titles = sorted(payload["title"] for _, payload in push_endpoint.received)
    assert titles == sorted([f"Neue Buchung {a.ref}", f"Neue Buchung {b.ref}", f"Zahlung bestätigt: {a.ref}",
                             f"Buchung {b.ref} vom Klienten storniert",
                             "Im Praxisbereich wartet eine neue Nachricht"]), titles
    for _, payload in push_endpoint.received:
        text = payload["title"] + "\n" + payload["message"]
        assert "MEZ" in text
        for private in PRIVATE:
            assert private not in text
    booked = next(p for _, p in push_endpoint.received if p["title"] == f"Neue Buchung {a.ref}")
    assert "Dienstag, 8. Dezember 2026, 09:00 MEZ" in booked["message"]


def test_an_unreachable_notice_url_never_breaks_a_booking(app, client, db, jobs, frozen_now, weekly_hours):
    app.config.update(NOTICE_URLS=[f"json://127.0.0.1:{free_port()}/gone", "this-is-no-notice-url"],
                      MAIL_RETRY_INTERVALS=[0], MAIL_OPERATOR_NOTICE=NOTICE_TO)
    frozen_now(NOW)
    response = client.post(f"/de/book/{SLOT_A}", data=CLIENT)
    assert response.status_code == 303
    booking = db.session.scalar(select(Booking))
    assert booking.state == "awaiting_payment"
    run_worker(app)
    failed = FailedJobRegistry(queue=get_queue(MAIL, app))
    jobs_failed = [get_queue(MAIL, app).fetch_job(job_id) for job_id in failed.get_job_ids()]
    assert [job.func_name for job in jobs_failed] == ["reflexion.notices.push.send_push"]  # tried, retried, given up
    # The client's e-mail and the operator's e-mail notice went out regardless.
    recipients = sorted(m["To"] for m in outbox_messages(app))
    assert recipients == ["erika.geheim@example.org", NOTICE_TO]
    assert client.get(response.headers["Location"]).status_code == 200
