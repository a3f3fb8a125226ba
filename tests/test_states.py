"""The booking lifecycle: every move legal or illegal, the audit log, and the deadline rules."""
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select, text, update

from reflexion.booking.models import Booking, Transition
from reflexion.booking.states import (
    ALLOWED,
    FINAL_STATES,
    LIVE_STATES,
    Actor,
    IllegalTransition,
    State,
    can_transition,
)
from reflexion.booking.transitions import transition
from reflexion.conversations.deadlines import due_transitions, next_deadline
from reflexion.conversations.lifecycle import apply_deadlines
from frozen import NOW


START = datetime(2026, 11, 23, 9, 0, tzinfo=timezone.utc)  # 10:00 MEZ


def _audit(db, booking):
    return db.session.scalars(
        select(Transition).where(Transition.booking_id == booking.id).order_by(Transition.id)
    ).all()


def test_the_table_covers_the_lifecycle_of_product_md():
    """ALLOWED holds exactly the arrows of PRODUCT.md §3 (plus the worker's catch-all ends)."""
    arrows = {(a.value, b.value): {x.value for x in actors} for (a, b), actors in ALLOWED.items()}
    # the operator, or the payment provider's signed webhook (online payment, issue #13)
    assert arrows[("awaiting_payment", "confirmed")] == {"operator", "provider"}
    assert arrows[("awaiting_payment", "expired")] >= {"worker"}
    assert arrows[("confirmed", "due")] >= {"worker"}
    assert arrows[("due", "answered")] == {"operator"}
    assert arrows[("due", "no_show")] >= {"worker"}
    assert arrows[("answered", "in_progress")] == {"operator"}
    assert arrows[("answered", "aborted_identity")] == {"operator"}
    assert arrows[("in_progress", "aborted_abuse")] == {"operator"}
    assert arrows[("in_progress", "completed")] >= {"worker", "operator"}
    # No move leaves a final state, and clients can only cancel before the session (issue #12:
    # a paid booking too, with the refund the policy gives).
    assert not [pair for pair in ALLOWED if pair[0] in FINAL_STATES]
    assert [pair for pair, actors in ALLOWED.items() if Actor.CLIENT in actors] == [
        (State.AWAITING_PAYMENT, State.CANCELLED), (State.CONFIRMED, State.CANCELLED)
    ]
    assert LIVE_STATES.isdisjoint(FINAL_STATES) and LIVE_STATES | FINAL_STATES == set(State)


def test_every_move_is_legal_exactly_when_the_table_allows_it(app, db, frozen_now, make_booking):
    """All 11 × 11 × 4 (from, to, actor) combinations: allowed ones write one audit line, others raise
    and change nothing."""
    frozen_now(NOW)
    booking = make_booking(START, state="confirmed")
    checked = legal = 0
    for source in State:
        for target in State:
            for actor in Actor:
                db.session.execute(update(Booking).where(Booking.id == booking.id).values(state=source.value))
                db.session.commit()
                db.session.expire_all()
                before = len(_audit(db, booking))
                allowed = actor in ALLOWED.get((source, target), ())
                assert can_transition(booking, target, actor) is allowed
                if allowed:
                    entry = transition(booking, target, actor=actor, note="test")
                    db.session.commit()
                    assert (entry.from_state, entry.to_state, entry.actor, entry.at, entry.note) == (
                        source.value, target.value, actor.value, NOW, "test")
                    assert len(_audit(db, booking)) == before + 1
                    legal += 1
                else:
                    with pytest.raises(IllegalTransition):
                        transition(booking, target, actor=actor)
                    db.session.commit()
                    db.session.expire_all()
                    assert booking.state == source.value
                    assert len(_audit(db, booking)) == before
                checked += 1
    assert checked == 11 * 11 * len(Actor)
    assert legal == sum(len(actors) for actors in ALLOWED.values())


