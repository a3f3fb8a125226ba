"""Calendar invites: one builder for the invite e-mail, the client's download and the feed.

RFC 5545/5546 as calendar apps expect it (see PITFALLS.md): a persistent ``UID`` per booking
(``Booking.ical_uid``), ``SEQUENCE`` raised on every change (``Booking.ical_sequence``),
``DTSTAMP`` from the checked clock, ``DTSTART;TZID=<practice zone>`` with a matching,
Outlook-shaped ``VTIMEZONE`` (one STANDARD, one DAYLIGHT, yearly RRULEs), and
``METHOD:CANCEL`` with ``STATUS:CANCELLED`` and no alarm for a cancellation.

Every value a client typed (name, e-mail, call handle) is cleaned of control characters
before icalendar escapes and folds it, so it can never start a property of its own.
"""
import calendar as _calendar
import re
from datetime import date, datetime, timedelta, timezone
from email.utils import parseaddr
from functools import lru_cache
from zoneinfo import ZoneInfo

from flask import current_app, has_request_context, request, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from icalendar import Alarm, Calendar, Event, Timezone, TimezoneDaylight, TimezoneStandard, vCalAddress, vRecur

from reflexion import clock
from reflexion.platforms import booked_call
from reflexion.booking.states import State
from reflexion.conversations.deadlines import no_answer_window, session_length
from reflexion.settings import setting

PRODID = "-//Internet Reflexion//Reflexion booking system//EN"
REQUEST = "REQUEST"
CANCEL = "CANCEL"
METHODS = (REQUEST, CANCEL)
_DAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
# C0/C1 controls, DEL and the Unicode line/paragraph separators: none belongs in a field.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")


def clean_text(value, limit: int = 200) -> str:
    """Return ``value`` as one plain line: control characters become spaces, length is capped."""
    text = _CONTROL.sub(" ", str(value or ""))
    return re.sub(r" {2,}", " ", text).strip()[:limit]


def _clean_param(value) -> str:
    # Parameter values may not hold DQUOTE (RFC 5545 §3.2); icalendar quotes the rest.
    return clean_text(value, 120).replace('"', "'")


def _clean_address(value) -> str:
    """An e-mail address for ``mailto:``; anything with spaces or controls left in is dropped."""
    address = clean_text(value, 254)
    return address if re.fullmatch(r"[^\s<>\"@]+@[^\s<>\"@]+", address) else "invalid@invalid.invalid"


# -- time zone -------------------------------------------------------------------------

@lru_cache(maxsize=16)
def _transitions(tzid: str, year: int) -> tuple:
    """The zone's offset changes in ``year``: (utc instant, offset before, offset after)."""
    zone = ZoneInfo(tzid)
    found = []
    t = datetime(year, 1, 1, tzinfo=timezone.utc)
    end = datetime(year + 1, 1, 1, tzinfo=timezone.utc)
    before = t.astimezone(zone).utcoffset()
    while t < end:
        step = t + timedelta(hours=1)
        after = step.astimezone(zone).utcoffset()
        if after != before:
            exact = next(t + timedelta(minutes=m) for m in range(1, 61)
                         if (t + timedelta(minutes=m)).astimezone(zone).utcoffset() != before)
            found.append((exact, before, after))
            before = after
        t = step
    return tuple(found)


def _yearly_rule(onset: datetime) -> tuple[int, str]:
    """(month, BYDAY) of a transition on a weekday, e.g. (3, "-1SU") for the last Sunday of March."""
    days_in_month = _calendar.monthrange(onset.year, onset.month)[1]
    nth = -1 if onset.day + 7 > days_in_month else (onset.day - 1) // 7 + 1
    return onset.month, f"{nth}{_DAYS[onset.weekday()]}"


def _first_in_1970(month: int, byday: str, at) -> datetime:
    nth, weekday = int(byday[:-2]), _DAYS.index(byday[-2:])
    days = [d for d in range(1, _calendar.monthrange(1970, month)[1] + 1)
            if date(1970, month, d).weekday() == weekday]
    return datetime.combine(date(1970, month, days[nth if nth < 0 else nth - 1]), at)


