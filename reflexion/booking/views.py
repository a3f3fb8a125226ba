"""Public booking pages: week grid of free slots, booking form, the client's booking page."""
from datetime import date, timedelta

from flask import Blueprint, abort, current_app, g, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_limiter.util import get_remote_address

from reflexion import clock
from reflexion.availability import slots
from reflexion.booking import access, codes, operations, rules
from reflexion.booking.cancellation import can_cancel, cancel_booking
from reflexion.booking.changes import MoveRefused, client_change_refusal, move_booking, reschedules_left
from reflexion.booking.forms import AccessKeyForm, BookingForm, LostKeyForm, NewKeyForm, RescheduleForm
from reflexion.booking.refunds import refund_cents_for
from reflexion.booking.payments import shown_confirmation_code
from reflexion.booking.states import Actor, IllegalTransition
from reflexion.booking.withdrawal import withdrawal_last_day, withdrawal_open
from reflexion.calendar.invite import external_url
from reflexion.calendar.links import calendar_links
from reflexion.db import abandon
from reflexion.extensions import htmx, limiter
from reflexion.i18n import practice_zone
from reflexion.mail.notify import access_key_link_requested
from reflexion.payments.stripe_checkout import CheckoutUnavailable, can_pay_online, enabled as online_payment_enabled
from reflexion.payments.stripe_checkout import start_checkout
from reflexion.conversations.deadlines import change_cutoff

bp = Blueprint("booking", __name__, url_prefix="/<lang>")

SESSION_ACCESS = "booking_access"
SESSION_NEW = "new_booking"
#: The booking this browser just moved: its page says so once.
SESSION_MOVED = "moved_booking"


def _horizon_monday(now) -> date:
    """The Monday of the last week that can hold a bookable time."""
    return slots.monday_of(rules.latest_bookable(now).astimezone(practice_zone()).date())


def _week_start(text: str | None) -> date:
    """The week asked for, from this week on; a week beyond the booking horizon is not found."""
    now = clock.now()
    this_monday = slots.monday_of(now.astimezone(practice_zone()).date())
    if text:
        try:
            wanted = slots.monday_of(date.fromisoformat(text))
        except (ValueError, OverflowError):
            abort(404)
        if wanted > _horizon_monday(now):
            abort(404)  # beyond the booking horizon (and far from the end of the calendar)
        return max(wanted, this_monday)
    return this_monday


def _week_context(monday: date) -> dict:
    zone = practice_zone()
    now = clock.now()
    days = slots.week_days(monday)
    free = slots.free_slots(days[0], days[-1], now, zone)
    by_day = {day: [] for day in days}
    for slot in free:
        by_day.setdefault(slot.start.astimezone(zone).date(), []).append(slot)
    horizon_end = rules.latest_bookable(now).astimezone(zone).date()
    this_monday = slots.monday_of(now.astimezone(zone).date())
    next_free = None
    if not free and days[-1] < horizon_end:
        later = slots.free_slots(days[-1] + timedelta(days=1), horizon_end, now, zone)
        next_free = later[0] if later else None
    return {
        "has_free": bool(free),
        "next_free": next_free,
        "next_free_week": slots.monday_of(next_free.start.astimezone(zone).date()) if next_free else None,
        "monday": monday,
        "days": days,
        "by_day": by_day,
        "prev_week": monday - timedelta(days=7) if monday > this_monday else None,
        "next_week": monday + timedelta(days=7) if monday < _horizon_monday(now) else None,
        "today": now.astimezone(zone).date(),
        # The pattern, filled in per slot by the template (gettext without variables returns it raw).
        "book_label": _("Book %(when)s"),
    }


@bp.route("/book")
def calendar():
    context = _week_context(_week_start(request.args.get("week")))
    if htmx:
        response = render_template("booking/_week.html", **context)
    else:
        response = render_template("booking/calendar.html", **context)
    response = current_app.make_response(response)
    response.vary.add("HX-Request")
    return response


def _other_slots(around, limit=6):
    zone = practice_zone()
    now = clock.now()
    first = max(around.astimezone(zone).date(), now.astimezone(zone).date())
    return slots.free_slots(first, first + timedelta(days=14), now, zone)[:limit]


def _own_booking_at(start):
    """The live booking this browser session made (or opened) for ``start``, if any."""
    refs = session.get(SESSION_ACCESS, [])
    if not refs:
        return None
    booking = operations.live_booking_at(start)
    return booking if booking is not None and booking.ref in refs else None


