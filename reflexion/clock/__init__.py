"""The one clock of the app: system time corrected by the last good NTP offset.

Every business instant (deadlines, audit log, DTSTAMP) comes from :func:`now`.
The NTP check itself lives in :mod:`reflexion.clock.ntp`; its last good result is
kept in Redis (fast path, shared by web, worker and CLI) and in the database (history).
"""
import json
import time
from datetime import datetime, timedelta, timezone

from flask import current_app, has_app_context

REDIS_KEY = "reflexion:clock:last-good"
REFRESH_SECONDS = 5.0

_frozen: datetime | None = None
_shift = timedelta(0)
_cache = {"offset": timedelta(0), "status": None, "loaded": float("-inf"), "app": None}


def system_utc() -> datetime:
    """Return the machine's own, unchecked time (the only direct clock read)."""
    return datetime.now(timezone.utc)


def now() -> datetime:
    """Return the checked current instant, aware UTC."""
    if _frozen is not None:
        return _frozen
    return system_utc() + current_offset() + _shift


def current_offset() -> timedelta:
    """Return the last good NTP offset, refreshed from Redis every few seconds."""
    if not has_app_context():
        return _cache["offset"]
    app = current_app._get_current_object()
    mono = time.monotonic()
    if _cache["app"] is not app or mono - _cache["loaded"] > REFRESH_SECONDS:
        _load(app, mono)
    return _cache["offset"]


def _load(app, mono):
    from reflexion.redis_conn import get_redis

    status = None
    try:
        raw = get_redis(app).get(REDIS_KEY)
        status = json.loads(raw) if raw else None
    except Exception:  # Redis away: keep the offset we have
        app.logger.warning("clock: could not read the last NTP offset from Redis")
        status = _cache["status"] if _cache["app"] is app else None
    _cache.update(
        offset=timedelta(seconds=status["offset"]) if status else timedelta(0),
        status=status,
        loaded=mono,
        app=app,
    )


def last_check() -> dict | None:
    """Return the last good check as stored (offset, delay, stratum, server, checked_at, ...)."""
    current_offset()
    return _cache["status"]


def forget_cached_offset():
    """Make the next :func:`now` re-read the offset (after a new check)."""
    _cache["loaded"] = float("-inf")


# -- test helpers -----------------------------------------------------------------

def freeze(instant: datetime | None):
    """Stop the clock at ``instant`` (aware), or let it run again with ``None``."""
    global _frozen
    _frozen = instant


def shift(delta: timedelta):
    """Move the running clock by ``delta`` (tests that need time to pass)."""
    global _shift
    _shift = delta
