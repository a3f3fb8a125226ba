"""The withdrawal function (§ 356a BGB; Art. 11a of Directive 2011/83/EU as amended by 2023/2673).

A consumer who booked online declares withdrawal on ``/<lang>/withdraw`` with the booking
reference, their name and an e-mail address, then confirms. :func:`declare_withdrawal` keeps
every declaration (:class:`~reflexion.booking.models.WithdrawalDeclaration`), matched or not,
so none is lost, and sends ``signals.withdrawal_declared``: the mail side sends the
acknowledgment of receipt (content, date and time) to the address given and a content-free
notice to the operator.

When the reference and the booking's e-mail address match, the booking is withdrawn through
the one cancellation path (:func:`reflexion.booking.cancellation.cancel_booking`, audit note
``withdrawn``, full refund) while that is possible: within 14 days of booking and before the
session starts. A session fully performed after the client's request for an early start ends
the right of withdrawal (§ 356 (4) BGB; 2 kap. 11 § distansavtalslagen).
"""
import re
import unicodedata
from enum import StrEnum

from flask_babel import gettext as _
from sqlalchemy import select

from reflexion import clock, signals
from reflexion.booking import codes
from reflexion.booking.cancellation import can_cancel, cancel_booking
from reflexion.booking.models import Booking, WithdrawalDeclaration
from reflexion.booking.states import FINAL_STATES, SESSION_STATES, Actor, IllegalTransition, State
from reflexion.extensions import db
from reflexion.conversations.deadlines import last_withdrawal_day, withdrawal_period_end

class Outcome(StrEnum):
    WITHDRAWN = "withdrawn"  # the booking is cancelled, the fee (if paid) refunded in full
    NO_MATCH = "no_match"  # reference and e-mail name no booking: kept for the operator
    ALREADY_ENDED = "already_ended"  # cancelled or lapsed before: nothing left to withdraw from
    COMPLETED = "completed"  # the session took place: the right of withdrawal has ended
    IN_SESSION = "in_session"  # the session is running: the operator settles it
    PERIOD_OVER = "period_over"  # more than 14 days after booking


def _matching_booking(reference: str, email: str) -> Booking | None:
    # typed as people type it: any case, the dash missing or a space instead ("r 7kq4m2")
    raw = re.sub(r"[^0-9A-Z]", "", unicodedata.normalize("NFKC", reference or "").upper())
    ref = "R-" + raw[1:] if raw.startswith("R") and len(raw) == 7 else codes.normalise_reference(reference)
    if not codes.REF_PATTERN.match(ref):
        return None
    booking = db.session.scalar(select(Booking).where(Booking.ref == ref))
    if booking is None or booking.anonymised_at is not None:
        return None
    if (booking.email or "").strip().casefold() != (email or "").strip().casefold():
        return None
    return booking


def _outcome(booking, now) -> Outcome:
    state = State(booking.state)
    if state in (State.CANCELLED, State.EXPIRED):
        return Outcome.ALREADY_ENDED
    if state in FINAL_STATES:
        return Outcome.COMPLETED
    if state in SESSION_STATES or booking.start_at <= now:
        return Outcome.IN_SESSION
    if now >= withdrawal_period_end(booking.created_at):  # § 187 (1) BGB counting, practice time
        return Outcome.PERIOD_OVER
    return Outcome.WITHDRAWN


def withdrawal_open(booking, now=None) -> bool:
    """True while the withdrawal function would withdraw this booking: it is live, its session has
    not begun and the withdrawal period runs (the booking page links to the function then)."""
    now = now or clock.now()
    return _outcome(booking, now) == Outcome.WITHDRAWN and can_cancel(booking, Actor.CLIENT)


def withdrawal_last_day(booking):
    """The last calendar day (practice time) of the booking's withdrawal period, when the period
    ends before the session begins; ``None`` when the session's start ends it first."""
    if booking.start_at <= withdrawal_period_end(booking.created_at):
        return None
    return last_withdrawal_day(booking.created_at)


def reference_prefill(text: str | None) -> str:
    """The reference a link may put into the form (``?ref=``): a well-formed one, else nothing."""
    ref = codes.normalise_reference((text or "")[:64])
    return ref if codes.REF_PATTERN.match(ref) else ""


def declare_withdrawal(*, reference: str, name: str, email: str, lang: str) -> WithdrawalDeclaration:
    """Record a withdrawal declaration and act on it; the caller commits.

    The inputs are checked by the form (name and e-mail as on the booking form, a reference of
    at most 64 characters). Returns the stored declaration; its ``outcome`` says what happened.
    """
    now = clock.now()
    booking = _matching_booking(reference, email)
    outcome = Outcome.NO_MATCH if booking is None else _outcome(booking, now)
    if outcome == Outcome.WITHDRAWN:
        try:
            if not can_cancel(booking, Actor.CLIENT):
                raise IllegalTransition(booking, State.CANCELLED, Actor.CLIENT)
            cancel_booking(booking, actor=Actor.CLIENT, withdrawal=True)
        except IllegalTransition:  # not cancellable after all (the lifecycle's rule): the operator decides
            outcome = Outcome.IN_SESSION
    declaration = WithdrawalDeclaration(reference=(reference or "").strip()[:64], name=name[:120], email=email[:254],
                                        lang=lang, declared_at=now, booking=booking, outcome=outcome.value)
    db.session.add(declaration)
    db.session.flush()
    signals.withdrawal_declared.send(declaration)
    return declaration


def recent_declarations(limit: int = 50):
    """The latest declarations, newest first (the operator's list)."""
    return db.session.scalars(select(WithdrawalDeclaration).order_by(
        WithdrawalDeclaration.declared_at.desc(), WithdrawalDeclaration.id.desc()).limit(limit)).all()


def outcome_labels() -> dict[str, str]:
    """What became of a declaration, in the reader's language (the operator's list)."""
    return {
        Outcome.WITHDRAWN: _("withdrawn: booking cancelled, full refund"),
        Outcome.NO_MATCH: _("no booking with this reference and e-mail address: please check"),
        Outcome.ALREADY_ENDED: _("booking already cancelled or lapsed"),
        Outcome.COMPLETED: _("session already held: right of withdrawal ended"),
        Outcome.IN_SESSION: _("session already begun: settle the part provided"),
        Outcome.PERIOD_OVER: _("withdrawal period over: please check"),
    }