def _unavailable(start, reason):
    """The page for a time that cannot be booked, with the real reason.

    409 taken, 404 beyond the horizon (not found, as the week grid says too), else 410 (gone).

    A client who presses Back after booking reaches the form of their own time again: send
    them to their booking instead of telling them someone else took it.
    """
    if reason == "taken":
        own = _own_booking_at(start)
        if own is not None:
            new = session.get(SESSION_NEW)
            endpoint = ".created" if new and new.get("ref") == own.ref else ".booking_page"
            return redirect(url_for(endpoint, ref=own.ref), code=303)
    return render_template("booking/unavailable.html", start=start, other_slots=_other_slots(start),
                           reason=reason), {"taken": 409, "too_far": 404}.get(reason, 410)


@bp.route("/book/<slot>", methods=["GET", "POST"])
@limiter.limit("20 per minute", methods=["POST"])
def book(slot):
    start = slots.parse_slot_key(slot)
    now = clock.now()
    # Bounded before any date arithmetic (near year 1 or 9999 it overflows): unreadable or far
    # beyond the horizon is plainly not found; just beyond it, the page says so (also a 404).
    if start is None or start > rules.latest_bookable(now) + timedelta(days=366):
        abort(404)
    zone = practice_zone()
    form = BookingForm()
    reason = slots.unavailable_reason(start, now, zone)
    if reason is not None:
        return _unavailable(start, reason)
    form_page = dict(form=form, start=start, end=slots.session_end(start),
                     early_start_needed=operations.needs_early_start_request(start, now))
    if request.method == "POST":
        if not form.validate():
            return render_template("booking/form.html", **form_page), 400
        try:
            new = operations.book_slot(
                start, name=form.name.data, email=form.email.data,
                call_handle=form.call_handle.data, lang=g.lang,
                accepted_terms=form.accept_terms.data, early_start_requested=form.early_start.data,
                call_platform=form.call_platform.data,
            )
        except operations.EarlyStartNotRequested:
            form.early_start.errors.append(_("This session begins within the 14-day withdrawal period. "
                                             "Please confirm that you want it to take place then."))
            return render_template("booking/form.html", **dict(form_page, early_start_needed=True)), 400
        except operations.InvalidCallHandle as exc:  # the form checks the same rule: a changed setting
            form.call_handle.errors.append(exc.message)
            return render_template("booking/form.html", **form_page), 400
        except operations.SlotTaken:
            return _unavailable(start, "taken")
        except operations.SlotUnavailable as exc:
            return _unavailable(start, exc.reason)
        _keep_key_on_display(new.booking.ref, new.access_key)
        return redirect(url_for(".created", ref=new.booking.ref), code=303)
    if slots.overlapping_bookings(start, slots.session_end(start)):
        return _unavailable(start, "taken")
    response = current_app.make_response(render_template("booking/form.html", **form_page))
    # Back after booking must ask the server again, which recognises the client's own booking.
    response.headers["Cache-Control"] = "no-store"
    return response


def _grant_access(ref):
    refs = [r for r in session.get(SESSION_ACCESS, []) if r != ref][-9:]
    session[SESSION_ACCESS] = refs + [ref]


def _has_access(ref) -> bool:
    return ref in session.get(SESSION_ACCESS, [])


def _keep_key_on_display(ref, access_key):
    """Open the booking in this browser session and show its key here for a while (encrypted in the cookie)."""
    session[SESSION_NEW] = {"ref": ref, "key": access.seal_for_display(access_key)}
    _grant_access(ref)


def _key_on_display(ref) -> str | None:
    new = session.get(SESSION_NEW)
    if not new or new.get("ref") != ref:
        return None
    key = access.unseal_for_display(new.get("key"))
    if key is None:
        session.pop(SESSION_NEW, None)
    return key


@bp.route("/booking/<ref>/created")
def created(ref):
    """Show the booking data right after booking, for a while in this browser session."""
    booking = operations.find_by_reference(ref)
    if booking is None or not _has_access(booking.ref):
        abort(404)
    response = current_app.make_response(render_template(
        "booking/created.html", booking=booking, access_key=_key_on_display(booking.ref),
        shown_minutes=access.shown_minutes()))
    response.headers["Cache-Control"] = "no-store"
    return response


LOST_KEY_LIMIT = "5 per hour"


@bp.route("/booking/<ref>/lost-key", methods=["GET", "POST"])
@limiter.limit(LOST_KEY_LIMIT, methods=["POST"])
def lost_key(ref):
    """Lost your access key? The answer is the same whether or not reference and address match."""

    form = LostKeyForm()
    if request.method == "POST":
        if not form.validate():
            return render_template("booking/lost_key.html", form=form, ref=ref), 400
        booking = access.matching_booking(ref, form.email.data)
        if booking is not None:
            access_key_link_requested(booking, g.lang)
        return render_template("booking/lost_key.html", form=form, ref=ref, sent=True)
    return render_template("booking/lost_key.html", form=form, ref=ref)


