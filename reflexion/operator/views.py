"""Operator panel: login, dashboard, bookings made by the operator, payments, messages, feed."""
from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from reflexion import clock
from reflexion.availability.views import bp as availability_bp
from reflexion.booking import operations
from reflexion.booking.cancellation import cancel_booking
from reflexion.booking.changes import MoveRefused, can_move, check_move, move_booking
from reflexion.booking.refunds import RefundError, mark_refunded, refund_due_bookings
from reflexion.booking.models import Booking
from reflexion.booking.payments import PaymentError, confirm_payment
from reflexion.booking.states import Actor, IllegalTransition
from reflexion.booking.withdrawal import outcome_labels as withdrawal_outcome_labels, recent_declarations
from reflexion.db import abandon, discard_changes, keep_changes
from reflexion.calendar import feed
from reflexion.extensions import db, limiter
from reflexion.operator import dashboard as board
from reflexion.operator import two_factor
from reflexion.operator.auth import (
    PENDING_LOGIN,
    PasswordRefused,
    authenticate,
    begin_pending_login,
    change_password,
    guard_operator_request,
    keep_this_session,
    pending_operator,
    revoke_sessions,
    safe_next,
    start_operator_session,
)
from reflexion.operator.bookings import BadStart, book_by_operator, start_from_local
from reflexion.availability.slots import format_slot_key, parse_slot_key
from reflexion.i18n import practice_zone
from reflexion.operator.forms import (
    ActionForm,
    CancelForm,
    LoginCodeForm,
    LoginForm,
    MarkPaidForm,
    MoveForm,
    OperatorBookingForm,
    PasswordChangeForm,
    PasswordConfirmForm,
    TwoFactorConfirmForm,
)
from reflexion.operator.models import Operator
from reflexion.pages.models import ContactMessage
from reflexion.pages.operations import mark_read
from reflexion.settings.views import bp as settings_bp
from reflexion.payments.stripe_checkout import checkouts_needing_attention
from reflexion.payments.views import bp as payments_bp

bp = Blueprint("operator", __name__, url_prefix="/operator")
#: Booking data of a booking just made in the panel, shown once on its session page.
NEW_BOOKING = "operator_new_booking"


@bp.before_request
def operator_only():
    return guard_operator_request()


def _register_nested():
    bp.register_blueprint(availability_bp)
    bp.register_blueprint(settings_bp)
    bp.register_blueprint(payments_bp)


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
                target = safe_next(request.args.get("next")) or url_for(".dashboard")
                if operator.has_two_factor:
                    begin_pending_login(operator, target)
                    return redirect(url_for(".login_code"), code=303)
                _log_in(operator)
                return redirect(target, code=303)
            form.password.errors.append(_("E-mail address or password is wrong."))
            return render_template("operator/login.html", form=form), 401
        return render_template("operator/login.html", form=form), 400
    return render_template("operator/login.html", form=form)


def _log_in(operator):
    session.clear()
    login_user(operator)
    # A browser-session cookie: closing the browser ends it. The hard limit from
    # login is kept server-side (session_expired), the signature's age limit too.
    session.permanent = False
    start_operator_session(operator)


@bp.route("/login/code", methods=["GET", "POST"])
@limiter.limit("10 per minute; 50 per hour", methods=["POST"], deduct_when=lambda response: response.status_code >= 400)
def login_code():
    """The second step of a login to an account with a second factor."""
    operator = pending_operator()
    if operator is None:
        session.pop(PENDING_LOGIN, None)
        flash(_("Please log in again: the code step waits only a few minutes after the password."), "info")
        return redirect(url_for(".login"), code=303)
    form = LoginCodeForm()
    if request.method == "GET":
        return render_template("operator/login_code.html", form=form)
    if not form.validate():
        return render_template("operator/login_code.html", form=form), 400
    try:
        used = two_factor.check_login_code(operator, form.code.data)
    except two_factor.CodeRefused as refused:
        keep_changes()  # a wrong code counts, also when refused
        if refused.locked:
            form.code.errors.append(_("Too many wrong codes: the code step of this account is locked for %(minutes)d minutes.",
                                      minutes=two_factor.LOCK_MINUTES))
            return render_template("operator/login_code.html", form=form), 429
        form.code.errors.append(_("This code is wrong or has already been used."))
        return render_template("operator/login_code.html", form=form), 401
    target = session[PENDING_LOGIN].get("next") or url_for(".dashboard")
    _log_in(operator)
    if used == "recovery":
        flash(_("You logged in with a recovery code; %(count)d are left. Create new ones on the account page if needed.",
                count=two_factor.recovery_codes_left(operator)), "info")
    return redirect(safe_next(target) or url_for(".dashboard"), code=303)


