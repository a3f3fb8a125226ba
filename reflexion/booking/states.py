"""The booking lifecycle: states, legal transitions and the one function that changes state.

Every change of ``Booking.state`` goes through :func:`transition`, which checks the move
against :data:`ALLOWED`, and writes the audit log (booking, from, to, actor, instant, note).
"""
from enum import StrEnum

from reflexion import clock


class State(StrEnum):
    AWAITING_PAYMENT = "awaiting_payment"
    CONFIRMED = "confirmed"
    DUE = "due"
    ANSWERED = "answered"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    EXPIRED = "expired"
    CANCELLED = "cancelled"
    NO_SHOW = "no_show"
    ABORTED_IDENTITY = "aborted_identity"
    ABORTED_ABUSE = "aborted_abuse"


class Actor(StrEnum):
    CLIENT = "client"
    OPERATOR = "operator"
    WORKER = "worker"


#: States that hold their slot: at most one live booking per start instant.
LIVE_STATES = frozenset(
    {State.AWAITING_PAYMENT, State.CONFIRMED, State.DUE, State.ANSWERED, State.IN_PROGRESS}
)
#: States of a paid session around its call.
SESSION_STATES = frozenset({State.DUE, State.ANSWERED, State.IN_PROGRESS})
FINAL_STATES = frozenset(State) - LIVE_STATES

#: (from, to) -> actors allowed to make that move.
ALLOWED: dict[tuple[State, State], frozenset[Actor]] = {
    (State.AWAITING_PAYMENT, State.CONFIRMED): frozenset({Actor.OPERATOR}),
    (State.AWAITING_PAYMENT, State.EXPIRED): frozenset({Actor.WORKER, Actor.OPERATOR}),
    (State.AWAITING_PAYMENT, State.CANCELLED): frozenset({Actor.CLIENT, Actor.OPERATOR}),
    (State.CONFIRMED, State.CANCELLED): frozenset({Actor.OPERATOR}),
    (State.CONFIRMED, State.DUE): frozenset({Actor.WORKER, Actor.OPERATOR}),
    (State.CONFIRMED, State.NO_SHOW): frozenset({Actor.WORKER}),
    (State.CONFIRMED, State.COMPLETED): frozenset({Actor.WORKER}),
    (State.DUE, State.ANSWERED): frozenset({Actor.OPERATOR}),
    (State.DUE, State.NO_SHOW): frozenset({Actor.WORKER, Actor.OPERATOR}),
    (State.ANSWERED, State.IN_PROGRESS): frozenset({Actor.OPERATOR}),
    (State.ANSWERED, State.ABORTED_IDENTITY): frozenset({Actor.OPERATOR}),
    (State.ANSWERED, State.ABORTED_ABUSE): frozenset({Actor.OPERATOR}),
    (State.ANSWERED, State.COMPLETED): frozenset({Actor.WORKER}),
    (State.IN_PROGRESS, State.COMPLETED): frozenset({Actor.WORKER, Actor.OPERATOR}),
    (State.IN_PROGRESS, State.ABORTED_ABUSE): frozenset({Actor.OPERATOR}),
}


class IllegalTransition(Exception):
    """A state change that the lifecycle does not allow."""

    def __init__(self, booking, to, actor):
        super().__init__(f"booking {booking.ref}: {booking.state} -> {to} by {actor} is not allowed")
        self.booking, self.to, self.actor = booking, to, actor


def can_transition(booking, to: State, actor: Actor) -> bool:
    """Tell whether ``actor`` may move ``booking`` to ``to`` now."""
    return actor in ALLOWED.get((State(booking.state), State(to)), frozenset())


def transition(booking, to: State, *, actor: Actor, at=None, note: str | None = None):
    """Move ``booking`` to ``to`` and record it; raise :class:`IllegalTransition` otherwise.

    ``at`` is the instant the change counts from (a deadline applied late is recorded at
    the deadline); it defaults to the checked clock's now.
    """
    from sqlalchemy import inspect, update
    from sqlalchemy.orm.attributes import set_committed_value

    from reflexion.booking.models import Booking, Transition
    from reflexion.extensions import db

    to, actor = State(to), Actor(actor)
    if not can_transition(booking, to, actor):
        raise IllegalTransition(booking, to, actor)
    from_state = booking.state
    if inspect(booking).persistent:
        # Compare-and-set in the database: a timer job, the reconcile sweep and the operator
        # may act on the same booking at once; only the first move from ``from_state`` wins.
        result = db.session.execute(
            update(Booking).where(Booking.id == booking.id, Booking.state == from_state).values(state=to.value),
            execution_options={"synchronize_session": False},
        )
        if result.rowcount != 1:
            db.session.expire(booking, ["state"])
            raise IllegalTransition(booking, to, actor)
        set_committed_value(booking, "state", to.value)
    else:
        booking.state = to.value
    entry = Transition(
        booking=booking,
        from_state=from_state,
        to_state=to.value,
        actor=actor.value,
        at=at or clock.now(),
        note=(note or None) and note[:500],
    )
    db.session.add(entry)
    return entry