@bp.route("/booking/<ref>/new-key/<token>", methods=["GET", "POST"])
@limiter.limit("10 per minute", methods=["POST"])
def new_key(ref, token):
    """The link from the e-mail: confirm, get a new access key; the old one stops working."""
    booking = access.booking_for_token(token)
    if booking is None or booking.ref != codes.normalise_reference(ref):
        return render_template("booking/new_key.html", ref=ref, form=None), 410
    form = NewKeyForm()
    if request.method == "POST" and form.validate():
        key = access.renew_access_key(booking)
        _keep_key_on_display(booking.ref, key)
        return redirect(url_for(".created", ref=booking.ref), code=303)
    return render_template("booking/new_key.html", ref=booking.ref, form=form)


@bp.route("/booking/<ref>", methods=["GET", "POST"])
@limiter.limit("10 per minute", methods=["POST"])
def booking_page(ref):
    form = AccessKeyForm()
    booking = operations.find_by_reference(ref)
    if booking is not None and _has_access(booking.ref):
        return _show(booking)
    if request.method == "POST":
        if form.validate():
            try:
                opened = access.open_with_access_key(ref, form.access_key.data, get_remote_address())
            except access.TooManyAttempts:
                form.access_key.errors.append(_("Too many wrong access keys were tried for this booking or from your "
                                                "connection. Please wait a few minutes, or use “Lost your access key?”."))
                return render_template("booking/access.html", form=form, ref=ref), 429
            if opened is not None:
                _grant_access(opened.ref)
                return redirect(url_for(".booking_page", ref=opened.ref), code=303)
            form.access_key.errors.append(_("This reference and access key do not match a booking."))
            return render_template("booking/access.html", form=form, ref=ref), 403
        return render_template("booking/access.html", form=form, ref=ref), 400
    return render_template("booking/access.html", form=form, ref=ref)


def _show(booking, status=200, error=None):
    """The client's booking page; the confirmation data appear once the fee is confirmed."""
    now = clock.now()
    paid = booking.state != "awaiting_payment"
    cancellable = can_cancel(booking, Actor.CLIENT)
    response = current_app.make_response((render_template(
        "booking/show.html", booking=booking, confirmation_code=shown_confirmation_code(booking),
        calendar_links=calendar_links, access_key=_key_on_display(booking.ref),
        can_cancel=cancellable, error=error,
        change_refusal=client_change_refusal(booking, now), reschedules_left=reschedules_left(booking),
        change_cutoff=change_cutoff(booking),
        refund_if_cancelled=(refund_cents_for(booking, Actor.CLIENT, now) if cancellable and paid else None),
        just_moved=session.pop(SESSION_MOVED, None) == booking.ref,
        can_withdraw=withdrawal_open(booking, now), withdrawal_last_day=withdrawal_last_day(booking),
    ), status))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/booking/<ref>/cancel", methods=["POST"])
@limiter.limit("10 per minute")
def cancel(ref):
    """The client cancels their booking (unpaid at any time; paid until the start, refund per policy)."""

    booking = operations.find_by_reference(ref)
    if booking is None or not _has_access(booking.ref):
        abort(404)
    expected = slots.parse_slot_key(request.form.get("expected_start", ""))
    if expected is not None and expected != booking.start_at:
        return _show(booking, 409, _("Your booking was changed in the meantime; nothing was cancelled. "
                                     "Please check it and try again."))
    try:
        cancel_booking(booking, actor=Actor.CLIENT)
    except IllegalTransition:
        booking = operations.find_by_reference(ref)  # its state is re-read: someone else moved it
        return _show(booking, 409, _("This booking can no longer be cancelled here. "
                                     "Please contact us if you need to change it."))
    return redirect(url_for(".booking_page", ref=booking.ref), code=303)


@bp.route("/booking/<ref>/pay-online", methods=["POST"])
@limiter.limit("10 per minute")
def pay_online(ref):
    """"Pay online": start a Stripe Checkout Session and send the client there (303).

    Coming back (``?online=done``) confirms nothing: Stripe's signed webhook does.
    """
    if not online_payment_enabled():
        abort(404)
    booking, refused = _own_booking_or_refuse(ref)
    if refused:
        return refused
    if not can_pay_online(booking):
        return _show(booking, 409, _("This booking cannot be paid online (any more)."))
    back = dict(ref=booking.ref, lang=g.lang)
    try:
        url = start_checkout(booking, g.lang, success_url=external_url("booking.booking_page", online="done", **back),
                             cancel_url=external_url("booking.booking_page", online="cancelled", **back))
    except CheckoutUnavailable:
        return _show(booking, 503, _("Online payment is not available at the moment. Please try again in a few "
                                     "minutes, or pay by bank transfer as shown below."))
    return redirect(url, code=303)


