"""Operator session panel with live countdowns (htmx-polled partial) and the call's actions.

``GET /operator/sessions/<id>`` is the full page; the same URL asked by htmx returns only the
live partial (``conversations/_live.html``), which polls itself every second. Once the session is
over the partial comes without its trigger and with HTTP 286, so polling stops. When the
state changed since the browser last saw it (``?seen=``), the partial also carries the
action buttons and the history as out-of-band swaps.
"""
from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from sqlalchemy import bindparam, select

from reflexion import clock
from reflexion.booking.models import Booking
from reflexion.booking.states import FINAL_STATES, IllegalTransition, State
from reflexion.db import OneRowQuery, keep_changes
from reflexion.extensions import db, htmx, limiter
from reflexion.i18n import format_instant
from reflexion.operator.auth import guard_operator_request
from reflexion.operator.forms import ActionForm, CancelForm, MarkPaidForm
from reflexion.conversations import actions
from reflexion.conversations.deadlines import due_transitions
from reflexion.conversations.forms import NoteForm, VerifyForm
from reflexion.conversations.lifecycle import AsTheClockHasIt
from reflexion.conversations.panel import live_view, state_label, texts

bp = Blueprint("conversations", __name__, url_prefix="/operator/sessions")

STOP_POLLING = 286


@bp.before_request
def operator_only():
    return guard_operator_request()




def _booking(booking_id: int) -> Booking:
    booking = db.session.get(Booking, booking_id)
    if booking is None:
        abort(404)
    return booking


#: What the live partial reads when nothing has changed: one row by primary key, no ORM object.
LIVE_FIELDS = ("id", "state", "start_at", "end_at", "payment_deadline", "answered_at", "ended_at",
               "session_minutes", "no_answer_minutes")


_LIVE_QUERY = OneRowQuery(select(*(Booking.__table__.c[name] for name in LIVE_FIELDS)).where(
    Booking.__table__.c.id == bindparam("booking_id")))


def _live_row(booking_id: int):
    # Straight on the driver, not the ORM session: the every-second path needs no unit of work.
    return _LIVE_QUERY.first(db.engine, booking_id=booking_id)


@bp.route("/<int:booking_id>")
def panel(booking_id):
    now = clock.now()
    if htmx:
        row = _live_row(booking_id)
        if row is None:
            abort(404)
        if (row.state == request.args.get("seen") and State(row.state) not in FINAL_STATES
                and not due_transitions(row, now)):
            # The every-second case: nothing to record, nothing new to show but the clock. The
            # template needs nothing from the context processors, so it is rendered directly.
            template = current_app.jinja_env.get_template("conversations/_live.html")
            return _partial_response(template.render(
                view=live_view(row, now), live_url=request.path, live_title=texts(row)["title"]))
    # Read-only: deadlines the worker has not recorded yet are shown as the clock decided them
    # (the timer job or the sweep records them; an action records them first).
    booking = AsTheClockHasIt(_booking(booking_id), now)
    if htmx:
        return _live_partial(booking, now)
    return _render_panel(booking, now)


PARTIAL_HEADERS = (("Vary", "HX-Request"), ("Cache-Control", "no-store"))


def _partial_response(html, over=False):
    return current_app.response_class(html, status=STOP_POLLING if over else 200, headers=PARTIAL_HEADERS,
                                      mimetype="text/html")


def _live_partial(booking, now):
    context = _panel_context(booking, now, oob=True)
    html = render_template("conversations/_live.html", **context)
    if request.args.get("seen") != booking.state:
        html += render_template("conversations/_changed.html", **context)
    return _partial_response(html, over=context["view"].over)


def _panel_context(booking, now, oob=False, verify_form=None, note_form=None):
    return {
        "booking": booking,
        "now": now,
        "oob": oob,
        "view": live_view(booking, now),
        "live_url": url_for(".panel", booking_id=booking.id),
        "live_title": texts(booking)["title"],
        "history": booking.transitions,
        "payment": booking.payments[-1] if booking.payments else None,
        "verify_form": verify_form or VerifyForm(formdata=None),
        "note_form": note_form or NoteForm(formdata=None),
        "action_form": ActionForm(formdata=None),
        "cancel_form": CancelForm(formdata=None),
        "paid_form": MarkPaidForm(formdata=None),
        "call_opens_at": actions.call_opens_at(booking),
        "may_answer": now >= actions.call_opens_at(booking),
        "locked": actions.verification_locked(booking),
        "max_failures": actions.max_verify_failures(),
    }


