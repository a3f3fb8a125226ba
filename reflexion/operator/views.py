"""Operator panel: login, dashboard, bookings made by the operator, payments, messages, feed."""
from flask import Blueprint, abort, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user
from sqlalchemy import select

from reflexion import clock
from reflexion.availability.views import bp as availability_bp
from reflexion.booking import operations
from reflexion.booking.cancellation import cancel_booking
from reflexion.booking.changes import MoveRefused, can_move, check_move, move_booking
from reflexion.booking.refunds import RefundError, mark_refunded, refund_due_bookings
from reflexion.booking.models import Booking
from reflexion.booking.payments import PaymentError, confirm_payment
from reflexion.booking.states import Actor, IllegalTransition
from reflexion.calendar import feed
from reflexion.extensions import db, limiter
from reflexion.operator import dashboard as board
from reflexion.operator.auth import (
    authenticate,
    guard_operator_request,
    revoke_sessions,
    safe_next,
    start_operator_session,
)
from reflexion.operator.bookings import BadStart, book_by_operator, start_from_local
from reflexion.availability.slots import format_slot_key, parse_slot_key
from reflexion.operator.forms import ActionForm, CancelForm, LoginForm, MarkPaidForm, MoveForm, OperatorBookingForm
from reflexion.i18n import practice_zone
from reflexion.pages.models import ContactMessage

bp = Blueprint("operator", __name__, url_prefix="/operator")
#: Booking data of a booking just made in the panel, shown once on its session page.
NEW_BOOKING = "operator_new_booking"


@bp.before_request
def operator_only():
    return guard_operator_request()


def _register_nested():
    bp.register_blueprint(availability_bp)


_register_nested()


@bp.route("/login", methods=["GET", "POST"])
# Per source address, counting failed attempts only: an attacker slows down only itself, and
# the operator's correct password from another address is never refused for its failures.
@limiter.limit("10 per minute; 50 per hour", methods=["POST"], deduct_when=lambda response: response.status_code >= 400)
def login():
    form = LoginForm()
    if request.method == "POST":
        if form.validate():
            operator = authenticate(form.email.data, form.password.data)
            if operator is not None:
                db.session.commit()
                target = safe_next(request.args.get("next")) or url_for(".dashboard")
                session.clear()
                login_user(operator)
                # A browser-session cookie: closing the browser ends it. The hard limit from
                # login is kept server-side (session_expired), the signature's age limit too.
                session.permanent = False
                start_operator_session(operator)
                return redirect(target, code=303)
            form.password.errors.append(_("E-mail address or password is wrong."))
            return render_template("operator/login.html", form=form), 401
        return render_template("operator/login.html", form=form), 400
    return render_template("operator/login.html", form=form)


@bp.route("/logout", methods=["POST"])
def logout():
    if current_user.is_authenticated:
        revoke_sessions(current_user.id)  # a copy of this cookie must not work either
        db.session.commit()
    logout_user()
    session.clear()
    flash(_("You have been logged out."), "info")
    return redirect(url_for(".login"), code=303)


@bp.route("/")
def dashboard():
    now = clock.now()

    return render_template(
        "operator/dashboard.html",
        now=now,
        days=board.timeline(now),
        next_session=board.next_session(now),
        unpaid=board.awaiting_payment(),
        refunds_due=refund_due_bookings(),
        messages=board.recent_messages(),
        unread=board.unread_count(),
        feed_url=feed.feed_url(scheme="webcal"),
        feed_https_url=feed.feed_url(),
        action_form=ActionForm(),
        paid_form=MarkPaidForm(),
    )


def _booking_or_404(booking_id: int) -> Booking:
    booking = db.session.get(Booking, booking_id)
    if booking is None:
        abort(404)
    return booking


@bp.route("/find")
def find():
    """Jump to a session by its booking reference."""
    booking = operations.find_by_reference(request.args.get("ref", ""))
    if booking is None:
        flash(_("No booking has this reference."), "error")
        return redirect(url_for(".dashboard"), code=303)
    return redirect(url_for("sessions.panel", booking_id=booking.id), code=303)