@bp.route("/logout", methods=["POST"])
def logout():
    if current_user.is_authenticated:
        revoke_sessions(current_user.id)  # a copy of this cookie must not work either
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
        online_attention=checkouts_needing_attention(),
        withdrawals=recent_declarations(20),
        withdrawal_outcomes=withdrawal_outcome_labels(),
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
    return redirect(url_for("conversations.panel", booking_id=booking.id), code=303)


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
                               call_platform=form.call_platform.data,
                               paid=form.paid.data, method=form.method.data)
    except BadStart:
        form.start_time.errors.append(_("This local time does not exist (the clocks go forward then)."))
        return render_template("operator/booking_form.html", form=form), 400
    except operations.InvalidCallHandle as exc:
        form.call_handle.errors.append(exc.message)
        return render_template("operator/booking_form.html", form=form), 400
    except operations.SlotUnavailable:
        form.start_time.errors.append(_("This start is in the past."))
        return render_template("operator/booking_form.html", form=form), 400
    except operations.SlotTaken:
        form.start_time.errors.append(_("This session would overlap another booking (including the break between sessions)."))
        return render_template("operator/booking_form.html", form=form), 409
    session[NEW_BOOKING] = {"id": new.booking.id, "ref": new.booking.ref, "key": new.access_key}
    flash(_("Booking %(ref)s has been made.", ref=new.booking.ref), "success")
    return redirect(url_for("conversations.panel", booking_id=new.booking.id), code=303)


@bp.route("/bookings/<int:booking_id>/mark-paid", methods=["POST"])
def mark_paid(booking_id):
    booking = _booking_or_404(booking_id)
    form = MarkPaidForm()
    if not form.validate():
        abort(400)
    try:
        confirm_payment(booking, actor=Actor.OPERATOR, method=form.method.data)
    except (IllegalTransition, PaymentError):
        discard_changes()
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
        cancel_booking(booking, actor=Actor.OPERATOR, note=form.note.data or None)
    except IllegalTransition:
        discard_changes()
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
    except (MoveRefused, operations.SlotTaken, operations.SlotUnavailable) as exc:
        abandon()  # read the booking as it is now for the refusal page
        booking = _booking_or_404(booking_id)
        form.start_time.errors.append(_move_error(exc.reason))
        form.confirm.data = ""
        return _move_page(booking, form, status=409 if exc.reason in ("overlap", "taken", "stale") else 400)
    flash(_("Booking %(ref)s has been moved; the client receives the updated invite.", ref=booking.ref), "success")
    return redirect(url_for("conversations.panel", booking_id=booking.id), code=303)


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
    except RefundError:
        discard_changes()
        flash(_("No refund is due for booking %(ref)s.", ref=booking.ref), "error")
        return redirect(_back(booking), code=303)
    flash(_("Refund for booking %(ref)s recorded as paid out.", ref=booking.ref), "success")
    return redirect(_back(booking), code=303)


def _back(booking) -> str:
    """Return to the page the button was on: the session page, or the dashboard."""
    if request.form.get("back") == "session":
        return url_for("conversations.panel", booking_id=booking.id)
    return url_for(".dashboard")


@bp.route("/messages/<int:message_id>/read", methods=["POST"])
def message_read(message_id):
    message = db.session.get(ContactMessage, message_id)
    if message is None:
        abort(404)
    if not ActionForm().validate():
        abort(400)
    mark_read(message)
    if request.form.get("back") == "messages":
        return redirect(url_for(".messages"), code=303)
    return redirect(url_for(".dashboard") + "#messages", code=303)


@bp.route("/messages")
def messages():
    return render_template("operator/messages.html", messages=board.recent_messages(limit=200),
                           action_form=ActionForm())


@bp.route("/calendar-feed", methods=["POST"])
def regenerate_feed():
    """Issue a new private feed address; the old one stops working at once."""
    if not ActionForm().validate():
        abort(400)
    feed.regenerate_token()
    return _back_to_feed(_("A new calendar address has been created. Subscribe to it again; the old one no "
                           "longer works."))


@bp.route("/calendar-feed/off", methods=["POST"])
def switch_off_feed():
    """Switch the private feed off (a lost phone, a calendar no longer used): no address works."""
    if not ActionForm().validate():
        abort(400)
    feed.revoke_tokens()
    return _back_to_feed(_("The calendar address is switched off; calendars subscribed to it no longer get your "
                           "sessions."))


