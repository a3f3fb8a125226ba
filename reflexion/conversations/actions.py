"""What the operator records during a call (PRODUCT.md §2 rules 6–9), each one checked transition.

Every action first applies the deadlines the clock has already decided (recorded by the
worker actor at their deadline instants), so a click after the no-answer deadline or the
hard end finds the session over and raises :class:`IllegalTransition` instead of rewriting
history. Functions flush, never commit; the caller commits.
"""
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import update

from reflexion import clock, signals
from reflexion.booking import codes
from reflexion.booking.models import Booking
from reflexion.booking.notes import Note
from reflexion.booking.states import Actor, IllegalTransition, State
from reflexion.booking.transitions import transition
from reflexion.extensions import db
from reflexion.conversations.lifecycle import apply_deadlines

log = logging.getLogger(__name__)

#: The operator may start the call (and record "answered") this long before the booked start.
EARLY_CALL = timedelta(minutes=10)


class VerificationLocked(Exception):
    """Too many wrong confirmation data for this session: verification is closed."""

    def __init__(self, booking):
        super().__init__(f"booking {booking.ref}: verification locked")
        self.booking = booking


class TooEarly(Exception):
    """The session's call may not begin yet."""

    def __init__(self, booking, opens_at: datetime):
        super().__init__(f"booking {booking.ref}: the call may start at {opens_at.isoformat()}")
        self.booking, self.opens_at = booking, opens_at


@dataclass
class VerifyResult:
    ok: bool
    failures: int
    remaining: int

    @property
    def locked(self) -> bool:
        return not self.ok and self.remaining <= 0


def max_verify_failures() -> int:
    """Wrong confirmation data allowed per session before verification locks (5)."""
    return int(current_app.config["VERIFY_MAX_FAILURES"])


def verification_locked(booking) -> bool:
    return (booking.verify_failures or 0) >= max_verify_failures()


def call_opens_at(booking) -> datetime:
    """The earliest instant at which the operator may record that the client answered."""
    return booking.start_at - EARLY_CALL


def catch_up(booking, now: datetime | None = None) -> list:
    """Apply deadlines that have passed (as the worker would); return their audit entries."""
    return apply_deadlines(booking, now or clock.now())


def mark_answered(booking, *, note: str | None = None):
    """The client answered the call: ``due`` → ``answered`` (rule 6 satisfied).

    Allowed from :data:`EARLY_CALL` before the booked start until the no-answer deadline.
    A call begun a little early first moves the booking to ``due`` (by the operator).
    """
    now = clock.now()
    catch_up(booking, now)
    if State(booking.state) == State.CONFIRMED:
        if now < call_opens_at(booking):
            raise TooEarly(booking, call_opens_at(booking))
        transition(booking, State.DUE, actor=Actor.OPERATOR, at=now, code=Note.CALL_BEGUN_EARLY)
    entry = transition(booking, State.ANSWERED, actor=Actor.OPERATOR, at=now, code=Note.ANSWERED, note=note)
    booking.answered_at = now
    _changed(booking, entry)
    return entry


def verify_confirmation(booking, typed: str) -> VerifyResult:
    """Check the confirmation data the client reads out: ``answered`` → ``in_progress`` on a match.

    The comparison runs in constant time against the stored hash. Every wrong try counts
    on ``booking.verify_failures``; at ``VERIFY_MAX_FAILURES`` verification locks for this
    session (:class:`VerificationLocked`), and the operator ends the call (rule 8).
    Raises :class:`IllegalTransition` unless the session is ``answered``.
    """
    now = clock.now()
    catch_up(booking, now)
    if State(booking.state) != State.ANSWERED:
        raise IllegalTransition(booking, State.IN_PROGRESS, Actor.OPERATOR)
    limit = max_verify_failures()
    # Take a try before checking (atomically), so parallel requests cannot exceed the limit.
    taken = db.session.execute(
        update(Booking)
        .where(Booking.id == booking.id, Booking.verify_failures < limit)
        .values(verify_failures=Booking.verify_failures + 1),
        execution_options={"synchronize_session": False},
    ).rowcount
    db.session.expire(booking, ["verify_failures"])
    if not taken:
        raise VerificationLocked(booking)
    if codes.check_confirmation_code(booking.confirmation_hash, typed or ""):
        booking.verify_failures = booking.verify_failures - 1  # a match is not a failure
        entry = transition(booking, State.IN_PROGRESS, actor=Actor.OPERATOR, at=now,
                           code=Note.VERIFIED)
        booking.verified_at = now
        _changed(booking, entry)
        return VerifyResult(True, booking.verify_failures, limit - booking.verify_failures)
    failures = booking.verify_failures
    log.info("booking %s: confirmation data did not match (%d of %d)", booking.ref, failures, limit)
    return VerifyResult(False, failures, limit - failures)


def end_identity_not_confirmed(booking, *, note: str | None = None):
    """The client could not give the confirmation data: the call is ended (rule 8)."""
    return _end(booking, State.ABORTED_IDENTITY, Note.IDENTITY_NOT_CONFIRMED, note)


def end_for_abuse(booking, *, note: str):
    """Abuse: the operator ends the call at once; the remaining time counts as consumed (rule 9)."""
    return _end(booking, State.ABORTED_ABUSE, Note.ABUSE, (note or "").strip() or None)


def end_session(booking, *, note: str | None = None):
    """The conversation is over before the hard end: ``in_progress`` → ``completed``."""
    return _end(booking, State.COMPLETED, Note.ENDED_BY_OPERATOR, note)


def _end(booking, to: State, code: Note, note: str | None):
    now = clock.now()
    catch_up(booking, now)
    entry = transition(booking, to, actor=Actor.OPERATOR, at=now, code=code, note=note)
    booking.ended_at = now
    _changed(booking, entry)
    return entry


def _changed(booking, entry):
    db.session.flush()
    signals.state_changed.send(booking, entry=entry)
