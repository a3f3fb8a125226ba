"""Calendar downloads: the client's invite and the operator's private feed."""
from flask import Blueprint, abort, current_app, g, request

from reflexion.booking import operations
from reflexion.booking.views import _has_access
from reflexion.calendar import feed
from reflexion.calendar.invite import invite_bytes, invite_method

bp = Blueprint("calendar", __name__)

CALENDAR_TYPE = "text/calendar; charset=utf-8"


@bp.route("/<lang>/booking/<ref>/invite.ics")
def booking_invite(ref):
    """The client's invite (REQUEST, or CANCEL once cancelled); needs the booking page's access."""

    booking = operations.find_by_reference(ref)
    if booking is None or not _has_access(booking.ref) or booking.confirmed_at is None:
        abort(404)
    method = invite_method(booking)
    response = current_app.response_class(invite_bytes(booking, method, lang=g.lang))
    response.headers["Content-Type"] = f"{CALENDAR_TYPE}; method={method}"
    response.headers["Content-Disposition"] = f'attachment; filename="{booking.ref}.ics"'
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/calendar/<token>.ics")
def operator_feed(token):
    """The operator's subscription: every live session; 404 for an unknown or revoked token."""
    if not feed.token_is_valid(token):
        abort(404)
    body = feed.feed_bytes()
    response = current_app.response_class(body)
    response.headers["Content-Type"] = CALENDAR_TYPE
    response.headers["Content-Disposition"] = 'inline; filename="reflexion.ics"'
    # Revalidate every time (cheap with the ETag); never kept by shared caches.
    response.headers["Cache-Control"] = "private, no-cache"
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    response.set_etag(feed.etag_of(body))
    return response.make_conditional(request)
