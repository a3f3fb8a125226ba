"""Retention purge, export and erasure of one client's data."""
import json
from datetime import timedelta

import flask_babel
import pytest
from sqlalchemy import select

from reflexion import clock
from reflexion.booking.models import Booking, Payment, WithdrawalDeclaration
from reflexion.mail.messages import WITHDRAWAL_RECEIVED
from reflexion.mail.models import OutgoingEmail
from reflexion.pages.models import ContactMessage
from reflexion.privacy import retention
from frozen import NOW


def _message(db, email, received_at, text="Bitte rufen Sie mich an."):
    message = ContactMessage(name="Erika Muster", email=email, call_handle="erika.m", message=text,
                             lang="de", received_at=received_at)
    db.session.add(message)
    db.session.commit()
    return message


def _declaration(db, *, booking=None, reference=None, email="erika@example.org", declared_at=None,
                 outcome="withdrawn"):
    """A stored declaration and its acknowledgment e-mail, as the withdrawal function leaves them."""
    declaration = WithdrawalDeclaration(reference=reference or booking.ref, name="Erika Muster", email=email,
                                        lang="de", declared_at=declared_at or clock.now(), booking=booking,
                                        outcome=outcome)
    db.session.add(declaration)
    db.session.flush()
    db.session.add(OutgoingEmail(kind=WITHDRAWAL_RECEIVED, recipient=email, lang="de", status="sent",
                                 attempts=1, created_at=declaration.declared_at,
                                 params={"declaration_id": declaration.id}))
    db.session.commit()
    return declaration


def _acknowledgment_recipient(db, declaration):
    return db.session.scalar(select(OutgoingEmail.recipient).where(
        OutgoingEmail.params["declaration_id"].as_integer() == declaration.id))


def test_purge_anonymises_withdrawal_declarations_with_their_bookings_records(app, db, make_booking, frozen_now):
    """A declaration is evidence for the contract: kept as long as its booking's records (RETENTION_DAYS
    after the booked time); one naming no booking RETENTION_DAYS after it was declared."""
    frozen_now(NOW - timedelta(days=400))
    old = make_booking(NOW - timedelta(days=200), state="cancelled")
    old_withdrawn = _declaration(db, booking=old, declared_at=NOW - timedelta(days=390))
    old_unmatched = _declaration(db, reference="my booking from March, Erika", email="e.m@example.org",
                                 declared_at=NOW - timedelta(days=181), outcome="no_match")
    frozen_now(NOW - timedelta(days=200))
    # declared long ago, but its booking's session is recent: its records (and the proof) are still kept
    recent = make_booking(NOW - timedelta(days=20), state="cancelled", email="recent@example.org")
    recent_withdrawn = _declaration(db, booking=recent, email="recent@example.org",
                                    declared_at=NOW - timedelta(days=199))
    frozen_now(NOW)
    new_unmatched = _declaration(db, reference="R-XXXXXX", email="new@example.org",
                                 declared_at=NOW - timedelta(days=179), outcome="no_match")

    assert retention.purge_expired() == {"bookings": 1, "messages": 0, "declarations": 2}
    db.session.commit()

    assert (old_withdrawn.name, old_withdrawn.anonymised_at) == ("—", NOW)
    assert old_withdrawn.email.endswith("@invalid") and old_withdrawn.reference == old.ref  # the ref stays
    assert (old_withdrawn.outcome, old_withdrawn.declared_at) == ("withdrawn", NOW - timedelta(days=390))
    assert _acknowledgment_recipient(db, old_withdrawn) == old_withdrawn.email
    assert old_unmatched.name == "—" and old_unmatched.reference == "—"  # free text naming no booking
    assert _acknowledgment_recipient(db, old_unmatched).endswith("@invalid")
    for kept in (recent_withdrawn, new_unmatched):
        assert kept.name == "Erika Muster" and kept.anonymised_at is None and "@example.org" in kept.email
        assert _acknowledgment_recipient(db, kept) == kept.email
    assert retention.purge_expired()["declarations"] == 0  # idempotent

    frozen_now(NOW + timedelta(days=2))  # the newer unmatched one reaches 180 days; the recent booking not yet
    assert retention.purge_expired() == {"bookings": 0, "messages": 0, "declarations": 1}
    assert new_unmatched.name == "—" and recent_withdrawn.name == "Erika Muster"
    frozen_now(NOW + timedelta(days=161))  # recent booking's session 181 days ago: it goes, its declaration with it
    assert retention.purge_expired() == {"bookings": 1, "messages": 0, "declarations": 1}
    assert recent_withdrawn.name == "—" and recent.name == "—"


