"""Public booking pages: week grid of free slots, booking form, the client's booking page."""
from datetime import date, timedelta

from flask import Blueprint, abort, current_app, g, redirect, render_template, request, session, url_for
from flask_babel import gettext as _

from reflexion import clock
from reflexion.availability import slots as slot_rules
from reflexion.booking import operations
from reflexion.booking.cancellation import can_cancel, cancel_booking
from reflexion.booking.forms import AccessKeyForm, BookingForm
from reflexion.booking.payments import shown_confirmation_code
from reflexion.booking.states import Actor, IllegalTransition
from reflexion.extensions import db, htmx, limiter
from reflexion.i18n import practice_zone

bp = Blueprint("booking", __name__, url_prefix="/<lang>")

SESSION_ACCESS = "booking_access"
SESSION_NEW = "new_booking"


def _week_start(text: str | None) -> date:
    today = clock.now().astimezone(practice_zone()).date()
    this_monday = slot_rules.monday_of(today)
    if text:
        try:
            wanted = slot_rules.monday_of(date.fromisoformat(text))
        except ValueError:
            abort(404)
        return max(wanted, this_monday)
    return this_monday


def _week_context(monday: date) -> dict:
    zone = practice_zone()
    now = clock.now()
    days = slot_rules.week_days(monday)
    free = slot_rules.free_slots(days[0], days[-1], now, zone)
    by_day = {day: [] for day in days}
    for slot in free:
        by_day.setdefault(slot.start.astimezone(zone).date(), []).append(slot)
    horizon_end = (now + timedelta(days=current_app.config["HORIZON_DAYS"])).astimezone(zone).date()
    this_monday = slot_rules.monday_of(now.astimezone(zone).date())
    next_free = None
    if not free and days[-1] < horizon_end:
        later = slot_rules.free_slots(days[-1] + timedelta(days=1), horizon_end, now, zone)
        next_free = later[0] if later else None
    return {
        "has_free": bool(free),
        "next_free": next_free,
        "next_free_week": slot_rules.monday_of(next_free.start.astimezone(zone).date()) if next_free else None,
        "monday": monday,
        "days": days,
        "by_day": by_day,
        "prev_week": monday - timedelta(days=7) if monday > this_monday else None,
        "next_week": monday + timedelta(days=7) if monday + timedelta(days=7) <= horizon_end else None,
        "today": now.astimezone(zone).date(),
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
    return slot_rules.free_slots(first, first + timedelta(days=14), now, zone)[:limit]


@bp.route("/book/<slot>", methods=["GET", "POST"])
@limiter.limit("20 per minute", methods=["POST"])
def book(slot):
    start = slot_rules.parse_slot_key(slot)
    if start is None:
        abort(404)
    zone = practice_zone()
    form = BookingForm()
    if not slot_rules.is_offered(start, clock.now(), zone):
        return render_template("booking/unavailable.html", start=start,
                               other_slots=_other_slots(start), reason="not_offered"), 410
    if request.method == "POST":
        if not form.validate():
            return render_template("booking/form.html", form=form, start=start,
                                   end=slot_rules.session_end(start)), 400
        try:
            new = operations.book_slot(
                start, name=form.name.data, email=form.email.data,
                call_handle=form.call_handle.data, lang=g.lang,
                accepted_terms=form.accept_terms.data,
            )
            db.session.commit()
        except operations.SlotTaken:
            db.session.rollback()
            return render_template("booking/unavailable.html", start=start,
                                   other_slots=_other_slots(start), reason="taken"), 409
        except operations.SlotUnavailable:
            db.session.rollback()
            return render_template("booking/unavailable.html", start=start,
                                   other_slots=_other_slots(start), reason="not_offered"), 410
        session[SESSION_NEW] = {"ref": new.booking.ref, "key": new.access_key}
        _grant_access(new.booking.ref)
        return redirect(url_for(".created", ref=new.booking.ref), code=303)
    if slot_rules.overlapping_bookings(start, slot_rules.session_end(start)):
        return render_template("booking/unavailable.html", start=start,
                               other_slots=_other_slots(start), reason="taken"), 409
    return render_template("booking/form.html", form=form, start=start, end=slot_rules.session_end(start))


def _grant_access(ref):
    refs = [r for r in session.get(SESSION_ACCESS, []) if r != ref][-9:]
    session[SESSION_ACCESS] = refs + [ref]


def _has_access(ref) -> bool:
    return ref in session.get(SESSION_ACCESS, [])


@bp.route("/booking/<ref>/created")
def created(ref):
    """Show the booking data once, right after booking."""
    booking = operations.find_by_reference(ref)
    if booking is None or not _has_access(booking.ref):
        abort(404)
    new = session.get(SESSION_NEW)
    access_key = None
    if new and new.get("ref") == booking.ref:
        access_key = new["key"]
        session.pop(SESSION_NEW)
    response = current_app.make_response(
        render_template("booking/created.html", booking=booking, access_key=access_key)
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/booking/<ref>", methods=["GET", "POST"])
@limiter.limit("10 per minute", methods=["POST"])
def booking_page(ref):
    form = AccessKeyForm()
    booking = operations.find_by_reference(ref)
    if booking is not None and _has_access(booking.ref):
        return _show(booking)
    if request.method == "POST":
        if form.validate():
            opened = operations.open_with_access_key(ref, form.access_key.data)
            if opened is not None:
                _grant_access(opened.ref)
                return redirect(url_for(".booking_page", ref=opened.ref), code=303)
            form.access_key.errors.append(_("This reference and access key do not match a booking."))
            return render_template("booking/access.html", form=form, ref=ref), 403
        return render_template("booking/access.html", form=form, ref=ref), 400
    return render_template("booking/access.html", form=form, ref=ref)


def _show(booking, status=200, error=None):
    """The client's booking page; the confirmation data appear once the fee is confirmed."""

    response = current_app.make_response((render_template(
        "booking/show.html", booking=booking, confirmation_code=shown_confirmation_code(booking),
        can_cancel=can_cancel(booking, Actor.CLIENT), error=error), status))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/booking/<ref>/cancel", methods=["POST"])
@limiter.limit("10 per minute")
def cancel(ref):
    """The client cancels their booking (allowed while it awaits payment)."""

    booking = operations.find_by_reference(ref)
    if booking is None or not _has_access(booking.ref):
        abort(404)
    try:
        cancel_booking(booking, actor=Actor.CLIENT, note="cancelled on the booking page")
        db.session.commit()
    except IllegalTransition:
        db.session.rollback()
        booking = operations.find_by_reference(ref)
        return _show(booking, 409, _("This booking can no longer be cancelled here. "
                                     "Please contact us if you need to change it."))
    return redirect(url_for(".booking_page", ref=booking.ref), code=303)