def _render_panel(booking, now, status=200, error=None, **forms):
    new = session.get("operator_new_booking")
    if new and new.get("id") == booking.id:
        session.pop("operator_new_booking")
    else:
        new = None
    response = current_app.make_response((
        render_template("conversations/panel.html", error=error, new_booking=new, **_panel_context(booking, now, **forms)),
        status,
    ))
    response.vary.add("HX-Request")
    response.headers["Cache-Control"] = "no-store"
    return response


def _done(booking, message):
    flash(message, "success")
    return redirect(url_for(".panel", booking_id=booking.id), code=303)


def _refused(booking, message, status=409, **forms):
    """The action was not possible: keep what the clock decided meanwhile (the catch-up) and
    any counted verification try (the request commits them), then show the panel with the reason."""
    keep_changes()
    db.session.flush()
    return _render_panel(AsTheClockHasIt(booking, clock.now()), clock.now(), status=status, error=message, **forms)


def _no_longer(booking):
    db.session.refresh(booking, ["state"])  # someone else moved it: show what they recorded
    return _refused(booking, _("This step is not possible now: the session is “%(state)s”.",
                               state=state_label(booking.state)))


@bp.route("/<int:booking_id>/answered", methods=["POST"])
def answered(booking_id):
    booking = _booking(booking_id)
    if not ActionForm().validate():
        abort(400)
    try:
        actions.mark_answered(booking)
    except actions.TooEarly as exc:
        return _refused(booking, _("The call may begin at %(when)s at the earliest.",
                                   when=format_instant(exc.opens_at, "time")))
    except IllegalTransition:
        return _no_longer(booking)
    return _done(booking, _("Recorded: the client answered. Now ask for the confirmation data."))


@bp.route("/<int:booking_id>/verify", methods=["POST"])
@limiter.limit("20 per minute")  # on top of the lock after five wrong tries per session
def verify(booking_id):
    booking = _booking(booking_id)
    form = VerifyForm()
    if not form.validate():
        return _refused(booking, " ".join(str(e) for e in form.confirmation.errors)
                        or _("Please type the digits the client reads out."), status=400)
    try:
        result = actions.verify_confirmation(booking, form.confirmation.data)
    except actions.VerificationLocked:
        return _refused(booking, _("Verification is locked after %(n)d wrong tries. End the call: identity not confirmed.",
                                   n=actions.max_verify_failures()), status=423)
    except IllegalTransition:
        return _no_longer(booking)
    if result.ok:
        return _done(booking, _("Confirmation data verified: the conversation may begin."))
    if result.locked:
        return _refused(booking, _("The confirmation data do not match. Verification is now locked after %(n)d wrong tries. End the call: identity not confirmed.",
                                   n=result.failures), status=423)
    return _refused(booking, _("The confirmation data do not match. %(left)d tries left.", left=result.remaining),
                    status=422)


def _ending(booking_id, action, message):
    booking = _booking(booking_id)
    form = NoteForm()
    if not form.validate():
        return _refused(booking, " ".join(str(e) for e in form.note.errors), status=400, note_form=form)
    try:
        action(booking, note=form.note.data or None)
    except IllegalTransition:
        return _no_longer(booking)
    return _done(booking, message)


@bp.route("/<int:booking_id>/identity-not-confirmed", methods=["POST"])
def identity_not_confirmed(booking_id):
    return _ending(booking_id, actions.end_identity_not_confirmed,
                   _("The call has been ended: identity not confirmed."))


@bp.route("/<int:booking_id>/abuse", methods=["POST"])
def abuse(booking_id):
    return _ending(booking_id, lambda b, note: actions.end_for_abuse(b, note=note or ""),
                   _("The call has been ended for abuse; the remaining time counts as consumed."))


@bp.route("/<int:booking_id>/end", methods=["POST"])
def end(booking_id):
    return _ending(booking_id, actions.end_session, _("The session has been completed."))