@bp.route("/bookings/new", methods=["GET", "POST"])
def new_booking():
    form = OperatorBookingForm()
    if request.method == "GET":
        return render_template("operator/booking_form.html", form=form)
    if not form.validate():
        return render_template("operator/booking_form.html", form=form), 400
    try:
        start = start_from_local(form.day.data, form.start_time.data)
        new = book_by_operator(start, name=form.name.data, email=form.email.data,
                               call_handle=form.call_handle.data, lang=form.lang.data,
                               paid=form.paid.data, method=form.method.data)
        db.session.commit()
    except BadStart:
        db.session.rollback()
        form.start_time.errors.append(_("This local time does not exist (the clocks go forward then)."))
        return render_template("operator/booking_form.html", form=form), 400
    except operations.SlotUnavailable:
        db.session.rollback()
        form.start_time.errors.append(_("This start is in the past."))
        return render_template("operator/booking_form.html", form=form), 400
    except operations.SlotTaken:
        db.session.rollback()
        form.start_time.errors.append(_("This session would overlap another booking (including the break between sessions)."))
        return render_template("operator/booking_form.html", form=form), 409
    session[NEW_BOOKING] = {"id": new.booking.id, "ref": new.booking.ref, "key": new.access_key}
    flash(_("Booking %(ref)s has been made.", ref=new.booking.ref), "success")
    return redirect(url_for("sessions.panel", booking_id=new.booking.id), code=303)


@bp.route("/bookings/<int:booking_id>/mark-paid", methods=["POST"])
def mark_paid(booking_id):
    booking = _booking_or_404(booking_id)
    form = MarkPaidForm()
    if not form.validate():
        abort(400)
    try:
        confirm_payment(booking, actor=Actor.OPERATOR, method=form.method.data)
        db.session.commit()
    except (IllegalTransition, PaymentError):
        db.session.rollback()
        flash(_("Booking %(ref)s is not awaiting payment any more; nothing was recorded.", ref=booking.ref), "error")
        return redirect(_back(booking), code=303)
    flash(_("Payment recorded: booking %(ref)s is confirmed and the client receives the confirmation.",
            ref=booking.ref), "success")
    return redirect(_back(booking), code=303)


@bp.route("/bookings/<int:booking_id>/cancel", methods=["POST"])
def cancel(booking_id):
    booking = _booking_or_404(booking_id)
    form = CancelForm()
    if not form.validate():
        flash(" ".join(form.note.errors) or _("Please check your input and try again."), "error")
        return redirect(_back(booking), code=303)
    try:
        cancel_booking(booking, actor=Actor.OPERATOR, note=form.note.data or "cancelled by the operator")
        db.session.commit()
    except IllegalTransition:
        db.session.rollback()
        flash(_("Booking %(ref)s can no longer be cancelled.", ref=booking.ref), "error")
        return redirect(_back(booking), code=303)
    flash(_("Booking %(ref)s has been cancelled; the slot is free again.", ref=booking.ref), "success")
    return redirect(_back(booking), code=303)


def _move_error(reason: str) -> str:
    """Why a move was refused, for the operator."""
    return {
        "past": _("This start is in the past."),
        "overlap": _("This session would overlap another booking."),
        "taken": _("This session would overlap another booking."),
        "stale": _("The booking was changed in the meantime. Please check the time and try again."),
        "not_movable": _("This booking can no longer be moved: the session has begun or is over."),
        "same": _("The booking already starts at this time."),
        "nonexistent": _("This local time does not exist (the clocks go forward then)."),
    }.get(reason, _("Please check your input and try again."))


