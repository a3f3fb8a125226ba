"""Audit notes: stored as a code with parameters, rendered in the reader's language when shown.

An audit line (:class:`~reflexion.booking.models.Transition`) keeps ``note_code`` (one of
:class:`Note`), ``note_params`` (JSON, e.g. the payment method) and ``note`` — free text the
operator typed, shown as typed. Editing a sentence here changes every history at once and
never breaks a translation: the database holds no English.

A new note is one new member of :class:`Note` and one line in :func:`_texts`.
"""
from datetime import datetime
from enum import StrEnum

from flask_babel import force_locale
from flask_babel import gettext as _

from reflexion.booking.methods import method_label
from reflexion.i18n import format_instant, format_money


class Note(StrEnum):
    """What the system records on an audit line; the value is stored."""

    PAYMENT_DEADLINE_PASSED = "payment_deadline_passed"
    START_REACHED = "start_reached"
    NOT_ANSWERED = "not_answered"
    HARD_END = "hard_end"
    CALL_BEGUN_EARLY = "call_begun_early"
    ANSWERED = "answered"
    VERIFIED = "verified"
    IDENTITY_NOT_CONFIRMED = "identity_not_confirmed"
    ABUSE = "abuse"
    ENDED_BY_OPERATOR = "ended_by_operator"
    CANCELLED_BY_CLIENT = "cancelled_by_client"
    CANCELLED_BY_OPERATOR = "cancelled_by_operator"
    PAID = "paid"  # params: {"method": "bank_transfer"}
    MOVED = "moved"  # params: {"old": "2026-12-09T09:00:00Z", "new": "…"} (UTC starts)
    REFUNDED = "refunded"  # the due refund was paid out; params {"refund": "re_…"} when Stripe refunded it
    # Online payment (reflexion/payments/stripe_checkout.py); params carry amounts, never personal data
    #: Paid online, but not the booking's amount or currency: not confirmed, for the operator.
    #: params: {"amount_cents": 8000, "currency": "EUR", "expected_cents": 9000, "expected_currency": "EUR"}
    ONLINE_PAYMENT_MISMATCH = "online_payment_mismatch"
    #: Paid online for a booking no longer awaiting payment (expired, cancelled, already paid).
    #: params: {"amount_cents": 9000, "currency": "EUR", "state": "expired"}
    ONLINE_PAYMENT_NOT_APPLIED = "online_payment_not_applied"
    #: Stripe refused the refund on every try: the operator pays it back by hand. params: {"error": "…"}
    ONLINE_REFUND_FAILED = "online_refund_failed"
    WITHDRAWN = "withdrawn"  # the client declared withdrawal through the withdrawal function


def _texts(code: str, params: dict) -> str | None:
    """The sentence for ``code`` in the current language (None for an unknown code)."""
    if code == Note.PAID:
        method = params.get("method", "")
        return _("paid by %(method)s", method=method_label(method))
    if code == Note.MOVED:
        old, new = (_instant(params.get(key)) for key in ("old", "new"))
        if old and new:
            return _("moved from %(old)s to %(new)s", old=format_instant(old, "short"), new=format_instant(new, "short"))
        return _("moved")
    if code == Note.REFUNDED and params.get("refund"):
        return _("refund paid back online (Stripe refund %(refund)s)", refund=params["refund"])
    if code == Note.ONLINE_PAYMENT_MISMATCH:
        return _("online payment of %(amount)s does not match the fee of %(expected)s; not confirmed, please check it "
                 "in Stripe", amount=_money(params.get("amount_cents"), params.get("currency")),
                 expected=_money(params.get("expected_cents"), params.get("expected_currency")))
    if code == Note.ONLINE_PAYMENT_NOT_APPLIED:
        return _("online payment of %(amount)s arrived while the booking was %(state)s; refund due",
                 amount=_money(params.get("amount_cents"), params.get("currency")),
                 state=_state_name(params.get("state", "")))
    if code == Note.ONLINE_REFUND_FAILED:
        return _("the online refund failed (%(error)s); please pay it back by hand", error=params.get("error", "?"))
    texts = {
        Note.PAYMENT_DEADLINE_PASSED: _("payment deadline passed"),
        Note.START_REACHED: _("booked start reached"),
        Note.NOT_ANSWERED: _("not answered within the no-answer window"),
        Note.HARD_END: _("hard end reached"),
        Note.CALL_BEGUN_EARLY: _("call begun before the booked start"),
        Note.ANSWERED: _("client answered the call"),
        Note.VERIFIED: _("confirmation data verified"),
        Note.IDENTITY_NOT_CONFIRMED: _("identity not confirmed"),
        Note.ABUSE: _("abuse; remaining time consumed"),
        Note.ENDED_BY_OPERATOR: _("ended by the operator"),
        Note.CANCELLED_BY_CLIENT: _("cancelled by the client on the booking page"),
        Note.CANCELLED_BY_OPERATOR: _("cancelled by the operator"),
        Note.REFUNDED: _("refund paid out"),
        Note.WITHDRAWN: _("withdrawal declared by the client through the withdrawal function"),
    }
    return texts.get(code)


def _money(cents, currency) -> str:
    try:
        return format_money(int(cents), str(currency or ""))
    except (TypeError, ValueError):
        return "?"


def _state_name(state: str) -> str:
    names = {"expired": _("expired"), "cancelled": _("cancelled"), "confirmed": _("already paid")}
    return names.get(state, _("already paid") if state else "?")


def _instant(text):
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")) if text else None
    except (TypeError, ValueError):
        return None


def render(code: str | None, params: dict | None = None, note: str | None = None) -> str:
    """The note as the reader sees it: the code's sentence, then the typed text (if any)."""
    fixed = _texts(code, params or {}) if code else None
    if fixed is None and code:
        fixed = code  # a code this version does not know (a newer one wrote it): show it plainly
    if fixed and note:
        return f"{fixed}: {note}"
    return fixed or note or ""


def entry_text(entry) -> str:
    """An audit line's note in the current language."""
    return render(entry.note_code, entry.note_params, entry.note)


def entry_text_in(entry, locale: str) -> str:
    """An audit line's note in ``locale`` (a client's data export is in the client's language)."""
    with force_locale(locale):
        return entry_text(entry)


def entry_text_en(entry) -> str:
    """An audit line's note in the source language (the command line's JSON and scripts)."""
    return entry_text_in(entry, "en")


#: The English sentences written before notes became codes (migration 20261202_0014 and the
#: tests use it): text -> (code, params). "paid by <method>" and "abuse; …: <note>" are
#: recognised by prefix there.
LEGACY_TEXTS = {
    "payment deadline passed": Note.PAYMENT_DEADLINE_PASSED,
    "booked start reached": Note.START_REACHED,
    "not answered within the no-answer window": Note.NOT_ANSWERED,
    "hard end reached": Note.HARD_END,
    "call begun before the booked start": Note.CALL_BEGUN_EARLY,
    "client answered the call": Note.ANSWERED,
    "confirmation data verified": Note.VERIFIED,
    "identity not confirmed": Note.IDENTITY_NOT_CONFIRMED,
    "ended by the operator": Note.ENDED_BY_OPERATOR,
    "cancelled on the booking page": Note.CANCELLED_BY_CLIENT,
    "cancelled by the operator": Note.CANCELLED_BY_OPERATOR,
}
