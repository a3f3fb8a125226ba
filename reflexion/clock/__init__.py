"""The one clock of the app: system time corrected by the last good NTP offset.

Every business instant (deadlines, audit log, DTSTAMP) comes from :func:`now`. The NTP
check itself lives in :mod:`reflexion.clock.ntp`; its last good result is kept in Redis
(fast path, shared by web, worker and CLI) and in the database (history, from which the
worker restores the Redis key when Redis has lost it).

How :func:`now` stays cheap and steady: each process keeps an *anchor*, a checked instant
paired with a reading of a clock that never steps. The process that ran the check anchors
at the instant the answer arrived (wall time then + offset); a process that only reads the
stored offset anchors when it first sees that check (system time then + offset). From the
anchor on, time advances with the steady clock, so a later step of the system clock does
not move business time until the next check measures the new offset. Redis is re-read at
most every :data:`REFRESH_SECONDS`; in between :func:`now` costs two clock reads.
"""
import json
import logging
import time
from datetime import datetime, timedelta, timezone
from typing import NamedTuple

from flask import current_app, has_app_context
from sqlalchemy import func, select

from reflexion.clock.models import ClockCheck
from reflexion.extensions import db
from reflexion.redis_conn import get_redis

log = logging.getLogger(__name__)

REDIS_KEY = "reflexion:clock:last-good"
REFRESH_SECONDS = 5.0
#: A gap this large between "system time + offset" and the anchored clock means the system
#: clock was stepped since the check; it is logged (business time keeps the anchored value).
STEP_WARNING_SECONDS = 0.5

_frozen: datetime | None = None
_shift = timedelta(0)


def _steady_clock():
    """A clock that never steps; CLOCK_BOOTTIME also counts time spent suspended."""
    clock_id = getattr(time, "CLOCK_BOOTTIME", None)
    if clock_id is not None:
        try:
            time.clock_gettime(clock_id)
            return lambda: time.clock_gettime(clock_id)
        except OSError:  # pragma: no cover - kernels without CLOCK_BOOTTIME
            pass
    return time.monotonic  # pragma: no cover


steady = _steady_clock()


class _Snapshot(NamedTuple):
    """What this process uses now; replaced as a whole, so threads never see half of it."""

    app: object = None
    status: dict | None = None
    offset: timedelta = timedelta(0)
    anchor: tuple[datetime, float] | None = None  # (checked instant, steady time then)
    identity: tuple = (None, None)  # which stored check the anchor belongs to


class _Cache:
    snapshot = _Snapshot()
    loaded = float("-inf")  # steady time of the last Redis read
    step_logged = False

    # Tests pretend to be a fresh process with ``_cache.app = None``.
    @property
    def app(self):
        return self.snapshot.app

    @app.setter
    def app(self, value):
        self.snapshot = self.snapshot._replace(app=value)


_cache = _Cache()


def system_utc() -> datetime:
    """Return the machine's own, unchecked time (the only direct wall-clock read).

    Use it only where another system counts in system time (RQ's scheduler) or to
    measure an offset; business time is :func:`now`.
    """
    return datetime.now(timezone.utc)


def now() -> datetime:
    """Return the checked current instant, aware UTC."""
    if _frozen is not None:
        return _frozen
    anchored_at, anchored_steady = _current_anchor()
    return anchored_at + timedelta(seconds=steady() - anchored_steady) + _shift


def to_system_time(instant: datetime) -> datetime:
    """Return the system-clock instant at which the checked clock shows ``instant``.

    For schedulers that count in system time (RQ): schedule a deadline at
    ``to_system_time(deadline)`` so it fires on time by the checked clock.
    """
    return instant - current_offset()


def current_offset() -> timedelta:
    """Return the last good NTP offset (checked time minus system time)."""
    _refresh_if_due()
    return _cache.snapshot.offset


def last_check() -> dict | None:
    """Return the stored clock status, or ``None`` if there never was a check.

    Keys: ``offset``, ``delay`` (seconds), ``stratum``, ``server``, ``checked_at`` (ISO; the
    last good check, ``None`` if none succeeded yet), ``attempted_at``; while every server
    fails also ``failing_since`` and ``last_error``.
    """
    _refresh_if_due()
    return _cache.snapshot.status


def forget_cached_offset():
    """Make the next :func:`now` re-read the stored status (after a check elsewhere)."""
    _cache.loaded = float("-inf")


def read_cached_status(app) -> dict | None:
    """Return the status kept in Redis (the hot path: no database access)."""

    raw = get_redis(app).get(REDIS_KEY)
    return json.loads(raw) if raw else None