@bp.route("/bookings/<int:booking_id>/move", methods=["GET", "POST"])
def move(booking_id):
    """Move a booking: pick the new date and time, confirm, done (same booking, invite updated)."""
    booking = _booking_or_404(booking_id)
    if request.method == "GET":
        local = booking.start_at.astimezone(practice_zone())
        form = MoveForm(formdata=None, day=local.date(), start_time=local.time().replace(second=0, microsecond=0),
                        expected_start=format_slot_key(booking.start_at))
        return _move_page(booking, form)
    form = MoveForm()
    if not form.validate():
        return _move_page(booking, form, status=400)
    expected = parse_slot_key(form.expected_start.data or "")
    try:
        new_start = start_from_local(form.day.data, form.start_time.data)
    except BadStart:
        form.start_time.errors.append(_move_error("nonexistent"))
        return _move_page(booking, form, status=400)
    if form.confirm.data != "yes":
        # The confirmation step: check now what would be refused, change nothing yet.
        problem = _move_problem(booking, new_start, expected)
        if problem:
            form.start_time.errors.append(_move_error(problem))
            return _move_page(booking, form, status=409 if problem in ("overlap", "stale") else 400)
        return _move_page(booking, form, new_start=new_start)
    try:
        move_booking(booking, new_start, actor=Actor.OPERATOR, expected_start=expected)
        db.session.commit()
    except (MoveRefused, operations.SlotTaken, operations.SlotUnavailable) as exc:
        db.session.rollback()
        booking = _booking_or_404(booking_id)
        form.start_time.errors.append(_move_error(exc.reason))
        form.confirm.data = ""
        return _move_page(booking, form, status=409 if exc.reason in ("overlap", "taken", "stale") else 400)
    flash(_("Booking %(ref)s has been moved; the client receives the updated invite.", ref=booking.ref), "success")
    return redirect(url_for("sessions.panel", booking_id=booking.id), code=303)


def _move_problem(booking, new_start, expected) -> str | None:
    """What the move would be refused with now (nothing is changed by asking)."""
    try:
        check_move(booking, new_start, actor=Actor.OPERATOR, expected_start=expected)
    except (MoveRefused, operations.SlotTaken, operations.SlotUnavailable) as exc:
        return exc.reason
    return None


def _move_page(booking, form, status=200, new_start=None):
    return render_template("operator/move.html", booking=booking, form=form, new_start=new_start,
                           movable=can_move(booking)), status


@bp.route("/bookings/<int:booking_id>/refunded", methods=["POST"])
def refunded(booking_id):
    """Record that the refund due for a cancelled booking has been paid out."""
    booking = _booking_or_404(booking_id)
    if not ActionForm().validate():
        abort(400)
    try:
        mark_refunded(booking, actor=Actor.OPERATOR)
        db.session.commit()
    except RefundError:
        db.session.rollback()
        flash(_("No refund is due for booking %(ref)s.", ref=booking.ref), "error")
        return redirect(_back(booking), code=303)
    flash(_("Refund for booking %(ref)s recorded as paid out.", ref=booking.ref), "success")
    return redirect(_back(booking), code=303)


def _back(booking) -> str:
    """Return to the page the button was on: the session page, or the dashboard."""
    if request.form.get("back") == "session":
        return url_for("sessions.panel", booking_id=booking.id)
    return url_for(".dashboard")


@bp.route("/messages/<int:message_id>/read", methods=["POST"])
def message_read(message_id):
    message = db.session.get(ContactMessage, message_id)
    if message is None:
        abort(404)
    if not ActionForm().validate():
        abort(400)
    if message.read_at is None:
        message.read_at = clock.now()
        db.session.commit()
    if request.form.get("back") == "messages":
        return redirect(url_for(".messages"), code=303)
    return redirect(url_for(".dashboard") + "#messages", code=303)


@bp.route("/messages")
def messages():
    rows = db.session.scalars(
        select(ContactMessage).where(ContactMessage.anonymised_at.is_(None))
        .order_by(ContactMessage.received_at.desc()).limit(200)
    ).all()
    return render_template("operator/messages.html", messages=rows, action_form=ActionForm())


@bp.route("/calendar-feed", methods=["POST"])
def regenerate_feed():
    """Issue a new private feed address; the old one stops working at once."""

    if not ActionForm().validate():
        abort(400)
    feed.regenerate_token()
    db.session.commit()
    flash(_("A new calendar address has been created. Subscribe to it again; the old one no longer works."),
          "success")
    return redirect(url_for(".dashboard") + "#calendar-feed", code=303)