# -- the client reschedules --------------------------------------------------------------

def _own_booking_or_refuse(ref):
    """The booking this browser opened with its access key; otherwise the access-key page (403)."""
    booking = operations.find_by_reference(ref)
    if booking is None or not _has_access(booking.ref):
        return None, (render_template("booking/access.html", form=AccessKeyForm(formdata=None), ref=ref), 403)
    return booking, None


def _reschedule_closed(booking, reason):
    """Why the client cannot move the booking themselves now, and how to reach the practice."""
    return render_template("booking/reschedule_closed.html", booking=booking, reason=reason,
                           change_cutoff=change_cutoff(booking)), 409 if reason in ("cutoff", "limit") else 410


@bp.route("/booking/<ref>/reschedule")
def reschedule(ref):
    """The week grid of free times, in reschedule mode: picking one leads to a confirmation."""
    booking, refused = _own_booking_or_refuse(ref)
    if refused:
        return refused
    reason = client_change_refusal(booking, clock.now())
    if reason:
        return _reschedule_closed(booking, reason)
    context = _week_context(_week_start(request.args.get("week")))
    template = "booking/_week.html" if htmx else "booking/reschedule.html"
    response = current_app.make_response(render_template(
        template, booking=booking, reschedule_ref=booking.ref, reschedules_left=reschedules_left(booking),
        change_cutoff=change_cutoff(booking), **context))
    response.vary.add("HX-Request")
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/booking/<ref>/reschedule/<slot>", methods=["GET", "POST"])
@limiter.limit("10 per minute", methods=["POST"])
def reschedule_slot(ref, slot):
    """Confirm the new time (GET), then move the booking to it (POST): same booking, new time."""
    booking, refused = _own_booking_or_refuse(ref)
    if refused:
        return refused
    start = slots.parse_slot_key(slot)
    now = clock.now()
    if start is None or start > rules.latest_bookable(now) + timedelta(days=366):
        abort(404)
    reason = client_change_refusal(booking, now)
    if reason:
        return _reschedule_closed(booking, reason)
    form = RescheduleForm()
    if request.method == "POST":
        if not form.validate():
            abort(400)
        expected = slots.parse_slot_key(form.expected_start.data or "")
        if expected is None:
            abort(400)
        try:
            move_booking(booking, start, actor=Actor.CLIENT, expected_start=expected)
        except operations.SlotTaken:
            abandon()  # the refusal pages read the booking as it is now
            return _reschedule_unavailable(booking, start, "taken")
        except operations.SlotUnavailable as exc:
            abandon()
            return _reschedule_unavailable(booking, start, exc.reason)
        except MoveRefused as exc:
            abandon()
            booking = operations.find_by_reference(ref)
            if exc.reason in ("cutoff", "limit", "not_movable"):
                return _reschedule_closed(booking, exc.reason)
            if exc.reason == "same":
                return _show(booking, 409, _("Your booking already has this time."))
            return _show(booking, 409, _("Your booking was changed in the meantime, so it was not moved. "
                                         "Please check the time shown here and choose again."))
        session[SESSION_MOVED] = booking.ref
        return redirect(url_for(".booking_page", ref=booking.ref), code=303)
    slot_reason = slots.unavailable_reason(start, now, practice_zone())
    if slot_reason is not None:
        return _reschedule_unavailable(booking, start, slot_reason)
    if slots.overlapping_bookings(start, start + (booking.end_at - booking.start_at), exclude_id=booking.id):
        return _reschedule_unavailable(booking, start, "taken")
    form.expected_start.data = slots.format_slot_key(booking.start_at)
    response = current_app.make_response(render_template(
        "booking/reschedule_confirm.html", booking=booking, form=form, start=start,
        end=start + (booking.end_at - booking.start_at)))
    response.headers["Cache-Control"] = "no-store"
    return response


def _reschedule_unavailable(booking, start, reason):
    """The "just taken" (or not offered) page, with other free times to move to; the old time stays."""
    return render_template("booking/unavailable.html", start=start, other_slots=_other_slots(start),
                           reason=reason, reschedule_booking=booking), {"taken": 409, "too_far": 404}.get(reason, 410)
