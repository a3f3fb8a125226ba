"""Client data protection: keep personal data only as long as needed; export and erase on request.

Anonymising keeps the accounting facts (date, fee, payments, outcome and the audit trail
of states) and removes what identifies the person: name, e-mail, call handle, free-text
notes, contact-message contents.

A withdrawal declaration is evidence for the contract: it is kept as long as the records of
its booking (made anonymous together with them, after ``RETENTION_DAYS``); one that names no
booking is kept ``RETENTION_DAYS`` from its declaration.
"""
from datetime import timedelta

from sqlalchemy import func, select

from reflexion import clock
from reflexion.booking.models import Booking, WithdrawalDeclaration
from reflexion.booking.notes import entry_text_in
from reflexion.booking.states import FINAL_STATES, LIVE_STATES
from reflexion.extensions import db
from reflexion.mail.messages import OPERATOR_NOTICE_KINDS, WITHDRAWAL_RECEIVED
from reflexion.mail.models import OutgoingEmail
from reflexion.pages.models import ContactMessage
from reflexion.payments.operations import anonymise_entries, entries_json
from reflexion.settings import setting

REDACTED = "—"


class ErasureRefused(Exception):
    """The client still has live bookings; they must be cancelled or finished first."""

    def __init__(self, refs):
        super().__init__("live bookings: " + ", ".join(refs))
        self.refs = refs


def booking_retention() -> timedelta:
    """How long personal data of a finished booking is kept after its session."""
    return timedelta(days=setting("RETENTION_DAYS"))


def message_retention() -> timedelta:
    """How long contact messages are kept."""
    return timedelta(days=setting("MESSAGE_RETENTION_DAYS"))


def anonymise_booking(booking, now):
    booking.name = REDACTED
    booking.email = f"anonymised-{booking.id}@invalid"
    booking.call_handle = REDACTED
    booking.anonymised_at = now
    for entry in booking.transitions:
        entry.note = None
    for email in db.session.scalars(select(OutgoingEmail).where(
            OutgoingEmail.booking_id == booking.id, OutgoingEmail.kind.not_in(OPERATOR_NOTICE_KINDS))):
        email.recipient = booking.email  # the operator's own notices keep their address


def anonymise_message(message, now):
    message.name = REDACTED
    message.email = f"anonymised-{message.id}@invalid"
    message.call_handle = None
    message.call_platform = None
    message.message = REDACTED
    message.anonymised_at = now


def _acknowledgments(declaration):
    """The acknowledgment e-mails of one declaration (they carry no booking, only its id)."""
    return db.session.scalars(select(OutgoingEmail).where(
        OutgoingEmail.kind == WITHDRAWAL_RECEIVED,
        OutgoingEmail.params["declaration_id"].as_integer() == declaration.id)).all()


def anonymise_declaration(declaration, now):
    declaration.name = REDACTED
    declaration.email = f"anonymised-withdrawal-{declaration.id}@invalid"
    if declaration.booking_id is None:  # typed free text naming no booking: may say anything
        declaration.reference = REDACTED
    declaration.anonymised_at = now
    for email in _acknowledgments(declaration):
        email.recipient = declaration.email


def declarations_due(now) -> list:
    """Declarations whose retention is over: their booking's records are anonymous, or, naming no
    booking, declared ``RETENTION_DAYS`` ago."""
    return db.session.scalars(
        select(WithdrawalDeclaration).outerjoin(Booking, WithdrawalDeclaration.booking_id == Booking.id).where(
            WithdrawalDeclaration.anonymised_at.is_(None),
            (Booking.anonymised_at.is_not(None))
            | (WithdrawalDeclaration.booking_id.is_(None)
               & (WithdrawalDeclaration.declared_at <= now - booking_retention())))
    ).all()


def purge_expired(now=None) -> dict:
    """Anonymise finished bookings and contact messages past their retention; the caller commits."""
    now = now or clock.now()
    bookings = db.session.scalars(
        select(Booking).where(Booking.anonymised_at.is_(None),
                              Booking.state.in_([s.value for s in FINAL_STATES]),
                              Booking.end_at <= now - booking_retention())
    ).all()
    for booking in bookings:
        anonymise_booking(booking, now)
    messages = db.session.scalars(
        select(ContactMessage).where(ContactMessage.anonymised_at.is_(None),
                                     ContactMessage.received_at <= now - message_retention())
    ).all()
    for message in messages:
        anonymise_message(message, now)
    db.session.flush()  # the bookings anonymised above take their declarations along
    declarations = declarations_due(now)
    for declaration in declarations:
        anonymise_declaration(declaration, now)
    # What bank statements said about payers (name, IBAN, text), once dealt with
    anonymise_entries(booked_before=(now - booking_retention()).date())
    return {"bookings": len(bookings), "messages": len(messages), "declarations": len(declarations)}


