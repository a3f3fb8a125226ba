"""Database connection settings: SQLite in WAL mode with foreign keys."""
from sqlalchemy import event
from sqlalchemy.engine import Engine

_registered = False


def register_db_events(app):
    global _registered
    if _registered:
        return
    _registered = True

    @event.listens_for(Engine, "connect")
    def _sqlite_pragmas(dbapi_connection, connection_record):
        module = type(dbapi_connection).__module__
        if "sqlite" not in module:
            return
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=15000")
        cursor.close()
