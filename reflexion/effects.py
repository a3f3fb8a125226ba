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
    """Run ``callback(*args, **kwargs)`` after the current transaction commits."""
    db.session().info.setdefault(_KEY, []).append((callback, args, kwargs))


@event.listens_for(Session, "after_commit")
def _run_callbacks(session):
    callbacks = session.info.pop(_KEY, [])
    for callback, args, kwargs in callbacks:
        try:
            callback(*args, **kwargs)
        except Exception:
            log.exception("after-commit effect %s failed; the reconcile job will catch up",
                          getattr(callback, "__name__", callback))


@event.listens_for(Session, "after_rollback")
def _drop_callbacks(session):
    session.info.pop(_KEY, None)
