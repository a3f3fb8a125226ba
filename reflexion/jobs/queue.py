"""Queues, and the app that job functions run in."""
import importlib

from flask import current_app
from rq import Queue

from reflexion.redis_conn import get_redis

#: Deadline timers get their own queue so a slow e-mail never delays a session's end.
TIMERS = "timers"
DEFAULT = "default"
MAIL = "mail"
ALL_QUEUES = (TIMERS, DEFAULT, MAIL)

_job_app = None


def get_queue(name: str = DEFAULT, app=None) -> Queue:
    return Queue(name, connection=get_redis(app or current_app))


def job_app():
    """The app jobs run in: created once per worker process (plain ``rq worker`` works too)."""
    global _job_app
    if _job_app is None:
        # The factory is looked up when first needed, not imported: the app wires up the job
        # layer, so the job layer must not depend on it (tests/test_imports.py).
        _job_app = importlib.import_module("reflexion").create_app()
    return _job_app


def use_job_app(app):
    """Let jobs of this process use ``app`` (the worker command and tests pass theirs)."""
    global _job_app
    _job_app = app
