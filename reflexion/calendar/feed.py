"""The operator's private calendar feed (``/calendar/<token>.ics``) and its revocable token.

The token lives in the database (:class:`~reflexion.calendar.models.FeedToken`); the panel
regenerates it with :func:`regenerate_token`, which revokes the old one at once. Until a
token has ever been generated, ``CALENDAR_FEED_TOKEN`` from the settings is accepted.

The feed lists every live session and keeps recently ended, cancelled and lapsed ones
(cancelled with ``STATUS:CANCELLED``) so subscribed calendars update them in place rather
than leaving stale entries. It carries no METHOD and no ATTENDEE; each event's DTSTAMP is
the booking's last revision, so the body (and its ETag) changes only when a booking does.
"""
import hashlib
import hmac
import secrets
from datetime import timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import force_locale
from icalendar import vDuration
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from reflexion import clock
from reflexion.booking.models import Booking
from reflexion.booking.states import LIVE_STATES
from reflexion.calendar.invite import external_url, new_calendar, operator_event, vtimezone
from reflexion.calendar.models import FeedToken
from reflexion.extensions import db
from reflexion.settings import setting

#: How far back ended and cancelled sessions stay in the feed.
HISTORY = timedelta(days=30)
OPERATOR_LANG = "de"


# -- the token -------------------------------------------------------------------------

def active_token() -> str | None:
    """The token that opens the feed now: the newest unrevoked one, else the settings' one."""
    row = db.session.scalar(
        select(FeedToken).where(FeedToken.revoked_at.is_(None)).order_by(FeedToken.id.desc()).limit(1)
    )
    if row is not None:
        return row.token
    if _any_generated():
        return None  # all revoked: the settings token stopped working with the first regeneration
    return current_app.config.get("CALENDAR_FEED_TOKEN") or None


def _any_generated() -> bool:
    return db.session.scalar(select(func.count(FeedToken.id))) > 0


def _revoke_active():
    """Mark every unrevoked token revoked now; return that instant."""
    now = clock.now()
    for row in db.session.scalars(select(FeedToken).where(FeedToken.revoked_at.is_(None))):
        row.revoked_at = now
    return now


def regenerate_token() -> str:
    """Revoke every feed token and issue a new one; return it. The caller commits.

    Subscriptions with the old address stop working at once (404).
    """
    now = _revoke_active()
    token = secrets.token_urlsafe(32)
    db.session.add(FeedToken(token=token, created_at=now))
    db.session.flush()
    return token


def revoke_tokens():
    """Switch the feed off until a new token is generated. The caller commits."""
    now = _revoke_active()
    if not _any_generated():  # a revoked row stops the settings' token too (see active_token)
        db.session.add(FeedToken(token=secrets.token_urlsafe(32), created_at=now, revoked_at=now))
    db.session.flush()


def token_is_valid(token: str) -> bool:
    """Compare in constant time with the active token."""
    expected = active_token()
    if not expected or not token:
        return False
    return hmac.compare_digest(expected.encode(), token.encode())


def feed_url(token: str | None = None, scheme: str | None = None) -> str | None:
    """The subscription address (``webcal`` if ``scheme="webcal"``), for the operator panel."""
    token = token or active_token()
    if not token:
        return None
    url = external_url("calendar.operator_feed", token=token)
    if scheme == "webcal":
        url = "webcal://" + url.split("://", 1)[1]
    return url


# -- the feed --------------------------------------------------------------------------

def feed_bookings(now):
    """Bookings in the feed: all live ones, and the others of the last :data:`HISTORY`."""

    live = [s.value for s in LIVE_STATES]
    return db.session.scalars(
        select(Booking)
        .where(Booking.anonymised_at.is_(None))
        .where(Booking.state.in_(live) | (Booking.start_at >= now - HISTORY))
        .options(selectinload(Booking.transitions))
        .order_by(Booking.start_at)
    ).all()


def _revised(booking):
    instants = [booking.created_at] + [t.at for t in booking.transitions]
    if booking.confirmed_at:
        instants.append(booking.confirmed_at)
    return max(instants)


def feed_bytes(now=None) -> bytes:
    """The whole feed as iCalendar bytes."""
    config = current_app.config
    now = now or clock.now()
    tzid = config["TIMEZONE"]
    refresh = timedelta(minutes=config["CALENDAR_REFRESH_MINUTES"])
    cal = new_calendar()
    cal.add("name", setting("BRAND"))
    cal.add("x-wr-calname", setting("BRAND"))
    cal.add("x-wr-timezone", tzid)
    # RFC 7986 REFRESH-INTERVAL must carry VALUE=DURATION; X-PUBLISHED-TTL for older clients.
    cal.add("refresh-interval", refresh, parameters={"VALUE": "DURATION"})
    cal.add("x-published-ttl", vDuration(refresh))
    cal.add_component(vtimezone(tzid, now.astimezone(ZoneInfo(tzid)).year))
    with force_locale(OPERATOR_LANG):
        for booking in feed_bookings(now):
            cal.add_component(operator_event(booking, _revised(booking)))
    return cal.to_ical()




def etag_of(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()[:32]

