"""What the session panel shows at an instant: state, countdowns, outcome (pure, no queries).

The live partial is requested every second by every open panel, so everything here is
cheap: translated texts are looked up once per process and language (:func:`texts`), and
instants are formatted with a cached zone abbreviation instead of a full CLDR pattern run.
"""
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

from babel.dates import format_datetime
from babel.numbers import format_decimal
from flask_babel import gettext as _

from reflexion.booking.states import FINAL_STATES, NEVER_CALLED, PAID_STATES, State
from reflexion.booking.notes import entry_text
from reflexion.i18n import practice_zone, select_locale
from reflexion.conversations.deadlines import hard_end, no_answer_deadline, no_answer_window, session_length

#: Badge style per state (CSS class), for the panel and the dashboard.
STATE_KIND = {
    State.AWAITING_PAYMENT: "waiting",
    State.CONFIRMED: "ok",
    State.DUE: "due",
    State.ANSWERED: "live",
    State.IN_PROGRESS: "live",
    State.COMPLETED: "ended",
    State.EXPIRED: "ended",
    State.CANCELLED: "ended",
    State.NO_SHOW: "alert",
    State.ABORTED_IDENTITY: "alert",
    State.ABORTED_ABUSE: "alert",
}



def _state_labels() -> dict[State, str]:
    return {
        State.AWAITING_PAYMENT: _("Awaiting payment"),
        State.CONFIRMED: _("Paid, confirmed"),
        State.DUE: _("Due: call the client now"),
        State.ANSWERED: _("Answered: verify the confirmation data"),
        State.IN_PROGRESS: _("In progress: identity verified"),
        State.COMPLETED: _("Completed"),
        State.EXPIRED: _("Lapsed: not paid in time"),
        State.CANCELLED: _("Cancelled"),
        State.NO_SHOW: _("No-show: not answered within the no-answer window"),
        State.ABORTED_IDENTITY: _("Ended: identity not confirmed"),
        State.ABORTED_ABUSE: _("Ended for abuse"),
    }


@lru_cache(maxsize=32)
def _texts(locale: str, no_answer_minutes: str, session_minutes: str) -> dict:
    labels = _state_labels()
    return {
        "state": {state.value: label for state, label in labels.items()},
        "label": {
            "start": _("Booked start"),
            "no-answer": _("No-answer deadline (start + %(min)s min)", min=no_answer_minutes),
            "end": _("Hard end (start + %(min)s min)", min=session_minutes),
        },
        # Patterns, filled in per request (gettext without variables returns the raw pattern).
        "ahead": _("in %(time)s"),
        "started": _("started %(time)s ago"),
        "reached": _("reached %(time)s ago"),
        "met": _("answered at %(when)s"),
        "missed": _("not answered in time: no-show"),
        "ended": _("session over since %(when)s"),
        "none": "–",
        "now": _("Checked clock: %(time)s"),
        "title": _("Status"),
        "days": _("%(days)d d %(h)02d:%(m)02d:%(s)02d"),
        # Minutes and seconds with their units, so "44 min 56 s" never reads as hours:minutes.
        "min_sec": _("%(m)d min %(s)02d s"),
        "hour_min_sec": _("%(h)d h %(m)02d min %(s)02d s"),
    }


def texts(booking=None) -> dict:
    """The panel's translated texts for the current language and ``booking``'s rules (the ones it
    was booked under; without a booking today's), looked up once per process."""
    return _texts(select_locale(), format_minutes(no_answer_window(booking).total_seconds() / 60),
                  format_minutes(session_length(booking).total_seconds() / 60))


def state_label(state) -> str:
    """The operator's name for a booking state."""
    return texts()["state"][State(state).value]


def state_kind(state) -> str:
    return STATE_KIND[State(state)]


def actor_label(actor: str) -> str:
    return {"operator": _("operator"), "worker": _("automatic (clock)"), "client": _("client"),
            "provider": _("payment provider (online payment)")}.get(actor, actor)


def note_label(entry) -> str:
    """An audit line's note in the UI language (:mod:`reflexion.booking.notes`)."""
    return entry_text(entry)


def is_paid(booking) -> bool:
    """Tell whether the fee is confirmed: recorded at confirmation, or implied by the state."""
    return booking.confirmed_at is not None or State(booking.state) in PAID_STATES


def format_minutes(value) -> str:
    """45.0 -> "45"; fractions as the locale writes them (0,1 in German)."""
    return _format_minutes(float(value), select_locale())


@lru_cache(maxsize=64)
def _format_minutes(value: float, locale: str) -> str:

    return str(int(value)) if value.is_integer() else format_decimal(value, locale=locale)


_ZONE_ABBREVIATIONS: dict[tuple, str] = {}


