"""Languages, locale selection and locale-aware formatting of instants and money."""
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from babel.dates import format_datetime
from babel.numbers import format_currency
from flask import current_app, g, request

LANGUAGES = ("de", "sv")
DEFAULT_LANGUAGE = "de"
LANGUAGE_NAMES = {"de": "Deutsch", "sv": "Svenska"}


def best_language() -> str:
    """Pick the visitor's language from ``Accept-Language`` (German by default)."""
    return request.accept_languages.best_match(LANGUAGES) or DEFAULT_LANGUAGE


def select_locale() -> str:
    """Flask-Babel locale selector: the URL's language, else German."""
    return getattr(g, "lang", None) or DEFAULT_LANGUAGE


def select_timezone() -> str:
    return current_app.config["TIMEZONE"]


def practice_zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["TIMEZONE"])


# Patterns: the zone abbreviation (z) is MEZ/MESZ in German, CET/CEST in Swedish.
_PATTERNS = {
    "full": "EEEE, d. MMMM y, HH:mm z",
    "date": "EEEE, d. MMMM y",
    "short": "EEE d.M. HH:mm z",
    "time": "HH:mm z",
    "day": "EEE d.M.",
}
_PATTERNS_SV = {
    "full": "EEEE d MMMM y 'kl.' HH:mm z",
    "date": "EEEE d MMMM y",
    "short": "EEE d/M HH:mm z",
    "time": "HH:mm z",
    "day": "EEE d/M",
}


def format_instant(instant: datetime | None, style: str = "full", lang: str | None = None) -> str:
    """Format an instant in practice local time, always with its zone where it has a time."""
    if instant is None:
        return ""
    lang = lang or select_locale()
    pattern = (_PATTERNS_SV if lang == "sv" else _PATTERNS)[style]
    return format_datetime(instant, pattern, tzinfo=practice_zone(), locale=lang)


def format_money(cents: int, currency: str, lang: str | None = None) -> str:
    return format_currency(Decimal(cents) / 100, currency, locale=lang or select_locale())


def fee_cents() -> int:
    """The session fee from settings, in cents."""
    return int((Decimal(current_app.config["FEE_AMOUNT"]) * 100).to_integral_value())


def format_day(day, pattern: str = "long", lang: str | None = None) -> str:
    """Format a calendar date (no time, so no zone) in the visitor's language."""
    from babel.dates import format_date

    return format_date(day, pattern, locale=lang or select_locale())