def vtimezone(tzid: str, year: int) -> Timezone:
    """A VTIMEZONE for ``tzid`` as Outlook and Google write it, with the rules in force in ``year``.

    DAYLIGHT/STANDARD onsets are the local wall time before the change (RFC 5545 §3.6.5):
    for Europe/Berlin 02:00 on the last Sunday of March and 03:00 on the last Sunday of
    October. A zone without daylight saving time gets a single STANDARD.
    """
    zone = ZoneInfo(tzid)
    component = Timezone()
    component.add("tzid", tzid)
    changes = _transitions(tzid, year)
    if not changes:
        offset = datetime(year, 1, 1, tzinfo=timezone.utc).astimezone(zone).utcoffset()
        standard = TimezoneStandard()
        standard.add("dtstart", datetime(1970, 1, 1))
        standard.add("tzoffsetfrom", offset)
        standard.add("tzoffsetto", offset)
        standard.add("tzname", datetime(year, 1, 1, tzinfo=zone).tzname())
        component.add_component(standard)
        return component
    kinds = {bool((instant + timedelta(minutes=1)).astimezone(zone).dst()) for instant, _b, _a in changes}
    if len(changes) != 2 or kinds != {True, False}:
        # An irregular year (a zone changing its rules): list the real transitions instead.
        return Timezone.from_tzid(tzid, first_date=date(year - 1, 1, 1), last_date=date(year + 2, 1, 1))
    parts = []
    for instant, before, after in changes:
        local = instant.astimezone(zone)
        onset = (instant + before).replace(tzinfo=None)  # wall time before the change
        month, byday = _yearly_rule(onset)
        sub = TimezoneDaylight() if local.dst() else TimezoneStandard()
        sub.add("dtstart", _first_in_1970(month, byday, onset.time()))
        sub.add("rrule", vRecur({"FREQ": "YEARLY", "BYMONTH": month, "BYDAY": byday}))
        sub.add("tzoffsetfrom", before)
        sub.add("tzoffsetto", after)
        sub.add("tzname", local.tzname())
        parts.append(sub)
    # STANDARD first, then DAYLIGHT, as Outlook writes it.
    for sub in sorted(parts, key=lambda s: s.name != "STANDARD"):
        component.add_component(sub)
    return component


# -- events ----------------------------------------------------------------------------

def external_url(endpoint: str, **values) -> str:
    """An absolute URL, always from ``PUBLIC_URL`` (never from the request's Host header)."""
    public = current_app.config["PUBLIC_URL"].rstrip("/")
    if has_request_context():

        return public + url_for(endpoint, **values)[len(request.script_root):]
    with current_app.test_request_context("/", base_url=public):
        return url_for(endpoint, _external=True, **values)


def booking_url(booking, lang: str) -> str:
    """The client's booking page (it asks for the access key; the link alone opens nothing)."""
    return external_url("booking.booking_page", ref=booking.ref, lang=lang)


def organizer() -> vCalAddress:
    """The practice as organizer: the sending address, named with the brand."""
    address = parseaddr(setting("MAIL_DEFAULT_SENDER"))[1] or setting("CONTACT_EMAIL")
    value = vCalAddress(f"mailto:{_clean_address(address)}")
    value.params["CN"] = _clean_param(setting("BRAND"))
    return value


def attendee(booking) -> vCalAddress:
    value = vCalAddress(f"mailto:{_clean_address(booking.email)}")
    value.params["CN"] = _clean_param(booking.name)
    value.params["CUTYPE"] = "INDIVIDUAL"
    value.params["ROLE"] = "REQ-PARTICIPANT"
    value.params["PARTSTAT"] = "NEEDS-ACTION"
    value.params["RSVP"] = "FALSE"
    return value


