"""What can be done with a booking: each action one function, plain arguments in.

Functions flush but do not commit: the caller (a view, a CLI command, a job) owns the
transaction. Jobs and e-mails are queued with :func:`reflexion.effects.after_commit`.
"""
import uuid
from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError

from reflexion import clock, signals
from reflexion.availability import slots
from reflexion.booking import codes, rules
from reflexion.booking.models import Booking, Transition
from reflexion.booking.states import LIVE_STATES, Actor, State
from reflexion.extensions import db
from reflexion.i18n import fee_cents, practice_zone
from reflexion.sessions.deadlines import session_end

#: Advisory-lock key that serialises writers of the schedule on PostgreSQL.
SCHEDULE_LOCK_KEY = 73402025


def lock_schedule():
    """Serialise booking writers so that the overlap check and the insert are one step.

    PostgreSQL: a transaction-scoped advisory lock. SQLite: take the write lock now
    (``BEGIN IMMEDIATE``) instead of at the insert, where a stale read would fail. The
    partial unique index on live start instants stays the last line of defence.
    """
    connection = db.session.connection()
    dialect = connection.dialect.name
    if dialect == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": SCHEDULE_LOCK_KEY})
    elif dialect == "sqlite" and not connection.connection.dbapi_connection.in_transaction:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


class BookingError(Exception):
    """A booking request that cannot be carried out; ``reason`` is a stable code."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class SlotUnavailable(BookingError):
    """The slot is not offered (past, outside the opening hours, too soon or too far)."""


class SlotTaken(BookingError):
    """Someone else holds the slot (or a booking overlaps it)."""


@dataclass
class NewBooking:
    booking: Booking
    access_key: str  # shown once to the client, never stored in clear


def _create(start: datetime, *, name, email, call_handle, lang, actor: Actor,
            terms_version: str | None, now: datetime) -> NewBooking:
    access_key = codes.new_access_key()
    booking = Booking(
        ref=_unused_reference(),
        access_key_hash=codes.hash_access_key(access_key),
        state=State.AWAITING_PAYMENT.value,
        start_at=start,
        end_at=session_end(start),
        name=name.strip(),
        email=email.strip(),
        call_handle=call_handle.strip(),
        lang=lang,
        created_at=now,
        created_by=actor.value,
        terms_version=terms_version,
        terms_accepted_at=now if terms_version else None,
        payment_deadline=rules.payment_deadline(now, start),
        fee_cents=fee_cents(),
        currency=current_app.config["CURRENCY"],
        ical_uid=f"{uuid.uuid4()}@reflexion",
        ical_sequence=0,
    )
    try:
        # A savepoint: losing the race undoes only this insert; the caller's transaction
        # stays usable and the caller decides to roll back.
        with db.session.begin_nested():
            db.session.add(booking)
            db.session.add(Transition(booking=booking, from_state="new", to_state=booking.state,
                                      actor=actor.value, at=now, note=None))
    except IntegrityError as exc:
        # The unique index on live start instants: another request won the race.
        raise SlotTaken("taken") from exc
    return NewBooking(booking, access_key)


def _unused_reference() -> str:
    for _ in range(20):
        ref = codes.new_reference()
        if db.session.scalar(select(Booking.id).where(Booking.ref == ref)) is None:
            return ref
    raise RuntimeError("could not find a free booking reference")


def book_slot(start: datetime, *, name: str, email: str, call_handle: str, lang: str,
              accepted_terms: bool) -> NewBooking:
    """Book a public slot for a client into ``awaiting_payment``.

    Raises :class:`SlotUnavailable` when the opening hours or notice rules do not offer
    ``start`` and :class:`SlotTaken` when another live booking holds or overlaps it — the
    latter also from the database's unique index when two requests race.
    """
    if not accepted_terms:
        raise BookingError("terms")
    lock_schedule()
    now = clock.now()
    reason = slots.unavailable_reason(start, now, practice_zone())
    if reason is not None:
        raise SlotUnavailable(reason)
    if slots.overlapping_bookings(start, session_end(start)):
        raise SlotTaken("taken")
    new = _create(start, name=name, email=email, call_handle=call_handle, lang=lang,
                  actor=Actor.CLIENT, terms_version=current_app.config["TERMS_VERSION"], now=now)
    signals.booking_created.send(new.booking)
    return new


def book_as_operator(start: datetime, *, name: str, email: str, call_handle: str, lang: str = "de") -> NewBooking:
    """Book any start instant for a client who phoned or wrote (operator; no opening-hours rules).

    The session must still overlap no other live booking.
    """
    lock_schedule()
    now = clock.now()
    if start <= now:
        raise SlotUnavailable("past")
    if slots.overlapping_bookings(start, session_end(start), with_buffer=False):
        raise SlotTaken("overlap")
    new = _create(start, name=name, email=email, call_handle=call_handle, lang=lang,
                  actor=Actor.OPERATOR, terms_version=None, now=now)
    signals.booking_created.send(new.booking)
    return new


def live_booking_at(start: datetime) -> Booking | None:
    """The live booking that starts at ``start`` (at most one: a unique index guards it)."""
    return db.session.scalar(select(Booking).where(
        Booking.start_at == start, Booking.state.in_([s.value for s in LIVE_STATES])))


def find_by_reference(ref: str) -> Booking | None:
    ref = codes.normalise_reference(ref)
    if not codes.REF_PATTERN.match(ref):
        return None
    return db.session.scalar(select(Booking).where(Booking.ref == ref))


def open_with_access_key(ref: str, key: str) -> Booking | None:
    """Return the booking when ``key`` is its access key; None for a wrong pair (same answer either way)."""
    booking = find_by_reference(ref)
    stored = booking.access_key_hash if booking else None
    if codes.check_access_key(stored, key) and booking is not None:
        return booking
    return None