def _back_to_feed(message):
    flash(message, "success")
    return redirect(url_for(".dashboard") + "#calendar-feed", code=303)


# The operator's own account: password, second factor, sessions.

def _account() -> Operator:
    return db.session.get(Operator, current_user.id)


def _account_page(status=200, **forms):
    operator = _account()
    secret = two_factor.pending_secret(operator) if not operator.has_two_factor else None
    context = {
        "operator": operator,
        "password_form": forms.get("password_form") or PasswordChangeForm(),
        "confirm_form": forms.get("confirm_form") or TwoFactorConfirmForm(),
        "disable_form": forms.get("disable_form") or PasswordConfirmForm(prefix="disable"),
        "codes_form": forms.get("codes_form") or PasswordConfirmForm(prefix="codes"),
        "action_form": ActionForm(),
        "pending_secret": secret,
        "pending_qr": two_factor.qr_svg(two_factor.provisioning_uri(operator, secret)) if secret else None,
        "codes_left": two_factor.recovery_codes_left(operator),
        "recovery_codes": forms.get("recovery_codes"),
    }
    response = current_app.make_response((render_template("operator/account.html", **context), status))
    response.headers["Cache-Control"] = "no-store"  # a pending secret or recovery codes may be on it
    return response


@bp.route("/account")
def account():
    return _account_page()


@bp.route("/account/password", methods=["POST"])
def account_password():
    form = PasswordChangeForm()
    if not form.validate():
        return _account_page(400, password_form=form)
    operator = _account()
    try:
        change_password(operator, form.current.data, form.new.data, form.repeated.data)
    except PasswordRefused as refused:
        form.new.errors.append(str(refused))
        return _account_page(400, password_form=form)
    keep_this_session(operator)
    flash(_("Your password has been changed. Every other browser logged in to this account has been logged out."),
          "success")
    return redirect(url_for(".account"), code=303)


@bp.route("/account/two-factor/setup", methods=["POST"])
def account_two_factor_setup():
    if not ActionForm().validate():
        abort(400)
    operator = _account()
    if operator.has_two_factor:
        flash(_("Two-factor login is already set up."), "info")
        return redirect(url_for(".account"), code=303)
    two_factor.begin_setup(operator)
    return redirect(url_for(".account") + "#two-factor", code=303)


@bp.route("/account/two-factor/confirm", methods=["POST"])
def account_two_factor_confirm():
    form = TwoFactorConfirmForm()
    if not form.validate():
        return _account_page(400, confirm_form=form)
    operator = _account()
    try:
        codes = two_factor.confirm_setup(operator, form.code.data)
    except two_factor.CodeRefused:
        form.code.errors.append(_("This code does not fit. Check that your phone's clock is right and enter the code shown now."))
        return _account_page(400, confirm_form=form)
    revoke_sessions(operator.id)  # a session opened without the second factor must not outlive it
    db.session.refresh(operator)
    keep_this_session(operator)
    flash(_("Two-factor login is set up. From now on every login asks for a code."), "success")
    return _account_page(recovery_codes=codes)


@bp.route("/account/two-factor/recovery-codes", methods=["POST"])
def account_recovery_codes():
    form = PasswordConfirmForm(prefix="codes")
    operator = _account()
    if not form.validate() or not operator.has_two_factor:
        return _account_page(400, codes_form=form)
    if not operator.check_password(form.password.data):
        form.password.errors.append(_("The password is wrong."))
        return _account_page(400, codes_form=form)
    codes = two_factor.new_recovery_codes(operator)
    flash(_("New recovery codes have been created; the old ones no longer work."), "success")
    return _account_page(recovery_codes=codes)


@bp.route("/account/two-factor/disable", methods=["POST"])
def account_two_factor_disable():
    form = PasswordConfirmForm(prefix="disable")
    operator = _account()
    if not form.validate():
        return _account_page(400, disable_form=form)
    if not operator.check_password(form.password.data):
        form.password.errors.append(_("The password is wrong."))
        return _account_page(400, disable_form=form)
    two_factor.disable(operator)
    flash(_("Two-factor login is switched off for this account."), "info")
    return redirect(url_for(".account"), code=303)


@bp.route("/account/logout-everywhere", methods=["POST"])
def logout_everywhere():
    if not ActionForm().validate():
        abort(400)
    revoke_sessions(current_user.id)
    logout_user()
    session.clear()
    flash(_("You have been logged out in every browser."), "info")
    return redirect(url_for(".login"), code=303)
