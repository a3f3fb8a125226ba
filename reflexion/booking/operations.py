"""What can be done with a booking: each action one function, plain arguments in.

Functions flush but do not commit: the caller (a view, a CLI command, a job) owns the
transaction. Jobs and e-mails are queued with :func:`reflexion.effects.after_commit`.
"""
import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError

from reflexion import clock, platforms, signals
from reflexion.availability import slots
from reflexion.booking import codes, rules
from reflexion.booking.models import Booking, Transition
from reflexion.booking.states import LIVE_STATES, Actor, State
from reflexion.extensions import db
from reflexion.i18n import fee_cents, practice_zone
from reflexion.conversations.deadlines import session_end, starts_within_withdrawal_period
from reflexion.settings import setting

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


class EarlyStartNotRequested(BookingError):
    """The session would begin inside the withdrawal period, and the client did not ask for that."""


class InvalidCallHandle(BookingError):
    """The platform is not offered or the handle does not fit it; ``message`` is localized."""

    def __init__(self, message: str):
        super().__init__("call_handle")
        self.message = message


@dataclass(frozen=True)
class ClientCall:
    platform: platforms.Enabled
    handle: str  # normalised: E.164 phone number, e-mail address or user name


def client_call(call_platform: str | None, call_handle: str | None, lang: str) -> ClientCall:
    """The offered platform a client chose (default: the first offered) and their handle on it.

    The one check for every way in (booking form, operator's form, CLI); raises
    :class:`InvalidCallHandle`.
    """
    try:
        chosen = platforms.check_offered(call_platform or platforms.default_platform())
        return ClientCall(chosen, platforms.normalize_client_handle(chosen.id, call_handle, lang))
    except platforms.HandleError as exc:
        raise InvalidCallHandle(str(exc)) from None


@dataclass
class NewBooking:
    booking: Booking
    access_key: str  # shown once to the client, never stored in clear


def _create(start: datetime, *, name, email, call: ClientCall, lang, actor: Actor,
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
        call_handle=call.handle,
        call_platform=call.platform.id,
        operator_handle=call.platform.handle,
        lang=lang,
        created_at=now,
        created_by=actor.value,
        terms_version=terms_version,
        terms_accepted_at=now if terms_version else None,
        payment_deadline=rules.payment_deadline(now, start),
        session_minutes=setting("SESSION_MINUTES"),
        no_answer_minutes=setting("NO_ANSWER_MINUTES"),
        fee_cents=fee_cents(),
        currency=setting("CURRENCY"),
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


def needs_early_start_request(start: datetime, now: datetime | None = None) -> bool:
    """Whether booking ``start`` now needs the client's express request to begin early.

    A session inside the 14-day withdrawal period is held only on that request
    (:func:`reflexion.conversations.deadlines.starts_within_withdrawal_period`).
    """
    return starts_within_withdrawal_period(start, now or clock.now())


def book_slot(start: datetime, *, name: str, email: str, call_handle: str, lang: str,
              accepted_terms: bool, early_start_requested: bool = False,
              call_platform: str | None = None) -> NewBooking:
    """Book a public slot for a client into ``awaiting_payment``.

    Raises :class:`SlotUnavailable` when the opening hours or notice rules do not offer
    ``start`` and :class:`SlotTaken` when another live booking holds or overlaps it — the
    latter also from the database's unique index when two requests race;
    :class:`InvalidCallHandle` when the handle does not fit the chosen platform.
    Raises :class:`EarlyStartNotRequested` when the session begins inside the withdrawal period
    and ``early_start_requested`` is false; when it is true, the booking records when.
    """
    if not accepted_terms:
        raise BookingError("terms")
    call = client_call(call_platform, call_handle, lang)
    now = clock.now()
    early_start = needs_early_start_request(start, now)
    if early_start and not early_start_requested:
        raise EarlyStartNotRequested("early_start")
    lock_schedule()
    now = clock.now()
    reason = slots.unavailable_reason(start, now, practice_zone())
    if reason is not None:
        raise SlotUnavailable(reason)
    if slots.overlapping_bookings(start, session_end(start)):
        raise SlotTaken("taken")
    new = _create(start, name=name, email=email, call=call, lang=lang,
                  actor=Actor.CLIENT, terms_version=setting("TERMS_VERSION"), now=now)
    if early_start:
        new.booking.early_start_requested_at = now
    signals.booking_created.send(new.booking)
    return new


def book_as_operator(start: datetime, *, name: str, email: str, call_handle: str, lang: str = "de",
                     call_platform: str | None = None) -> NewBooking:
    """Book any start instant for a client who phoned or wrote (operator; no opening-hours rules).

    The session must still overlap no other live booking; the handle follows the same rule as
    the client's own booking (:func:`client_call`).
    """
    call = client_call(call_platform, call_handle, lang)
    lock_schedule()
    now = clock.now()
    if start <= now:
        raise SlotUnavailable("past")
    if slots.overlapping_bookings(start, session_end(start), with_buffer=False):
        raise SlotTaken("overlap")
    new = _create(start, name=name, email=email, call=call, lang=lang,
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
