"""A booking's deadlines, all in one place: what falls due, when, and what it does (pure).

PRODUCT.md §2 rules 6 and 7, and the payment deadline. :data:`DEADLINES` is the one table;
everything that acts on time derives from it:

- :func:`due_transitions` — the moves whose deadline has passed (timer jobs, the reconcile
  sweep and the operator panel apply them through ``sessions.lifecycle.apply_deadlines``);
- :func:`timer_instants` — the RQ timer jobs a booking needs in its current state;
- :func:`next_deadline` — kept on ``Booking.next_deadline_at`` (indexed), the sweep's query;
- :func:`no_answer_deadline`, :func:`hard_end` — also the panel's countdowns;
- :func:`change_cutoff` — until when the client may reschedule themselves;
- :func:`reminder_time` and :func:`needs_reminder` — the reminder e-mail.

Changing a window is one edit to its function; a new deadline is one new row.
Durations come from settings and accept fractions of minutes, so tests can run a whole
session in seconds.
"""
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Callable

from flask import current_app

from reflexion.booking.states import State
from reflexion.settings import setting


def session_length() -> timedelta:
    """The booked length of a session (45 minutes)."""
    return timedelta(minutes=current_app.config["SESSION_MINUTES"])


def no_answer_window() -> timedelta:
    """How long after the booked start the client may still answer (15 minutes)."""
    return timedelta(minutes=current_app.config["NO_ANSWER_MINUTES"])


def session_end(start: datetime) -> datetime:
    """The end of a session booked at ``start``."""
    return start + session_length()


def payment_deadline(booking) -> datetime | None:
    """Unpaid by then, the booking lapses; fixed at booking by ``booking.rules.payment_deadline``."""
    return booking.payment_deadline


def booked_start(booking) -> datetime:
    """At the booked start a confirmed session becomes due: the operator calls."""
    return booking.start_at


def no_answer_deadline(booking) -> datetime:
    """Not answered by then: the session counts as consumed (no-show, no refund)."""
    return booking.start_at + no_answer_window()


def hard_end(booking) -> datetime:
    """The call ends 45 minutes after the booked start, however late it began."""
    return booking.end_at


@dataclass(frozen=True)
class Deadline:
    """One rule of the clock: at ``instant(booking)`` a booking in ``moves`` goes to ``to``."""

    purpose: str                    # the timer job's name: ``booking-<id>-<purpose>``
    instant: Callable               # booking -> the deadline instant (or None)
    moves: frozenset[State]         # the states this deadline moves on
    to: State                       # ... to this state
    pending_in: frozenset[State]    # states in which this deadline is still ahead (timers)
    note: str                       # the audit note


_CALLED = frozenset({State.DUE, State.ANSWERED, State.IN_PROGRESS})

#: The deadlines, in the order they fall due for one booking.
DEADLINES: tuple[Deadline, ...] = (
    Deadline("payment", payment_deadline, frozenset({State.AWAITING_PAYMENT}), State.EXPIRED,
             frozenset({State.AWAITING_PAYMENT}), "payment deadline passed"),
    Deadline("start", booked_start, frozenset({State.CONFIRMED}), State.DUE,
             frozenset({State.CONFIRMED}), "booked start reached"),
    Deadline("no-answer", no_answer_deadline, frozenset({State.DUE}), State.NO_SHOW,
             frozenset({State.CONFIRMED, State.DUE}), "not answered within the no-answer window"),
    Deadline("end", hard_end, frozenset({State.ANSWERED, State.IN_PROGRESS}), State.COMPLETED,
             frozenset({State.CONFIRMED}) | _CALLED, "hard end reached"),
)
#: Every timer purpose (job ids ``booking-<id>-<purpose>``).
PURPOSES = tuple(d.purpose for d in DEADLINES)
#: The audit note of each deadline move, by the state it moves to.
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
    return booking.start_at - timedelta(hours=current_app.config["REMINDER_HOURS"])


def needs_reminder(booking, now: datetime) -> bool:
    """A reminder is sent only for a confirmed session that is still ahead."""
    return State(booking.state) == State.CONFIRMED and booking.start_at > now