def test_purge_anonymises_old_finished_bookings_and_keeps_accounting_facts(app, db, make_booking, frozen_now):
    frozen_now(NOW - timedelta(days=400))
    old = make_booking(NOW - timedelta(days=200), state="completed")
    old.payments.append(Payment(amount_cents=9000, currency="EUR", method="bank_transfer",
                                paid_at=clock.now(), recorded_at=clock.now(), recorded_by="operator"))
    old.transitions[0].note = "Client named Erika said something"
    recent = make_booking(NOW - timedelta(days=10), state="no_show", email="recent@example.org")
    live = make_booking(NOW + timedelta(days=3), state="confirmed", email="live@example.org")
    old_message = _message(db, "erika@example.org", NOW - timedelta(days=100))
    new_message = _message(db, "new@example.org", NOW - timedelta(days=5))
    frozen_now(NOW)

    assert retention.purge_expired() == {"bookings": 1, "messages": 1, "declarations": 0}
    db.session.commit()

    assert old.name == "—" and old.call_handle == "—" and old.email.endswith("@invalid")
    assert old.transitions[0].note is None
    assert (old.state, old.fee_cents, old.start_at) == ("completed", 9000, NOW - timedelta(days=200))
    assert old.payments[0].amount_cents == 9000
    assert recent.name == "Erika Muster" and live.name == "Erika Muster"
    assert old_message.message == "—" and old_message.email.endswith("@invalid")
    assert new_message.message == "Bitte rufen Sie mich an."
    assert retention.purge_expired() == {"bookings": 0, "messages": 0, "declarations": 0}  # idempotent


def test_export_contains_everything_about_one_client_only(app, db, make_booking, frozen_now):
    frozen_now(NOW)
    make_booking(NOW + timedelta(days=2), email="Erika@Example.org")
    make_booking(NOW + timedelta(days=3), email="someone@example.org", name="Someone Else")
    _message(db, "erika@example.org", NOW)
    data = retention.export_client("erika@example.org")
    json.dumps(data)  # JSON-ready
    assert [b["email"] for b in data["bookings"]] == ["Erika@Example.org"]
    assert data["bookings"][0]["transitions"][0]["to"] == "awaiting_payment"
    assert data["contact_messages"][0]["message"] == "Bitte rufen Sie mich an."
    assert "Someone Else" not in json.dumps(data)


def test_export_and_erase_include_withdrawal_declarations(app, db, make_booking, frozen_now):
    frozen_now(NOW)
    booking = make_booking(NOW + timedelta(days=2), state="cancelled", email="Erika@Example.org")
    withdrawn = _declaration(db, booking=booking, email="erika@example.org")
    unmatched = _declaration(db, reference="r 7kq4m2", email="ERIKA@example.org", outcome="no_match")
    other = _declaration(db, reference="R-ABCDEF", email="someone@example.org", outcome="no_match")

    data = retention.export_client("erika@example.org")
    json.dumps(data)
    assert [(d["reference"], d["booking_ref"], d["outcome"]) for d in data["withdrawal_declarations"]] == [
        (booking.ref, booking.ref, "withdrawn"), ("r 7kq4m2", None, "no_match")]
    assert data["withdrawal_declarations"][0]["name"] == "Erika Muster"
    assert data["withdrawal_declarations"][0]["emails"] == [
        {"kind": WITHDRAWAL_RECEIVED, "status": "sent", "created_at": NOW.isoformat()}]
    assert "R-ABCDEF" not in json.dumps(data)

    assert retention.erase_client("erika@example.org") == {"bookings": 1, "messages": 0, "declarations": 2}
    db.session.commit()
    assert withdrawn.name == unmatched.name == "—" and withdrawn.anonymised_at == NOW
    assert _acknowledgment_recipient(db, unmatched).endswith("@invalid")
    assert other.name == "Erika Muster" and _acknowledgment_recipient(db, other) == "someone@example.org"
    assert retention.export_client("erika@example.org")["withdrawal_declarations"] == []


def test_erase_refuses_live_bookings_then_anonymises(app, db, make_booking, frozen_now):
    frozen_now(NOW)
    live = make_booking(NOW + timedelta(days=2), state="confirmed")
    done = make_booking(NOW - timedelta(days=2), state="completed")
    try:
        retention.erase_client("erika@example.org")
        raise AssertionError("erasure of a live booking must be refused")
    except retention.ErasureRefused as refused:
        assert refused.refs == [live.ref]
    assert done.name == "Erika Muster"
    live.state = "cancelled"
    db.session.commit()
    assert retention.erase_client("erika@example.org") == {"bookings": 2, "messages": 0, "declarations": 0}
    db.session.commit()
    remaining = db.session.scalars(select(Booking).where(Booking.name == "Erika Muster")).all()
    assert remaining == []