def _by_email(model, email):
    return db.session.scalars(select(model).where(func.lower(model.email) == email.strip().lower())).all()


def _client_declarations(email, bookings):
    """Declarations given with this address or naming one of these bookings, oldest first."""
    booking_ids = [b.id for b in bookings]
    condition = func.lower(WithdrawalDeclaration.email) == email.strip().lower()
    if booking_ids:
        condition = condition | WithdrawalDeclaration.booking_id.in_(booking_ids)
    return db.session.scalars(select(WithdrawalDeclaration).where(condition).order_by(
        WithdrawalDeclaration.declared_at, WithdrawalDeclaration.id)).all()


def export_client(email: str) -> dict:
    """Everything stored about the client with this e-mail address, as JSON-ready data."""
    bookings = _by_email(Booking, email)
    return {
        "email": email.strip().lower(),
        "exported_at": clock.now().isoformat(),
        "bookings": [
            {
                "ref": b.ref, "state": b.state, "start": b.start_at.isoformat(), "end": b.end_at.isoformat(),
                "name": b.name, "email": b.email, "call_handle": b.call_handle, "call_platform": b.call_platform, "lang": b.lang,
                "created_at": b.created_at.isoformat(), "terms_version": b.terms_version,
                "terms_accepted_at": b.terms_accepted_at.isoformat() if b.terms_accepted_at else None,
                "early_start_requested_at": (b.early_start_requested_at.isoformat()
                                             if b.early_start_requested_at else None),
                "fee": {"amount_cents": b.fee_cents, "currency": b.currency},
                "payments": [{"amount_cents": p.amount_cents, "currency": p.currency, "method": p.method,
                              "paid_at": p.paid_at.isoformat()} for p in b.payments],
                "transitions": [{"from": t.from_state, "to": t.to_state, "at": t.at.isoformat(),
                                 "actor": t.actor, "note": entry_text_in(t, b.lang) or None,
                                 "note_code": t.note_code} for t in b.transitions],
                "emails": [{"kind": e.kind, "status": e.status, "created_at": e.created_at.isoformat()}
                           for e in db.session.scalars(select(OutgoingEmail).where(OutgoingEmail.booking_id == b.id))],
                "bank_entries": entries_json(b.id),
            }
            for b in bookings
        ],
        "contact_messages": [
            {"received_at": m.received_at.isoformat(), "name": m.name, "email": m.email,
             "call_handle": m.call_handle, "call_platform": m.call_platform, "message": m.message, "lang": m.lang}
            for m in _by_email(ContactMessage, email)
        ],
        "withdrawal_declarations": [
            {"declared_at": d.declared_at.isoformat(), "reference": d.reference, "name": d.name, "email": d.email,
             "lang": d.lang, "booking_ref": d.booking.ref if d.booking is not None else None,
             "outcome": d.outcome,
             "emails": [{"kind": e.kind, "status": e.status, "created_at": e.created_at.isoformat()}
                        for e in _acknowledgments(d)]}
            for d in _client_declarations(email, bookings) if d.anonymised_at is None
        ],
    }


def erase_client(email: str) -> dict:
    """Anonymise everything about this client now; refuse while a booking is still live."""
    bookings = _by_email(Booking, email)
    live = [b.ref for b in bookings if b.state in {s.value for s in LIVE_STATES}]
    if live:
        raise ErasureRefused(live)
    now = clock.now()
    declarations = [d for d in _client_declarations(email, bookings) if d.anonymised_at is None]
    for booking in bookings:
        anonymise_booking(booking, now)
    messages = _by_email(ContactMessage, email)
    for message in messages:
        anonymise_message(message, now)
    for declaration in declarations:
        anonymise_declaration(declaration, now)
    anonymise_entries(booking_ids=[b.id for b in bookings])
    return {"bookings": len(bookings), "messages": len(messages), "declarations": len(declarations)}
