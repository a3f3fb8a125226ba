"""Moving a booking to another time: the operator to any free instant, the client to a free slot.

It stays the same booking: reference, access key, payment, confirmation data and the invite's
UID carry over; the invite's SEQUENCE goes up. The new time is secured before the old one is
released, in one step: one compare-and-set UPDATE of the booking's row under the schedule
lock, inside a savepoint, so the database's unique index on live start instants refuses a
second booking at the new time and nobody can take either time in between.

The move announces itself with ``signals.booking_moved``: the deadline timers and the
reminder follow the new time after the commit, and the client gets the "updated" e-mail.
A timer that fires meanwhile loses to a committed move (its compare-and-set on the start
fails, see :func:`reflexion.booking.transitions.transition`); a move that comes after the
timer's commit finds the state changed and is refused.
"""
from datetime import datetime, timezone

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.attributes import set_committed_value

from reflexion import clock, signals
from reflexion.availability import slots
from reflexion.booking import rules
from reflexion.booking.models import Booking, Transition
from reflexion.booking.notes import Note
from reflexion.booking.operations import BookingError, SlotTaken, SlotUnavailable, lock_schedule
from reflexion.booking.states import Actor, State
from reflexion.extensions import db
from reflexion.i18n import practice_zone
from reflexion.conversations.deadlines import change_cutoff, next_deadline
from reflexion.settings import setting

#: States in which a booking can still be moved (nobody has called yet).
MOVABLE_STATES = frozenset({State.AWAITING_PAYMENT, State.CONFIRMED})


class MoveRefused(BookingError):
    """The booking cannot be moved now; ``reason`` is a stable code.

    ``not_movable`` (the session began or the booking is over), ``stale`` (it changed since the
    form was shown), ``same`` (the new time is the old one), ``cutoff`` (the client is too late),
    ``limit`` (the client moved it too often already).
    """


def moved_params(old_start: datetime, new_start: datetime) -> dict:
    """The audit line's parameters of a move (:data:`Note.MOVED`): both starts in UTC."""
    return {"old": _utc(old_start), "new": _utc(new_start)}


def moved_starts(entry) -> tuple[datetime, datetime] | None:
    """The (old, new) start an audit line of a move records, or None for any other line."""
    if entry.note_code != Note.MOVED:
        return None
    params = entry.note_params or {}
    old_at, new_at = slots.parse_slot_key(params.get("old", "")), slots.parse_slot_key(params.get("new", ""))
    return (old_at, new_at) if old_at and new_at else None


def _utc(instant: datetime) -> str:
    return slots.format_slot_key(instant.astimezone(timezone.utc))


def can_move(booking, now: datetime | None = None) -> bool:
    """Tell whether ``booking`` can still be moved (by the operator): not begun, not over."""
    return State(booking.state) in MOVABLE_STATES and booking.start_at > (now or clock.now())


def client_change_refusal(booking, now: datetime) -> str | None:
    """Say why the client may not reschedule ``booking`` now, or None when they may.

    ``not_movable``, ``cutoff`` (``CHANGE_CUTOFF_HOURS`` before the start has passed) or
    ``limit`` (moved ``MAX_RESCHEDULES`` times already).
    """
    if State(booking.state) not in MOVABLE_STATES or booking.start_at <= now:
        return "not_movable"
    if now >= change_cutoff(booking):
        return "cutoff"
    if (booking.reschedule_count or 0) >= int(setting("MAX_RESCHEDULES")):
        return "limit"
    return None


def reschedules_left(booking) -> int:
    return max(0, int(setting("MAX_RESCHEDULES")) - (booking.reschedule_count or 0))


def check_move(booking, new_start: datetime, *, actor: Actor, expected_start: datetime | None = None,
               now: datetime | None = None) -> None:
    """Raise what :func:`move_booking` would refuse with; change nothing (the confirmation step)."""
    actor = Actor(actor)
    now = now or clock.now()
    new_start = new_start.astimezone(timezone.utc)
    old_start = booking.start_at
    if expected_start is not None and expected_start != old_start:
        raise MoveRefused("stale")
    if not can_move(booking, now):
        raise MoveRefused("not_movable")
    if new_start == old_start:
        raise MoveRefused("same")
    length = booking.end_at - booking.start_at  # the booking keeps the length it was made with
    new_end = new_start + length
    if actor == Actor.CLIENT:
        refusal = client_change_refusal(booking, now)
        if refusal:
            raise MoveRefused(refusal)
        reason = slots.unavailable_reason(new_start, now, practice_zone())
        if reason is not None:
            raise SlotUnavailable(reason)
        if slots.overlapping_bookings(new_start, new_end, exclude_id=booking.id):
            raise SlotTaken("taken")
    else:
        if new_start <= now:
            raise SlotUnavailable("past")
        if slots.overlapping_bookings(new_start, new_end, exclude_id=booking.id, with_buffer=False):
            raise SlotTaken("overlap")


def move_booking(booking, new_start: datetime, *, actor: Actor,
                 expected_start: datetime | None = None) -> Transition:
    """Move ``booking`` to ``new_start`` and return the audit entry; the caller commits.

    The operator may choose any future instant overlapping no other live booking; the
    client only a free slot of the public grid (notice, horizon and buffer apply), before
    the cut-off and at most ``MAX_RESCHEDULES`` times. ``expected_start`` is the start the
    form was shown with: if the booking moved meanwhile the move is refused as ``stale``.

    Raises :class:`MoveRefused`, :class:`~reflexion.booking.operations.SlotUnavailable`
    (``past``, ``too_soon``, ``too_far``, ``closed``, ``off_grid``) or
    :class:`~reflexion.booking.operations.SlotTaken`; nothing is changed then.
    """
    actor = Actor(actor)
    new_start = new_start.astimezone(timezone.utc)
    lock_schedule()
    # Read the booking as it is now, under the lock: the form may be old.
    db.session.refresh(booking)
    now = clock.now()
    old_start, old_state = booking.start_at, State(booking.state)
    check_move(booking, new_start, actor=actor, expected_start=expected_start, now=now)
    new_end = new_start + (booking.end_at - booking.start_at)

    values = {
        "start_at": new_start,
        "end_at": new_end,
        "ical_sequence": (booking.ical_sequence or 0) + 1,
        "reschedule_count": (booking.reschedule_count or 0) + (1 if actor == Actor.CLIENT else 0),
    }
    if old_state == State.AWAITING_PAYMENT:
        values["payment_deadline"] = rules.payment_deadline_after_move(booking.created_at, new_start, now)
    for key, value in values.items():
        set_committed_value(booking, key, value)
    values["next_deadline_at"] = next_deadline(booking)
    try:
        # A savepoint: losing the race for the new time undoes only this update.
        with db.session.begin_nested():
            result = db.session.execute(
                update(Booking)
                .where(Booking.id == booking.id, Booking.state == old_state.value, Booking.start_at == old_start)
                .values(**values),
                execution_options={"synchronize_session": False},
            )
    except IntegrityError as exc:
        db.session.expire(booking)
        raise SlotTaken("taken") from exc
    if result.rowcount != 1:
        # A timer (or the operator) changed the booking first: refuse rather than overwrite.
        db.session.expire(booking)
        raise MoveRefused("stale")
    set_committed_value(booking, "next_deadline_at", values["next_deadline_at"])
    entry = Transition(booking=booking, from_state=old_state.value, to_state=old_state.value,
                       actor=actor.value, at=now, note_code=Note.MOVED,
                       note_params=moved_params(old_start, new_start))
    db.session.add(entry)
    db.session.flush()
    signals.booking_moved.send(booking, old_start=old_start)
    return entry
