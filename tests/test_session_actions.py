"""The operator's session actions: answered, verification (with its lock), identity, abuse, end."""
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from reflexion.booking import codes
from reflexion.booking.models import Transition
from reflexion.booking.notes import entry_text_en
from reflexion.booking.states import IllegalTransition
from reflexion.conversations import actions

START = datetime(2026, 11, 23, 9, 0, tzinfo=timezone.utc)


def _audit(db, booking):
    rows = db.session.scalars(select(Transition).where(Transition.booking_id == booking.id).order_by(Transition.id))
    return [(t.from_state, t.to_state, t.actor, t.at) for t in rows][1:]  # without the creation line


@pytest.fixture
def session_at(db, frozen_now, make_booking):
    """A booking in ``state`` with the clock frozen ``minutes`` after its start."""

    def make(state, minutes=2):
        booking = make_booking(START, state=state)
        frozen_now(START + timedelta(minutes=minutes))
        return booking

    return make


def test_client_answered_moves_due_to_answered(db, session_at):
    booking = session_at("due", minutes=3)
    entry = actions.mark_answered(booking)
    db.session.commit()
    now = START + timedelta(minutes=3)
    assert booking.state == "answered" and booking.answered_at == now
    assert (entry.actor, entry.note_code, entry_text_en(entry)) == ("operator", "answered", "client answered the call")
    assert _audit(db, booking) == [("due", "answered", "operator", now)]


def test_answered_on_a_confirmed_session_catches_up_the_start_first(db, session_at):
    """The worker had not yet marked the start: the catch-up records it at the start instant."""
    booking = session_at("confirmed", minutes=1)
    actions.mark_answered(booking)
    db.session.commit()
    assert _audit(db, booking) == [
        ("confirmed", "due", "worker", START),
        ("due", "answered", "operator", START + timedelta(minutes=1)),
    ]


def test_a_call_may_begin_a_little_early_but_not_long_before(db, session_at, frozen_now):
    booking = session_at("confirmed", minutes=-30)
    with pytest.raises(actions.TooEarly):
        actions.mark_answered(booking)
    db.session.rollback()
    assert booking.state == "confirmed"
    frozen_now(START - timedelta(minutes=5))
    actions.mark_answered(booking)
    db.session.commit()
    assert [row[:3] for row in _audit(db, booking)] == [
        ("confirmed", "due", "operator"), ("due", "answered", "operator")]


def test_answered_after_the_no_answer_deadline_is_refused_and_the_no_show_stands(db, session_at):
    """Rule 6: 15 minutes passed; the click finds the no-show (recorded at the deadline) instead."""
    booking = session_at("due", minutes=16)
    with pytest.raises(IllegalTransition):
        actions.mark_answered(booking)
    db.session.commit()
    assert booking.state == "no_show"
    assert _audit(db, booking) == [("due", "no_show", "worker", START + timedelta(minutes=15))]


def test_right_confirmation_data_start_the_conversation(db, session_at):
    booking = session_at("answered")
    code = codes.confirmation_code_for(booking)
    result = actions.verify_confirmation(booking, code.replace(" ", ""))
    db.session.commit()
    assert result.ok and not result.locked and result.failures == 0
    assert booking.state == "in_progress" and booking.verified_at == START + timedelta(minutes=2)
    assert _audit(db, booking)[-1][:3] == ("answered", "in_progress", "operator")


def test_verification_compares_through_the_constant_time_check(db, session_at, monkeypatch):
    """The typed digits go to codes.check_confirmation_code with the stored hash, nothing else."""
    booking = session_at("answered")
    seen = []
    real = codes.check_confirmation_code

    def spy(stored_hash, typed):
        seen.append((stored_hash, typed))
        return real(stored_hash, typed)

    monkeypatch.setattr(codes, "check_confirmation_code", spy)
    actions.verify_confirmation(booking, "1234 5678")
    assert seen == [(booking.confirmation_hash, "1234 5678")]


def test_wrong_confirmation_data_count_and_lock_after_five(db, session_at, app):
    """Five wrong tries lock verification; then even the right data are refused."""
    booking = session_at("answered")
    right = codes.confirmation_code_for(booking)
    wrong = "0000 0000" if right != "0000 0000" else "1111 1111"
    for n in range(1, 6):
        result = actions.verify_confirmation(booking, wrong)
        db.session.commit()
        assert not result.ok and result.failures == n and result.remaining == 5 - n
    assert result.locked and actions.verification_locked(booking)
    with pytest.raises(actions.VerificationLocked):
        actions.verify_confirmation(booking, right)
    db.session.commit()
    assert booking.state == "answered" and booking.verify_failures == 5
    assert _audit(db, booking) == []  # tries are counted, not transitions


