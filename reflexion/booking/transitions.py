"""The one function that changes a booking's state: checked, compare-and-set, audited."""
from sqlalchemy import inspect, update
from sqlalchemy.orm.attributes import set_committed_value

from reflexion import clock
from reflexion.booking.models import Booking, Transition
from reflexion.booking.states import Actor, IllegalTransition, State, can_transition
from reflexion.extensions import db
from reflexion.conversations.deadlines import next_deadline


def transition(booking, to: State, *, actor: Actor, at=None, code: str | None = None,
               params: dict | None = None, note: str | None = None):
    """Move ``booking`` to ``to`` and record it; raise :class:`IllegalTransition` otherwise.

    ``at`` is the instant the change counts from (a deadline applied late is recorded at
    the deadline); it defaults to the checked clock's now. ``code`` and ``params`` say what
    the system recorded (a :class:`reflexion.booking.notes.Note`, rendered in the reader's
    language when shown); ``note`` is free text someone typed.
    """
    to, actor = State(to), Actor(actor)
    if not can_transition(booking, to, actor):
        raise IllegalTransition(booking, to, actor)
    from_state = booking.state
    next_at = next_deadline(booking, state=to)
    if inspect(booking).persistent:
        # Compare-and-set in the database: a timer job, the reconcile sweep and the operator
        # may act on the same booking at once; only the first move from ``from_state`` wins.
        # The start is compared too: a timer that read the booking before a move committed
        # must not apply the old time's deadline to the moved booking.
        loaded_start = inspect(booking).committed_state.get("start_at", booking.start_at)
        result = db.session.execute(
            update(Booking).where(Booking.id == booking.id, Booking.state == from_state,
                                  Booking.start_at == loaded_start)
            .values(state=to.value, next_deadline_at=next_at),
            execution_options={"synchronize_session": False},
        )
        if result.rowcount != 1:
            db.session.expire(booking, ["state", "start_at", "end_at", "payment_deadline"])
            raise IllegalTransition(booking, to, actor)
        set_committed_value(booking, "state", to.value)
        set_committed_value(booking, "next_deadline_at", next_at)
    else:
        booking.state = to.value
        booking.next_deadline_at = next_at
    entry = Transition(
        booking=booking,
        from_state=from_state,
        to_state=to.value,
        actor=actor.value,
        at=at or clock.now(),
        note_code=code and str(code),
        note_params=params or None,
        note=(note or None) and note[:500],
    )
    db.session.add(entry)
    return entry