def _client_texts(booking, lang: str, method: str = REQUEST) -> dict:
    call = booked_call(booking)  # the booked platform, even when the operator no longer offers it
    brand, platform, handle = setting("BRAND"), call.name, clean_text(call.operator_handle or "", 64)
    # the rules the booking was made under
    no_answer = int(no_answer_window(booking).total_seconds() // 60)
    length = int(session_length(booking).total_seconds() // 60)
    if method == CANCEL:
        # A cancelled call: nothing to prepare, only where to book again.
        return {
            "summary": _("Cancelled: video call with %(brand)s", brand=brand),
            "location": _("%(platform)s, call name %(handle)s", platform=platform, handle=handle),
            "description": "\n".join([
                _("This video call has been cancelled."),
                _("Your booking page: %(url)s", url=booking_url(booking, lang)),
            ]),
            "alarm": "",
        }
    lines = [
        _("%(brand)s calls you on %(platform)s at the booked time. You cannot call in yourself.",
          brand=brand, platform=platform),
        *([_("Add %(handle)s to your %(platform)s contacts before the call.", handle=handle, platform=platform)]
          if handle else []),
        _("We will call your %(platform)s name: %(client_handle)s",
          platform=platform, client_handle=clean_text(booking.call_handle, 64)),
        _("Have your confirmation data ready: you read it out at the start of the call. "
          "Without it the call is ended. You find it on your booking page."),
        _("If you do not answer within %(minutes)d minutes of the booked time, the session counts as used.",
          minutes=no_answer),
        _("The call ends %(minutes)d minutes after the booked start, even if it began later.", minutes=length),
        _("Your booking page: %(url)s", url=booking_url(booking, lang)),
    ]
    return {
        "summary": _("Video call with %(brand)s on %(platform)s", brand=brand, platform=platform),
        "location": (_("%(platform)s, call name %(handle)s", platform=platform, handle=handle)
                     if handle else platform),
        "description": "\n".join(lines),
        "alarm": _("Your video call with %(brand)s starts soon. Have your confirmation data ready.",
                   brand=brand),
    }


def _local(instant: datetime, tzid: str) -> datetime:
    return instant.astimezone(ZoneInfo(tzid))


def is_ambiguous(instant: datetime, tzid: str) -> bool:
    """True when the local wall time of ``instant`` occurs twice (the repeated hour in autumn)."""
    local = _local(instant, tzid)
    return local.replace(fold=1 - local.fold).utcoffset() != local.utcoffset()


def _add_times(event: Event, booking, tzid: str):
    """DTSTART/DTEND in practice time with TZID; in UTC when either falls in the repeated hour.

    Readers disagree on which occurrence an ambiguous local time means (PITFALLS.md), and a
    DTEND that reads as before DTSTART makes some refuse the whole file: UTC is unambiguous.
    """
    if is_ambiguous(booking.start_at, tzid) or is_ambiguous(booking.end_at, tzid):
        event.add("dtstart", booking.start_at.astimezone(timezone.utc))
        event.add("dtend", booking.end_at.astimezone(timezone.utc))
        return
    event.add("dtstart", _local(booking.start_at, tzid))
    event.add("dtend", _local(booking.end_at, tzid))


def client_event(booking, method: str, lang: str, now: datetime) -> Event:
    """The client's VEVENT of ``booking`` for ``method`` (REQUEST or CANCEL)."""
    tzid = current_app.config["TIMEZONE"]
    texts = _client_texts(booking, lang, method)
    event = Event()
    event.add("uid", booking.ical_uid)
    event.add("sequence", booking.ical_sequence)
    event.add("dtstamp", now.astimezone(timezone.utc))
    _add_times(event, booking, tzid)
    event.add("summary", texts["summary"])
    event.add("location", texts["location"])
    event.add("description", texts["description"])
    event.add("url", booking_url(booking, lang))
    event.add("organizer", organizer())
    event.add("attendee", attendee(booking))
    event.add("class", "PRIVATE")
    event.add("transp", "OPAQUE")
    if method == CANCEL:
        event.add("status", "CANCELLED")
    else:
        event.add("status", "CONFIRMED")
        alarm = Alarm()
        alarm.add("action", "DISPLAY")
        alarm.add("trigger", timedelta(minutes=-current_app.config["CALENDAR_ALARM_MINUTES"]))
        alarm.add("description", texts["alarm"])
        event.add_component(alarm)
    return event


def new_calendar(method: str | None = None) -> Calendar:
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    if method:
        cal.add("method", method)
    return cal


def invite_method(booking) -> str:
    """CANCEL for a cancelled booking, REQUEST otherwise."""
    return CANCEL if booking.state == State.CANCELLED.value else REQUEST


def build_invite(booking, method: str | None = None, lang: str | None = None, now: datetime | None = None) -> Calendar:
    """The invite calendar of ``booking`` (``METHOD:REQUEST`` or ``CANCEL``), in ``lang``."""
    method = (method or invite_method(booking)).upper()
    if method not in METHODS:
        raise ValueError(f"unsupported iTIP method {method}")
    lang = lang or booking.lang
    tzid = current_app.config["TIMEZONE"]
    cal = new_calendar(method)
    cal.add_component(vtimezone(tzid, _local(booking.start_at, tzid).year))
    with force_locale(lang):
        cal.add_component(client_event(booking, method, lang, now or clock.now()))
    return cal


def invite_bytes(booking, method: str | None = None, lang: str | None = None, now: datetime | None = None) -> bytes:
    """Serialize :func:`build_invite` (CRLF lines, folded at 75 octets)."""
    return build_invite(booking, method, lang, now).to_ical()


def raise_sequence(booking):
    """Mark a change the calendar apps must see (time or status): SEQUENCE goes up by one."""
    booking.ical_sequence = (booking.ical_sequence or 0) + 1


# -- the operator's feed ---------------------------------------------------------------

_FEED_STATUS = {State.AWAITING_PAYMENT: "TENTATIVE", State.CANCELLED: "CANCELLED", State.EXPIRED: "CANCELLED"}


def operator_event(booking, revised: datetime) -> Event:
    """The operator's VEVENT of ``booking``: no METHOD, no ATTENDEE; the client named in the text."""
    config = current_app.config
    tzid = config["TIMEZONE"]
    state = State(booking.state)
    name, handle = clean_text(booking.name, 120), clean_text(booking.call_handle, 64)
    call = booked_call(booking)
    if state == State.AWAITING_PAYMENT:
        summary = _("Unpaid: %(name)s (%(handle)s)", name=name, handle=handle)
    elif state in (State.CANCELLED, State.EXPIRED):
        summary = _("Cancelled: %(name)s (%(handle)s)", name=name, handle=handle)
    else:
        summary = _("Call %(name)s (%(handle)s)", name=name, handle=handle)
    description = "\n".join([
        _("Booking %(ref)s", ref=booking.ref),
        _("Call %(platform)s name: %(handle)s", platform=call.name, handle=handle),
        *([_("Start the call: %(url)s", url=call.call_link)] if call.call_link else []),
        _("Operator panel: %(url)s", url=external_url("operator.dashboard")),
    ])
    event = Event()
    event.add("uid", booking.ical_uid)
    event.add("sequence", booking.ical_sequence)
    event.add("dtstamp", revised.astimezone(timezone.utc))
    event.add("last-modified", revised.astimezone(timezone.utc))
    _add_times(event, booking, tzid)
    event.add("summary", summary)
    event.add("description", description)
    event.add("location", clean_text(f"{call.name}: {handle}", 120))
    event.add("status", _FEED_STATUS.get(state, "CONFIRMED"))
    event.add("class", "PRIVATE")
    event.add("transp", "TRANSPARENT" if state in (State.CANCELLED, State.EXPIRED) else "OPAQUE")
    return event

