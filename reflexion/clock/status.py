"""How trustworthy the clock is right now, for /healthz, the operator dashboard and the footer."""
from datetime import datetime

from babel.numbers import format_decimal
from flask import current_app

from reflexion import clock
from reflexion.i18n import select_locale

#: The dashboard warns once the last good check is older than this.
WARN_AFTER_SECONDS = 3600
#: ... or when the system clock is off by more than this.
LARGE_OFFSET_SECONDS = 1.0


def summary() -> dict:
    """Return offset, age, server and whether the check is stale (JSON-ready).

    ``stale``: the last check failed (``failing_since``), or no check ran for two
    intervals, or there never was a good one. ``warnings``: ``unchecked-over-an-hour``
    (stale and the last good check is over an hour old, or none ever), ``large-offset``
    (|offset| > 1 s).
    """
    last = clock.last_check() or {}
    now = clock.now()
    checked_at = _parse(last.get("checked_at"))
    failing_since = last.get("failing_since")
    offset = last.get("offset") or 0.0
    interval = float(current_app.config.get("CLOCK_CHECK_MINUTES", 15)) * 60
    age = max(0.0, (now - checked_at).total_seconds()) if checked_at else None
    stale = checked_at is None or bool(failing_since) or age > 2 * interval + 60
    warnings = []
    if stale and (age is None or age > WARN_AFTER_SECONDS):
        warnings.append("unchecked-over-an-hour")
    if abs(offset) > LARGE_OFFSET_SECONDS:
        warnings.append("large-offset")
    return {
        "checked": checked_at is not None,
        "stale": stale,
        "offset_ms": round(offset * 1000, 1),
        "delay_ms": round(last["delay"] * 1000, 1) if last.get("delay") is not None else None,
        "stratum": last.get("stratum"),
        "server": last.get("server"),
        "checked_at": last.get("checked_at"),
        "age_seconds": round(age) if age is not None else None,
        "failing_since": failing_since,
        "last_error": last.get("last_error"),
        "warnings": warnings,
    }


def for_display() -> dict:
    """:func:`summary` plus what templates need: instants as datetimes, age in minutes."""
    info = summary()
    age = info["age_seconds"]
    info.update(
        checked_at_dt=_parse(info["checked_at"]),
        failing_since_dt=_parse(info["failing_since"]),
        age_minutes=int(age // 60) if age is not None else None,
        age_hours=int(age // 3600) if age is not None else None,
        warning=bool(info["warnings"]),
    )
    return info


def format_ms(value: float | None, signed: bool = True) -> str:
    """A millisecond figure in the page's language, e.g. ``+12,3`` (German)."""


    if value is None:
        return ""
    pattern = "+#,##0.0;-#,##0.0" if signed else "#,##0.0"
    return format_decimal(value, pattern, locale=select_locale())


def _parse(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None
