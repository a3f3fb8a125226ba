"""Reading the stored settings, cached per process and checked against the version row.

Every process keeps the last values it read together with their version. A request compares
that version with the database's once (the first ``setting()`` it reads), anything outside a
request (a job, a command) on every read; only when the counter moved are the rows read again.
So a change committed by one process reaches every web process and the worker with their next
request or job, without a restart. The database is the only store: a Redis outage changes
nothing here.
"""
import json
import logging
import threading

from flask import current_app, has_request_context, request
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from reflexion.extensions import db
from reflexion.settings.models import SettingsVersion, StoredSetting

log = logging.getLogger(__name__)

_EXTENSION = "reflexion_settings"
_REQUEST_KEY = "reflexion.settings"
_VERSION = select(SettingsVersion.version).where(SettingsVersion.id == 1)
_ROWS = select(StoredSetting.key, StoredSetting.value)


class _Cache:
    def __init__(self):
        self.version = None
        self.values: dict = {}
        self.lock = threading.Lock()


def _cache(app) -> _Cache:
    cache = app.extensions.get(_EXTENSION)
    if cache is None:
        cache = app.extensions.setdefault(_EXTENSION, _Cache())
    return cache


def stored_values() -> dict:
    """The values changed in the panel or on the command line (key -> value), current."""
    if has_request_context():
        values = request.environ.get(_REQUEST_KEY)
        if values is None:
            values = request.environ[_REQUEST_KEY] = _refreshed()
        return values
    return _refreshed()


def _refreshed() -> dict:
    cache = _cache(current_app)
    try:
        # A connection of its own: never part of (or beginning) the caller's transaction.
        with db.engine.connect() as connection:
            version = connection.execute(_VERSION).scalar() or 0
            if version != cache.version:
                rows = connection.execute(_ROWS).all()
                with cache.lock:
                    cache.values = {key: json.loads(value) for key, value in rows}
                    cache.version = version
    except SQLAlchemyError as exc:  # no settings tables yet (before the first migration)
        if cache.version is None:
            log.warning("settings: cannot read the stored settings (%s); using the environment's",
                        exc.__class__.__name__)
            cache.version = -1
    return cache.values


def forget():
    """Drop this process's cached values (after a change this process committed)."""
    cache = _cache(current_app)
    with cache.lock:
        cache.version = None
        cache.values = {}
    if has_request_context():
        request.environ.pop(_REQUEST_KEY, None)
