"""Languages, locale selection and locale-aware formatting of instants and money."""
from datetime import datetime
from decimal import Decimal
from functools import lru_cache
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime
from babel.numbers import format_currency, format_decimal
from flask import current_app, g, request
from flask_babel import get_translations
from werkzeug.datastructures import LanguageAccept
from werkzeug.http import parse_accept_header

from reflexion.settings import setting

LANGUAGES = ("de", "sv")
DEFAULT_LANGUAGE = "de"
LANGUAGE_NAMES = {"de": "Deutsch", "sv": "Svenska"}


def best_language() -> str:
    """Pick the visitor's language from ``Accept-Language`` (German by default)."""
    return _best_language(request.headers.get("Accept-Language", ""))


@lru_cache(maxsize=256)
def _best_language(header: str) -> str:
    # Parsed once per distinct header: the polled panel partial asks on every request.
    return parse_accept_header(header, LanguageAccept).best_match(LANGUAGES) or DEFAULT_LANGUAGE


def select_locale() -> str:
    """Flask-Babel locale selector: the URL's language, else German."""
    return getattr(g, "lang", None) or DEFAULT_LANGUAGE


def template_translations():
    """This request's translations, looked up once per locale instead of once per string.

    Flask-Babel's own lookup walks ``g``, the domain and ``str(locale)`` for every ``_()``; a
    page asks about forty times. The translations are kept beside Flask-Babel's locale in its
    per-request namespace and reused while that locale object is current, so ``force_locale``
    and ``refresh()`` (which replace or drop it) are followed as before.
    """
    state = g.get("_flask_babel") if g else None
    locale = getattr(state, "babel_locale", None)
    kept = getattr(state, "reflexion_translations", None)
    if kept is not None and kept[0] is locale:
        return kept[1]
    translations = get_translations()  # sets the locale in the namespace on first use
    state = g.get("_flask_babel") if g else None
    if state is not None:
        state.reflexion_translations = (getattr(state, "babel_locale", None), translations)
    return translations


def install_template_gettext(app):
    """Let templates translate through :func:`template_translations` (after ``babel.init_app``)."""
    app.jinja_env.install_gettext_callables(
        gettext=lambda s: template_translations().ugettext(s),
        ngettext=lambda s, p, n: template_translations().ungettext(s, p, n),
        pgettext=lambda c, s: template_translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: template_translations().unpgettext(c, s, p, n),
        newstyle=True,
    )


def select_timezone() -> str:
    return current_app.config["TIMEZONE"]


def practice_zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["TIMEZONE"])


# Patterns: the zone abbreviation (z) is MEZ/MESZ in German, CET/CEST in Swedish.
# A time and its zone (and Swedish "kl." and its time) never break apart on a page: the web
# pages join them with a no-break space (U+00A0); e-mails keep plain spaces.
NBSP = "\u00a0"
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


def format_instant(instant: datetime | None, style: str = "full", lang: str | None = None,
                   nbsp: bool = False) -> str:
    """Format an instant in practice local time, always with its zone where it has a time."""
    if instant is None:
        return ""
    return _format_instant(instant, style, lang or select_locale(), nbsp, current_app.config["TIMEZONE"])


@lru_cache(maxsize=8192)
def _format_instant(instant: datetime, style: str, lang: str, nbsp: bool, zone: str) -> str:
    # Cached: a CLDR pattern run costs ~20 µs and the week page shows each slot twice; the same
    # instant, style, language and zone always give the same text.
    pattern = (_PATTERNS_SV if lang == "sv" else _PATTERNS)[style]
    if nbsp:
        pattern = pattern.replace("HH:mm z", f"HH:mm{NBSP}z").replace("'kl.' ", f"'kl.'{NBSP}")
    return format_datetime(instant, pattern, tzinfo=ZoneInfo(zone), locale=lang)


def format_instant_html(instant: datetime | None, style: str = "full", lang: str | None = None) -> str:
    """``format_instant`` for web pages: a time stays on one line with its zone."""
    return format_instant(instant, style, lang, nbsp=True)


def format_number(value) -> str:
    """Format a setting such as 45.0 minutes as "45", keeping real fractions ("0,5" in German)."""
    value = float(value)
    if value.is_integer():
        return str(int(value))
    return format_decimal(value, locale=select_locale())


def format_duration_minutes(value) -> str:
    """A length (timedelta or minutes) as a number of minutes: ``timedelta(minutes=45)`` -> "45"."""
    if hasattr(value, "total_seconds"):
        value = value.total_seconds() / 60
    return format_number(value)


def format_terms_version(version: str | None, lang: str | None = None) -> str:
    """The terms' version ``2026-11`` as the month it dates from ("November 2026", "november 2026");
    a version the settings made (``2026-12-02.1``) as its day ("2. Dezember 2026", "2 december 2026")."""
    lang = lang or select_locale()
    try:
        day = datetime.strptime((version or "").split(".")[0], "%Y-%m-%d")
        return format_date(day, "d. MMMM y" if lang == "de" else "d MMMM y", locale=lang)
    except ValueError:
        pass
    try:
        year, month = (int(part) for part in (version or "").split("-")[:2])
        return format_date(datetime(year, month, 1), "LLLL y", locale=lang or select_locale())
    except (ValueError, TypeError):
        return version or ""


def format_money(cents: int, currency: str, lang: str | None = None) -> str:
    return format_currency(Decimal(cents) / 100, currency, locale=lang or select_locale())


def fee_cents() -> int:
    """The session fee from settings, in cents."""
    return int((Decimal(setting("FEE_AMOUNT")) * 100).to_integral_value())


def format_day(day, pattern: str = "long", lang: str | None = None) -> str:
    """Format a calendar date (no time, so no zone) in the visitor's language."""
    return _format_day(day, pattern, lang or select_locale())


@lru_cache(maxsize=4096)
def _format_day(day, pattern: str, lang: str) -> str:
    return format_date(day, pattern, locale=lang)