def test_a_success_after_wrong_tries_keeps_the_count_of_failures(db, session_at):
    booking = session_at("answered")
    actions.verify_confirmation(booking, "9")
    result = actions.verify_confirmation(booking, codes.confirmation_code_for(booking))
    db.session.commit()
    assert result.ok and booking.verify_failures == 1


def test_the_lock_follows_the_setting(db, session_at, app):
    app.config["VERIFY_MAX_FAILURES"] = 2
    booking = session_at("answered")
    actions.verify_confirmation(booking, "1")
    assert actions.verify_confirmation(booking, "2").locked


@pytest.mark.parametrize("state", ["confirmed", "due", "in_progress", "completed", "no_show"])
def test_verification_needs_an_answered_call(db, session_at, state):
    booking = session_at(state)
    with pytest.raises(IllegalTransition):
        actions.verify_confirmation(booking, "1234 5678")
    db.session.rollback()
    assert booking.verify_failures == 0


def test_identity_not_confirmed_ends_the_call(db, session_at):
    """Rule 8."""
    booking = session_at("answered", minutes=4)
    actions.end_identity_not_confirmed(booking)
    db.session.commit()
    assert booking.state == "aborted_identity" and booking.ended_at == START + timedelta(minutes=4)
    assert _audit(db, booking)[-1][:3] == ("answered", "aborted_identity", "operator")


def test_identity_cannot_be_doubted_once_verified(db, session_at):
    booking = session_at("in_progress")
    with pytest.raises(IllegalTransition):
        actions.end_identity_not_confirmed(booking)


@pytest.mark.parametrize("state", ["answered", "in_progress"])
def test_abuse_ends_at_once_with_the_note(db, session_at, state):
    """Rule 9: remaining time counts as consumed; the operator's note is kept."""
    booking = session_at(state, minutes=20)
    entry = actions.end_for_abuse(booking, note="insults")
    db.session.commit()
    assert booking.state == "aborted_abuse" and booking.ended_at == START + timedelta(minutes=20)
    assert entry_text_en(entry) == "abuse; remaining time consumed: insults" and entry.actor == "operator"
    assert (entry.note_code, entry.note) == ("abuse", "insults")  # the typed part stays free text


@pytest.mark.parametrize("state", ["confirmed", "due", "completed"])
def test_abuse_needs_a_call_in_progress(db, session_at, state):
    booking = session_at(state, minutes=1)
    with pytest.raises(IllegalTransition):
        actions.end_for_abuse(booking, note="x")


def test_ending_a_verified_session(db, session_at):
    booking = session_at("in_progress", minutes=40)
    actions.end_session(booking)
    db.session.commit()
    assert booking.state == "completed"
    assert _audit(db, booking)[-1] == ("in_progress", "completed", "operator", START + timedelta(minutes=40))


def test_ending_after_the_hard_end_finds_it_completed_at_45_minutes(db, session_at):
    """Rule 7: the call ended at start + 45 min, whatever the operator clicks later."""
    booking = session_at("in_progress", minutes=50)
    with pytest.raises(IllegalTransition):
        actions.end_session(booking)
    db.session.commit()
    assert booking.state == "completed"
    assert _audit(db, booking) == [("in_progress", "completed", "worker", START + timedelta(minutes=45))]


def test_an_unverified_session_cannot_be_completed_by_the_operator(db, session_at):
    booking = session_at("answered")
    with pytest.raises(IllegalTransition):
        actions.end_session(booking)


def test_actions_reschedule_the_timers_after_commit(app, db, session_at):
    """Answered: the no-answer timer goes, the hard-end timer stays."""
    from reflexion.jobs.scheduling import job_status
    from reflexion.jobs.timers import job_id_for, schedule_deadlines

    booking = session_at("due")
    schedule_deadlines(booking)
    assert job_status(job_id_for(booking.id, "no-answer")) == "scheduled"
    actions.mark_answered(booking)
    assert job_status(job_id_for(booking.id, "no-answer")) == "scheduled"  # nothing before commit
    db.session.commit()
    assert job_status(job_id_for(booking.id, "no-answer")) is None
    assert job_status(job_id_for(booking.id, "end")) == "scheduled"