def test_privacy_cli_export_and_erase(runner, db, make_booking, frozen_now):
    frozen_now(NOW)
    make_booking(NOW - timedelta(days=1), state="completed")
    exported = runner.invoke(args=["privacy", "export", "erika@example.org"])
    assert exported.exit_code == 0 and json.loads(exported.output)["bookings"][0]["name"] == "Erika Muster"
    erased = runner.invoke(args=["privacy", "erase", "erika@example.org"])
    assert erased.exit_code == 0 and "1 booking" in erased.output and "0 withdrawal declaration" in erased.output
    assert json.loads(runner.invoke(args=["privacy", "export", "erika@example.org"]).output)["bookings"] == []


def test_privacy_purge_runs_as_a_periodic_job(app, db, make_booking, frozen_now, redis_server):
    """The worker's purge chain anonymises old data and schedules its next run."""
    from rq import Queue
    from rq.registry import ScheduledJobRegistry

    from reflexion.jobs import periodic
    from reflexion.jobs.queue import use_job_app
    from reflexion.redis_conn import get_redis

    use_job_app(app)
    frozen_now(NOW - timedelta(days=400))
    old = make_booking(NOW - timedelta(days=200), state="completed")
    frozen_now(NOW)
    assert periodic.privacy_purge_job() == {"bookings": 1, "messages": 0, "declarations": 0}
    db.session.expire_all()
    assert db.session.get(Booking, old.id).name == "—"
    scheduled = ScheduledJobRegistry(queue=Queue("default", connection=get_redis())).get_job_ids()
    assert any(job_id.startswith("periodic-privacy-purge-") for job_id in scheduled)


def _operator_client(app, db):
    from reflexion.operator.auth import create_operator

    create_operator("op@example.org", "correct horse battery")
    db.session.commit()
    client = app.test_client()
    assert client.post("/operator/login", data={"email": "op@example.org",
                                                "password": "correct horse battery"}).status_code == 303
    return client


def test_operator_panel_exports_and_erases_one_client(app, db, make_booking, frozen_now):
    frozen_now(NOW)
    make_booking(NOW - timedelta(days=3), state="completed")
    live = make_booking(NOW + timedelta(days=3), state="confirmed")
    assert app.test_client().get("/operator/client-data/").status_code in (302, 303)  # login required
    client = _operator_client(app, db)
    page = client.get("/operator/client-data/?email=erika@example.org").get_data(as_text=True)
    assert "data-client-data" in page and live.ref in page
    export = client.get("/operator/client-data/export?email=erika@example.org")
    assert export.mimetype == "application/json" and "attachment" in export.headers["Content-Disposition"]
    assert len(json.loads(export.data)["bookings"]) == 2
    refused = client.post("/operator/client-data/erase", data={"email": "erika@example.org"})
    assert refused.status_code == 303 and live.ref in client.get(refused.headers["Location"]).get_data(as_text=True)
    assert db.session.scalar(select(Booking.name).where(Booking.id == live.id)) == "Erika Muster"
    live.state = "cancelled"
    db.session.commit()
    assert client.post("/operator/client-data/erase", data={"email": "erika@example.org"}).status_code == 303
    db.session.expire_all()
    assert db.session.scalars(select(Booking.name)).all() == ["—", "—"]
    assert client.get("/operator/client-data/export?email=not-an-address").status_code == 400


@pytest.mark.parametrize("lang, expected", [
    ("de", ["Widerrufserklärungen:", "so lange aufbewahrt wie die Daten der Buchung", "123 Tage nach dem"]),
    ("sv", ["Anmälningar om ångrande:", "lika länge som bokningens uppgifter", "123 dagar efter den"]),
])
def test_privacy_page_lists_the_retention_of_withdrawal_declarations(app, client, lang, expected):
    app.config.update(RETENTION_DAYS=123)
    html = client.get(f"/{lang}/privacy").get_data(as_text=True)
    retention_list = html.split("data-retention>", 1)[1].split("</ul>", 1)[0]
    item = retention_list.split('data-declaration-retention-days="123">', 1)[1].split("</li>", 1)[0]
    for text in expected:
        assert text in item.replace("&#39;", "'")


def test_operator_panel_shows_and_erases_withdrawal_declarations(app, db, make_booking, frozen_now):
    frozen_now(NOW)
    booking = make_booking(NOW + timedelta(days=3), state="cancelled")
    withdrawn = _declaration(db, booking=booking)
    client = _operator_client(app, db)
    page = client.get("/operator/client-data/?email=erika@example.org").get_data(as_text=True)
    assert "data-client-declarations" in page and "1 Widerrufserklärung(en)" in page
    erased = client.post("/operator/client-data/erase", data={"email": "erika@example.org"})
    flask_babel.refresh()
    assert "1 Widerrufserklärung(en) anonymisiert" in client.get(erased.headers["Location"]).get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(WithdrawalDeclaration, withdrawn.id).name == "—"