def format_local(instant: datetime | None, seconds: bool = True, zone=None, locale: str | None = None) -> str:
    """An instant in practice time with its zone: "10:03:12 MEZ" (``seconds=False``: "10:03 MEZ").

    Same result as the ``instant`` filter's "HH:mm z", with the zone's name looked up once
    per offset and language.
    """
    if instant is None:
        return ""
    zone = zone or practice_zone()
    locale = locale or select_locale()
    local = instant.astimezone(zone)
    key = (zone.key, local.utcoffset(), locale)
    abbreviation = _ZONE_ABBREVIATIONS.get(key)
    if abbreviation is None:

        abbreviation = _ZONE_ABBREVIATIONS[key] = format_datetime(instant, "z", tzinfo=zone, locale=locale)
    return f"{local:%H:%M:%S} {abbreviation}" if seconds else f"{local:%H:%M} {abbreviation}"


def format_instant_seconds(instant) -> str:
    return format_local(instant, seconds=True)


def format_duration(seconds: float, days_pattern: str | None = None, patterns: dict | None = None) -> str:
    """``44 min 56 s`` under an hour, ``1 h 02 min 05 s`` under a day, else ``N d hh:mm:ss`` (no rounding up)."""
    patterns = patterns or texts()
    total = max(0, int(seconds))
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return (days_pattern or patterns["days"]) % {"days": days, "h": hours, "m": minutes, "s": secs}
    if hours:
        return patterns["hour_min_sec"] % {"h": hours, "m": minutes, "s": secs}
    return patterns["min_sec"] % {"m": minutes, "s": secs}


#: The no-answer deadline and the hard end escalate visibly in their last two minutes.
URGENT_SECONDS = 120


@dataclass
class Countdown:
    key: str          # "start", "no-answer", "end"
    target: datetime  # the deadline instant
    status: str       # "ahead", "passed", "met", "missed", "ended", "none"
    seconds: float    # until the target (ahead) or since it (passed)
    at: datetime | None = None  # when it was met / missed / ended
    label: str = ""
    target_text: str = ""
    text: str = ""    # what the panel shows, localized
    urgent: bool = False  # a deadline in its last two minutes


@dataclass
class LiveView:
    state: State
    over: bool
    countdowns: list[Countdown]
    badge: str
    kind: str
    now_text: str

    def countdown(self, key) -> Countdown:
        return next(c for c in self.countdowns if c.key == key)


def live_view(booking, now: datetime) -> LiveView:
    """The panel's live part for ``booking`` (an ORM booking or a row with the same fields) at ``now``.

    The caller applies passed deadlines first, so a deadline shown as passed here is one the
    worker is recording this very moment.
    """
    t = texts(booking)
    zone, locale = practice_zone(), select_locale()
    state = State(booking.state)
    start, no_answer, end = booking.start_at, no_answer_deadline(booking), hard_end(booking)

    def local(instant, seconds=True):
        return format_local(instant, seconds, zone, locale)

    def ticking(key, target):
        if now < target:
            left = (target - now).total_seconds()
            return Countdown(key, target, "ahead", left, text=t["ahead"] % {"time": format_duration(left, t["days"], t)},
                             urgent=key != "start" and left <= URGENT_SECONDS)
        since = (now - target).total_seconds()
        pattern = t["started"] if key == "start" else t["reached"]
        return Countdown(key, target, "passed", since, text=pattern % {"time": format_duration(since, t["days"], t)})

    countdowns = [ticking("start", start)]
    if state in NEVER_CALLED:
        countdowns += [Countdown("no-answer", no_answer, "none", 0, text=t["none"]),
                       Countdown("end", end, "none", 0, text=t["none"])]
    else:
        if booking.answered_at is not None:
            countdowns.append(Countdown("no-answer", no_answer, "met", 0, at=booking.answered_at,
                                        text=t["met"] % {"when": local(booking.answered_at)}))
        elif state == State.NO_SHOW:
            countdowns.append(Countdown("no-answer", no_answer, "missed", 0, at=no_answer, text=t["missed"]))
        else:
            countdowns.append(ticking("no-answer", no_answer))
        if state in FINAL_STATES:
            ended = booking.ended_at or end
            countdowns.append(Countdown("end", end, "ended", 0, at=ended,
                                        text=t["ended"] % {"when": local(ended)}))
        else:
            countdowns.append(ticking("end", end))
    for countdown in countdowns:
        countdown.label = t["label"][countdown.key]
        countdown.target_text = local(countdown.target, seconds=False)
    return LiveView(state, state in FINAL_STATES, countdowns, t["state"][state.value], STATE_KIND[state],
                    t["now"] % {"time": local(now)})