def read_stored_status(app) -> dict | None:
    """Return the stored status from Redis, else rebuilt from the check history."""
    return read_cached_status(app) or _status_from_history(app)


def restore_cached_status(app) -> dict | None:
    """Put the last known status back into Redis if Redis lost it (worker start, clock job).

    Web requests read only Redis, so that :func:`now` never needs a second database
    connection while a request holds one; the worker restores the key from the history.
    """

    if read_cached_status(app) is not None:
        return None
    status = _status_from_history(app)
    if status is not None:
        get_redis(app).set(REDIS_KEY, json.dumps(status))
        forget_cached_offset()
    return status


def _status_from_history(app) -> dict | None:
    """Rebuild the status from the database (Redis lost it, e.g. a restart without persistence)."""

    # A connection of its own: never touch the caller's session or transaction.
    with db.engine.connect() as connection:
        good = connection.execute(
            select(ClockCheck).where(ClockCheck.ok.is_(True)).order_by(ClockCheck.checked_at.desc()).limit(1)
        ).first()
        failed = select(func.min(ClockCheck.checked_at)).where(ClockCheck.ok.is_(False))
        if good is not None:
            failed = failed.where(ClockCheck.checked_at > good.checked_at)
        failing_since = connection.execute(failed).scalar()
    if good is None and failing_since is None:
        return None
    status = {"offset": 0.0, "delay": None, "stratum": None, "server": None, "checked_at": None}
    if good is not None:
        status.update(offset=good.offset_seconds, delay=good.delay_seconds, stratum=good.stratum,
                      server=good.server, checked_at=good.checked_at.isoformat())
    if failing_since is not None:
        status["failing_since"] = failing_since.isoformat()
    return status


def _refresh_if_due():
    if not has_app_context():
        return
    app = current_app._get_current_object()
    if _cache.snapshot.app is not app or steady() - _cache.loaded > REFRESH_SECONDS:
        _load(app)


def _current_anchor() -> tuple[datetime, float]:
    _refresh_if_due()
    snapshot = _cache.snapshot
    if snapshot.anchor is None:  # outside any app, before any check: plain system time
        return system_utc() + snapshot.offset, steady()
    return snapshot.anchor


def _load(app):
    _cache.loaded = steady()  # one reader at a time is enough; others use the snapshot
    try:
        status = read_cached_status(app)
    except Exception as exc:  # Redis away: keep what we have
        log.warning("clock: could not read the stored NTP offset (%s)", type(exc).__name__)
        status = _cache.snapshot.status if _cache.snapshot.app is app else None
    _adopt(app, status)


def _identity(status):
    return (status or {}).get("checked_at"), (status or {}).get("offset")


def _adopt(app, status, anchor: tuple[datetime, float] | None = None):
    """Use ``status``; re-anchor if it is a different check (or ``anchor`` is given)."""
    offset = timedelta(seconds=status["offset"]) if status and status.get("offset") is not None else timedelta(0)
    identity = _identity(status)
    old = _cache.snapshot
    if anchor is None and old.app is app and old.anchor is not None and identity == old.identity:
        anchor = old.anchor  # same check: keep counting from where we anchored it
        _warn_on_step(anchor, offset)
    else:
        anchor = anchor or (system_utc() + offset, steady())
        _cache.step_logged = False
    _cache.snapshot = _Snapshot(app=app, status=status, offset=offset, anchor=anchor, identity=identity)


def _warn_on_step(anchor, offset):
    anchored_at, anchored_steady = anchor
    moved = (system_utc() + offset) - (anchored_at + timedelta(seconds=steady() - anchored_steady))
    if abs(moved.total_seconds()) > STEP_WARNING_SECONDS and not _cache.step_logged:
        _cache.step_logged = True
        log.warning("clock: the system clock moved by %+.3f s since the last NTP check; "
                    "keeping the checked time until the next check", moved.total_seconds())


def adopt_check(app, status: dict, anchor: tuple[datetime, float] | None):
    """Use a check this process just ran (``anchor``: checked instant, steady time then)."""
    _cache.loaded = steady()
    _adopt(app, status, anchor)


# -- test helpers -----------------------------------------------------------------

def freeze(instant: datetime | None):
    """Stop the clock at ``instant`` (aware), or let it run again with ``None``."""
    global _frozen
    _frozen = instant


def shift(delta: timedelta):
    """Move the running clock by ``delta`` (tests that need time to pass)."""
    global _shift
    _shift = delta
