"""A booking's deadlines, all in one place: what falls due, when, and what it does (pure).

PRODUCT.md §2 rules 6 and 7, and the payment deadline. :data:`DEADLINES` is the one table;
everything that acts on time derives from it:

- :func:`due_transitions` — the moves whose deadline has passed (timer jobs, the reconcile
  sweep and the operator panel apply them through ``conversations.lifecycle.apply_deadlines``);
- :func:`timer_instants` — the RQ timer jobs a booking needs in its current state;
- :func:`next_deadline` — kept on ``Booking.next_deadline_at`` (indexed), the sweep's query;
- :func:`no_answer_deadline`, :func:`hard_end` — also the panel's countdowns;
- :func:`change_cutoff` — until when the client may reschedule themselves;
- :func:`reminder_time` and :func:`needs_reminder` — the reminder e-mail.

Changing a window is one edit to its function; a new deadline is one new row.
Durations come from settings and accept fractions of minutes, so tests can run a whole
session in seconds. The session length and the no-answer window are part of the terms a
client accepts: a booking keeps the values it was made under (``Booking.session_minutes``,
``Booking.no_answer_minutes``); the settings' values apply to bookings made from now on.
"""
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Callable

from reflexion.booking.notes import Note
from reflexion.booking.states import State
from reflexion.i18n import practice_zone
from reflexion.settings import setting


def session_length(booking=None) -> timedelta:
    """The length of ``booking`` as booked, or of a session booked now (45 minutes)."""
    minutes = getattr(booking, "session_minutes", None)
    return timedelta(minutes=setting("SESSION_MINUTES") if minutes is None else minutes)


def no_answer_window(booking=None) -> timedelta:
    """How long after the booked start the client may still answer (15 minutes): ``booking``'s
    window as booked, or the one a booking made now gets."""
    minutes = getattr(booking, "no_answer_minutes", None)
    return timedelta(minutes=setting("NO_ANSWER_MINUTES") if minutes is None else minutes)


def session_end(start: datetime, booking=None) -> datetime:
    """The end of a session starting at ``start``: with ``booking``'s length (a moved booking
    keeps it), else with the length a booking made now gets."""
    return start + session_length(booking)


def payment_deadline(booking) -> datetime | None:
    """Unpaid by then, the booking lapses; fixed at booking by ``booking.rules.payment_deadline``."""
    return booking.payment_deadline


def booked_start(booking) -> datetime:
    """At the booked start a confirmed session becomes due: the operator calls."""
    return booking.start_at


def no_answer_deadline(booking) -> datetime:
    """Not answered by then: the session counts as consumed (no-show, no refund)."""
    return booking.start_at + no_answer_window(booking)


def hard_end(booking) -> datetime:
    """The call ends 45 minutes after the booked start, however late it began."""
    return booking.end_at


#: The statutory withdrawal period of a service booked online, in days from the day of booking
#: (§355(2) BGB; distansavtalslagen 2 kap. 12 §). The law's figure, not a setting.
WITHDRAWAL_DAYS = 14


def last_withdrawal_day(booked_at: datetime) -> date:
    """The withdrawal period's last day: the 14th day after the booking day.

    Counted in practice time: the booking day itself does not count (§187(1) BGB), so a booking
    on 1 December may be withdrawn until 15 December, 24:00.
    """
    return booked_at.astimezone(practice_zone()).date() + timedelta(days=WITHDRAWAL_DAYS)


def withdrawal_period_end(booked_at: datetime) -> datetime:
    """The instant the withdrawal period ends: midnight after its last day, practice time."""
    next_day = last_withdrawal_day(booked_at) + timedelta(days=1)
    return datetime.combine(next_day, time(0), tzinfo=practice_zone()).astimezone(timezone.utc)


