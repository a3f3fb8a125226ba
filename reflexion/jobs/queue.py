"""Queues, and the app that job functions run in."""
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
        from reflexion import create_app

        _job_app = create_app()
    return _job_app


def use_job_app(app):
    """Let jobs of this process use ``app`` (the worker command and tests pass theirs)."""
    global _job_app
    _job_app = app
