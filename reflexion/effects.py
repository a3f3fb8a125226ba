"""Side effects that must wait for the transaction: enqueue jobs, send e-mails.

Domain functions call :func:`after_commit`; the callbacks run once the session commits and
are dropped on rollback, so no job or e-mail ever refers to data that was not saved. A
callback that fails (Redis away) is logged and left to the periodic reconcile.
"""
import logging

from sqlalchemy import event
from sqlalchemy.orm import Session

from reflexion.extensions import db

log = logging.getLogger(__name__)
_KEY = "reflexion_after_commit"


def after_commit(callback, *args, **kwargs):
    """Run ``callback(*args, **kwargs)`` after the current transaction commits.

    Registered inside a savepoint (``begin_nested``), it is dropped if that savepoint rolls
    back and otherwise waits for the outermost commit: SQLAlchemy fires its commit and rollback
    events for savepoints too, which must neither run nor drop the outer transaction's effects.
    """
    session = db.session()
    session.info.setdefault(_KEY, []).append((session.get_nested_transaction(), callback, args, kwargs))


def _within(transaction, savepoint) -> bool:
    while transaction is not None:
        if transaction is savepoint:
            return True
        transaction = transaction.parent
    return False


@event.listens_for(Session, "after_commit")
def _run_callbacks(session):
    if session.in_nested_transaction():
        return  # a savepoint released: its effects wait for the real commit
    callbacks = session.info.pop(_KEY, [])
    for _, callback, args, kwargs in callbacks:
        try:
            callback(*args, **kwargs)
        except Exception:
            log.exception("after-commit effect %s failed; the reconcile job will catch up",
                          getattr(callback, "__name__", callback))


@event.listens_for(Session, "after_rollback")
def _drop_callbacks(session):
    savepoint = session.get_nested_transaction()
    if savepoint is None:
        session.info.pop(_KEY, None)
        return
    # a savepoint rolled back: only the effects registered inside it go
    kept = [item for item in session.info.get(_KEY, []) if not _within(item[0], savepoint)]
    session.info[_KEY] = kept
