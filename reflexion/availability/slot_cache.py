"""Free slots remembered per process until the data or the clock could change them.

The week page asks for the same week's free slots on every view, and computing them costs three
queries (weekly rules, exceptions, live bookings) — about 40 % of the page. Each process keeps
the answer together with

* the **availability version**: one row (``availability_version``) whose counter rises in the
  same transaction as every committed write to ``booking``, ``weekly_rule`` or
  ``availability_exception`` — from any process, through the ORM, Core or plain SQL, because it
  is kept by the database engine's own events (:func:`watch_writes`), not by the code that
  writes. A process compares it once per computation (one primary-key read), so a booking made
  in another process is seen by the next view;
* the **instant the clock changes the answer**: the first slot still inside the notice drops
  out when the notice reaches it, the first slot beyond the horizon comes in when the horizon
  reaches it (:func:`valid_until`). Until then the same data gives the same slots.

The version starts at a random number, so a database created again never repeats an old version.
Without the row (an old schema) nothing is cached. Writes that bypass our processes (SQL typed
into ``psql`` by hand) are not counted: for them an answer is kept at most ``MAX_AGE_SECONDS``.
"""
import re
import secrets
import threading
import time
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import event, insert, inspect, select
from sqlalchemy.engine import Engine

from reflexion.availability.models import AvailabilityException, AvailabilityVersion, WeeklyRule
from reflexion.booking.models import Booking
from reflexion.extensions import db

#: The tables whose rows decide which slots are free.
WATCHED_TABLES = (Booking.__tablename__, WeeklyRule.__tablename__, AvailabilityException.__tablename__)
_WRITE = re.compile(r"\s*(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+\"?(?:%s)\"?[\s(]" % "|".join(WATCHED_TABLES),
                    re.IGNORECASE)
_CHANGED = "reflexion.availability_changed"
#: Execution option that switches the watch off (the migrations: the row may not exist yet).
UNWATCHED = "reflexion_unwatched"
_BUMP = f"UPDATE {AvailabilityVersion.__tablename__} SET version = version + 1 WHERE id = 1"
_VERSION = select(AvailabilityVersion.version).where(AvailabilityVersion.id == 1)
_EXTENSION = "reflexion_slot_cache"
_TABLE_KNOWN = "reflexion_slot_cache_table"
_MAX_ENTRIES = 256
#: How long an answer is kept at most, whatever the version says (writes from outside our processes).
MAX_AGE_SECONDS = 30.0


def first_version() -> int:
    """A random start for the counter (see the module's docstring)."""
    return secrets.randbelow(2**62)


def watch_writes():
    """Keep the availability version with every commit that wrote to a watched table (once per process)."""
    if event.contains(Engine, "after_cursor_execute", _note_write):
        return
    event.listen(Engine, "after_cursor_execute", _note_write)
    event.listen(Engine, "commit", _raise_version)
    event.listen(Engine, "rollback", _forget_write)
    event.listen(AvailabilityVersion.__table__, "after_create", _insert_first_row)


def _note_write(conn, cursor, statement, parameters, context, executemany):
    if _WRITE.match(statement) and not conn.get_execution_options().get(UNWATCHED):
        conn.info[_CHANGED] = True


def _raise_version(conn):
    if not conn.info.pop(_CHANGED, False):
        return
    # On the DBAPI connection, inside the transaction being committed: no events run again. In a
    # savepoint, so a database without the row's table (not migrated yet) still commits its data.
    cursor = conn.connection.cursor()
    try:
        cursor.execute("SAVEPOINT reflexion_availability")
        try:
            cursor.execute(_BUMP)
        except conn.dialect.loaded_dbapi.Error:
            cursor.execute("ROLLBACK TO SAVEPOINT reflexion_availability")
        cursor.execute("RELEASE SAVEPOINT reflexion_availability")
    finally:
        cursor.close()


def _forget_write(conn):
    conn.info.pop(_CHANGED, None)


def _insert_first_row(table, connection, **kwargs):
    connection.execute(insert(table).values(id=1, version=first_version()))


def current_version() -> int | None:
    """The availability version the caller's transaction sees, or None when there is none.

    Read on the session's own connection: a second connection could wait for the pool while
    this request holds the schedule's write lock (a booking POST), and the others wait for that.
    """
    connection = db.session.connection()
    known = current_app.extensions.setdefault(_TABLE_KNOWN, {})
    if connection.engine.url not in known:  # once per app and database: a schema before the migration
        known[connection.engine.url] = inspect(connection).has_table(AvailabilityVersion.__tablename__)
    if not known[connection.engine.url]:
        return None
    return connection.execute(_VERSION).scalar()


def valid_until(candidates, earliest: datetime, latest: datetime, now: datetime) -> datetime:
    """The last instant at which the clock alone leaves the same ``candidates`` (sorted) bookable.

    A slot stays bookable while ``now + notice <= start``; one beyond the horizon becomes
    bookable once ``start <= now + horizon``.
    """
    until = datetime.max.replace(tzinfo=now.tzinfo)
    for slot in candidates:
        if slot.start >= earliest:  # the first one inside the rules: the notice reaches it first
            until = min(until, now + (slot.start - earliest))
            break
    for slot in candidates:
        if slot.start > latest:  # the first one beyond the horizon: the horizon reaches it
            until = min(until, now + (slot.start - latest) - timedelta(microseconds=1))
            break
    return until


class _Cache:
    def __init__(self):
        self.entries: dict = {}
        self.lock = threading.Lock()


def remembered(key, now: datetime, compute):
    """Return the slots of ``compute()`` (which gives ``(slots, valid_until)``) for ``key``,
    computed again only when the availability version moved or the clock reached ``valid_until``."""
    version = current_version()
    if version is None:
        return compute()[0]
    cache = current_app.extensions.get(_EXTENSION) or current_app.extensions.setdefault(_EXTENSION, _Cache())
    kept = cache.entries.get(key)
    if kept is not None and kept[0] == version and now <= kept[1] and time.monotonic() < kept[2]:
        return kept[3]
    slots, until = compute()
    with cache.lock:
        if len(cache.entries) >= _MAX_ENTRIES:
            cache.entries.clear()
        cache.entries[key] = (version, until, time.monotonic() + MAX_AGE_SECONDS, slots)
    return slots

