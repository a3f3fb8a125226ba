"""The transaction boundary: the request, the job or the CLI command commits or rolls back once.

Domain functions flush and never commit or roll back their caller's transaction; where a
conflict is expected they use a savepoint (``db.session.begin_nested()``, the slot insert).

- A request: :func:`init_app` commits after the view when the response is a success or a
  redirect (status < 400) and rolls back otherwise — a refused form saves nothing. A view
  whose refusal must still keep what happened first (the clock's decisions, a counted
  verification try) calls :func:`keep_changes`; a redirect after a refused action that must
  save nothing calls :func:`discard_changes`.
- A job or a CLI command: ``with unit_of_work():`` or the :func:`transactional` decorator.
"""
from collections import namedtuple
from contextlib import contextmanager
from functools import wraps

from flask import g
from sqlalchemy import event
from sqlalchemy.orm import Session

from reflexion.extensions import db

_WROTE = "reflexion_wrote"


@event.listens_for(Session, "after_flush")
def _flushed(session, flush_context):
    session.info[_WROTE] = True


@event.listens_for(Session, "do_orm_execute")
def _statement(execute_state):
    if not execute_state.is_select:  # a bulk UPDATE/DELETE/INSERT (the compare-and-set)
        execute_state.session.info[_WROTE] = True


@event.listens_for(Session, "after_transaction_end")
def _ended(session, transaction):
    if transaction.parent is None:
        session.info.pop(_WROTE, None)


def has_writes(session) -> bool:
    """Tell whether this transaction wrote (or holds unflushed changes)."""
    return bool(session.info.get(_WROTE) or session.new or session.dirty or session.deleted)


def keep_changes():
    """Commit this request's changes even though its response refuses (4xx)."""
    g.keep_changes = True


def discard_changes():
    """Roll this request back even though its response is a success or a redirect."""
    g.discard_changes = True


def _end_request(response):
    # Popped here: in tests one app context (and so one ``g``) spans several requests.
    keep, discard = g.pop("keep_changes", False), g.pop("discard_changes", False)
    registry = db.session.registry
    if not registry.has():  # the view never touched the ORM session (the polled partial)
        return response
    session = registry()
    if not session.in_transaction() or not has_writes(session):
        return response  # a read: nothing to commit (the app context's end closes the session)
    if (response.status_code < 400 or keep) and not discard:
        session.commit()
    else:
        session.rollback()
    return response


def init_app(app):
    """Make each request one unit of work (registered first, so it runs after the others)."""
    app.after_request_funcs.setdefault(None, []).insert(0, _end_request)


def abandon():
    """Roll back at once: after a failed flush (a conflict another request won) the session can do
    nothing else, and the refusal page that follows may still need to read."""
    db.session.rollback()


@contextmanager
def unit_of_work():
    """Commit what the block did, or roll it all back if it raises (jobs, CLI commands)."""
    try:
        yield db.session
    except BaseException:
        db.session.rollback()
        raise
    db.session.commit()


def transactional(func):
    """Run ``func`` as one unit of work (a job's body, a CLI command)."""

    @wraps(func)
    def wrapper(*args, **kwargs):
        with unit_of_work():
            return func(*args, **kwargs)

    return wrapper


class OneRowQuery:
    """A fixed single-row SELECT run straight on the driver's cursor, for the every-second path.

    SQLAlchemy compiles the statement once per dialect and converts the values with the
    columns' own result processors (our UTC datetimes among them), chosen as SQLAlchemy's
    Result chooses them, from the driver's column types; only the Connection and Result layers
    are skipped, which are most of the cost of a one-row read (about 50 µs against 12 µs on
    SQLite). Read-only, outside the ORM session; engine events do not see it.
    """

    def __init__(self, statement):
        self.statement = statement
        self._compiled = {}  # dialect name -> (sql, positional parameter names or None, Row class)
        self._processors = {}  # dialect name -> one converter (or None) per column

    def _prepare(self, dialect):
        compiled = self.statement.compile(dialect=dialect)
        names = list(compiled.positiontup) if compiled.positional else None
        row = namedtuple("Row", [column.key for column in self.statement.selected_columns])
        return compiled.string, names, row

    def _converters(self, dialect, description):
        return [column.type.dialect_impl(dialect).result_processor(dialect, described[1])
                for column, described in zip(self.statement.selected_columns, description)]

    def first(self, engine, **params):
        """The row as a named tuple, or None."""
        dialect = engine.dialect
        prepared = self._compiled.get(dialect.name)
        if prepared is None:
            prepared = self._compiled[dialect.name] = self._prepare(dialect)
        sql, names, row = prepared
        connection = engine.raw_connection()
        try:
            cursor = connection.cursor()
            try:
                cursor.execute(sql, tuple(params[name] for name in names) if names is not None else params)
                values = cursor.fetchone()
                processors = self._processors.get(dialect.name)
                if processors is None:
                    processors = self._processors[dialect.name] = self._converters(dialect, cursor.description)
            finally:
                cursor.close()
        finally:  # back to the pool, which rolls the driver's read transaction back
            connection.close()
        if values is None:
            return None
        return row(*(value if process is None else process(value) for process, value in zip(processors, values)))
