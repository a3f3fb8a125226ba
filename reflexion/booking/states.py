"""The booking lifecycle (pure): states, the named state sets, the table of legal moves.

Every change of ``Booking.state`` goes through :func:`reflexion.booking.transitions.transition`,
which checks the move with :func:`can_transition` against :data:`ALLOWED` and writes the
audit log (booking, from, to, actor, instant, note).
"""
from enum import StrEnum


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
    #: The online payment provider, through its signed webhook (reflexion/payments/stripe_checkout.py)
    PROVIDER = "provider"


#: States that hold their slot: at most one live booking per start instant.
LIVE_STATES = frozenset(
    {State.AWAITING_PAYMENT, State.CONFIRMED, State.DUE, State.ANSWERED, State.IN_PROGRESS}
)
#: States of a paid session around its call.
SESSION_STATES = frozenset({State.DUE, State.ANSWERED, State.IN_PROGRESS})
FINAL_STATES = frozenset(State) - LIVE_STATES
#: Paid and not over: the client's page shows the confirmation data, the invite stands,
#: the dashboard's "next session" comes from these.
CONFIRMED_STATES = frozenset({State.CONFIRMED}) | SESSION_STATES
#: States in which nobody will call (never paid): the session's countdowns do not apply.
NEVER_CALLED = frozenset({State.AWAITING_PAYMENT, State.EXPIRED, State.CANCELLED})
#: States a booking reaches only after its fee was confirmed as paid.
PAID_STATES = frozenset(State) - NEVER_CALLED

#: (from, to) -> actors allowed to make that move.
ALLOWED: dict[tuple[State, State], frozenset[Actor]] = {
    (State.AWAITING_PAYMENT, State.CONFIRMED): frozenset({Actor.OPERATOR, Actor.PROVIDER}),
    (State.AWAITING_PAYMENT, State.EXPIRED): frozenset({Actor.WORKER, Actor.OPERATOR}),
    (State.AWAITING_PAYMENT, State.CANCELLED): frozenset({Actor.CLIENT, Actor.OPERATOR}),
    # The client until the start (refund per policy, reflexion.booking.refunds); the operator too.
    (State.CONFIRMED, State.CANCELLED): frozenset({Actor.CLIENT, Actor.OPERATOR}),
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