def test_the_audit_line_keeps_the_given_instant_and_a_bounded_note(app, db, frozen_now, make_booking):
    """A deadline applied late is recorded at the deadline; notes are cut at 500 characters."""
    frozen_now(NOW)
    booking = make_booking(START, state="confirmed")
    entry = transition(booking, State.DUE, actor=Actor.WORKER, at=START, note="x" * 600)
    db.session.commit()
    assert entry.at == START and len(entry.note) == 500
    stored = _audit(db, booking)[-1]
    assert (stored.from_state, stored.to_state, stored.actor, stored.at) == ("confirmed", "due", "worker", START)


def test_a_move_made_meanwhile_by_someone_else_wins(app, db, frozen_now, make_booking):
    """Compare-and-set: if another process moved the booking after we read it, our move raises
    and writes nothing (no second audit line for the same deadline)."""
    frozen_now(NOW)
    booking = make_booking(START, state="due")
    assert booking.state == "due"  # loaded
    with db.engine.begin() as other:  # another process records the no-show first
        other.execute(text("UPDATE booking SET state = 'no_show' WHERE id = :id"), {"id": booking.id})
    with pytest.raises(IllegalTransition):
        transition(booking, State.ANSWERED, actor=Actor.OPERATOR)
    db.session.commit()
    assert booking.state == "no_show"
    assert [t.to_state for t in _audit(db, booking)] == ["due"]


# -- deadline rules (sessions/deadlines.py) ------------------------------------------

class _B:
    """A booking stand-in for the pure rules."""

    def __init__(self, state, start=START, payment_deadline=None):
        self.state, self.start_at, self.end_at = state, start, start + timedelta(minutes=45)
        self.payment_deadline = payment_deadline


@pytest.mark.parametrize("state, now, expected", [
    ("awaiting_payment", START - timedelta(hours=3), []),
    ("awaiting_payment", START - timedelta(hours=2), [("expired", START - timedelta(hours=2))]),
    ("confirmed", START - timedelta(seconds=1), []),
    ("confirmed", START, [("due", START)]),
    ("confirmed", START + timedelta(minutes=15), [("due", START), ("no_show", START + timedelta(minutes=15))]),
    ("confirmed", START + timedelta(hours=5), [("due", START), ("no_show", START + timedelta(minutes=15))]),
    ("due", START + timedelta(minutes=14, seconds=59), []),
    ("due", START + timedelta(minutes=15), [("no_show", START + timedelta(minutes=15))]),
    ("answered", START + timedelta(minutes=44), []),
    ("answered", START + timedelta(minutes=45), [("completed", START + timedelta(minutes=45))]),
    ("in_progress", START + timedelta(minutes=45), [("completed", START + timedelta(minutes=45))]),
    ("completed", START + timedelta(hours=1), []),
    ("no_show", START + timedelta(hours=1), []),
    ("cancelled", START + timedelta(hours=1), []),
])
def test_due_transitions_follow_the_15_and_45_minute_rules(app, state, now, expected):
    """Rule 6 (no answer within 15 min → no-show), rule 7 (hard end at 45 min), payment deadline."""
    booking = _B(state, payment_deadline=START - timedelta(hours=2))
    got = [(to.value, at) for to, at in due_transitions(booking, now)]
    assert got == expected


def test_next_deadline_names_the_instant_the_clock_acts_next(app):
    assert next_deadline(_B("awaiting_payment", payment_deadline=NOW)) == NOW
    assert next_deadline(_B("confirmed")) == START
    assert next_deadline(_B("due")) == START + timedelta(minutes=15)
    assert next_deadline(_B("in_progress")) == START + timedelta(minutes=45)
    assert next_deadline(_B("aborted_abuse")) is None


def test_apply_deadlines_records_each_move_at_its_deadline(app, db, frozen_now, make_booking):
    """Processed two hours late, the no-show is still written at start + 15 min by the worker."""
    frozen_now(NOW)
    booking = make_booking(START, state="confirmed")
    late = START + timedelta(hours=2)
    entries = apply_deadlines(booking, late)
    db.session.commit()
    assert [(e.from_state, e.to_state, e.actor, e.at) for e in entries] == [
        ("confirmed", "due", "worker", START),
        ("due", "no_show", "worker", START + timedelta(minutes=15)),
    ]
    assert booking.state == "no_show" and booking.ended_at == START + timedelta(minutes=15)
    assert apply_deadlines(booking, late) == []  # idempotent