def starts_within_withdrawal_period(start: datetime, booked_at: datetime) -> bool:
    """True when a session booked at ``booked_at`` would begin before its withdrawal period ends.

    Such a session is held only on the client's express request, with their acknowledgement
    that the right of withdrawal ends once the session has been fully performed (§356(4) BGB,
    distansavtalslagen 2 kap. 11 § 1): the booking form asks for it, the booking stores when.
    """
    return start < withdrawal_period_end(booked_at)


@dataclass(frozen=True)
class Deadline:
    """One rule of the clock: at ``instant(booking)`` a booking in ``moves`` goes to ``to``."""

    purpose: str                    # the timer job's name: ``booking-<id>-<purpose>``
    instant: Callable               # booking -> the deadline instant (or None)
    moves: frozenset[State]         # the states this deadline moves on
    to: State                       # ... to this state
    pending_in: frozenset[State]    # states in which this deadline is still ahead (timers)
    note: Note                      # the audit note's code


_CALLED = frozenset({State.DUE, State.ANSWERED, State.IN_PROGRESS})

#: The deadlines, in the order they fall due for one booking.
DEADLINES: tuple[Deadline, ...] = (
    Deadline("payment", payment_deadline, frozenset({State.AWAITING_PAYMENT}), State.EXPIRED,
             frozenset({State.AWAITING_PAYMENT}), Note.PAYMENT_DEADLINE_PASSED),
    Deadline("start", booked_start, frozenset({State.CONFIRMED}), State.DUE,
             frozenset({State.CONFIRMED}), Note.START_REACHED),
    Deadline("no-answer", no_answer_deadline, frozenset({State.DUE}), State.NO_SHOW,
             frozenset({State.CONFIRMED, State.DUE}), Note.NOT_ANSWERED),
    Deadline("end", hard_end, frozenset({State.ANSWERED, State.IN_PROGRESS}), State.COMPLETED,
             frozenset({State.CONFIRMED}) | _CALLED, Note.HARD_END),
)
#: Every timer purpose (job ids ``booking-<id>-<purpose>``).
PURPOSES = tuple(d.purpose for d in DEADLINES)
#: The audit note code of each deadline move, by the state it moves to.
NOTES = {d.to: d.note for d in DEADLINES}


def due_transitions(booking, now: datetime, state=None) -> list[tuple[State, datetime]]:
    """Return the deadline transitions due at ``now``, in order, each with its instant."""
    state = State(state or booking.state)
    moves: list[tuple[State, datetime]] = []
    for deadline in DEADLINES:
        at = deadline.instant(booking)
        if state in deadline.moves and at is not None and at <= now:
            moves.append((deadline.to, at))
            state = deadline.to
    return moves


def next_deadline(booking, state=None) -> datetime | None:
    """The next instant at which the clock alone will change this booking, if any."""
    state = State(state or booking.state)
    instants = [d.instant(booking) for d in DEADLINES if state in d.moves]
    return min((at for at in instants if at is not None), default=None)


def timer_instants(booking) -> dict[str, datetime]:
    """The timer instants still ahead of the booking in its current state, by purpose.

    At confirmation that is start, no-answer deadline and hard end; once the session is
    due the start job is done, once answered only the hard end is left; final states
    need no timers.
    """
    state = State(booking.state)
    return {d.purpose: at for d in DEADLINES
            if state in d.pending_in and (at := d.instant(booking)) is not None}


def change_cutoff(booking) -> datetime:
    """Until then the client may reschedule (and cancel at the earlier refund rate) themselves."""
    return booking.start_at - timedelta(hours=float(setting("CHANGE_CUTOFF_HOURS")))


def reminder_time(booking) -> datetime:
    """When the client is reminded of a confirmed session."""
    return booking.start_at - timedelta(hours=setting("REMINDER_HOURS"))


def needs_reminder(booking, now: datetime) -> bool:
    """A reminder is sent only for a confirmed session that is still ahead."""
    return State(booking.state) == State.CONFIRMED and booking.start_at > now
