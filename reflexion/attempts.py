"""Failed attempts counted in the database, for the limits that must hold across processes.

Flask-Limiter keeps its counters in Redis and, while Redis is down, in each process's memory
(README, "Rate limits while Redis is down"). For guesses at a secret — a booking's access key —
that would multiply the limit by the number of processes, so those failures are counted here,
in the database every process shares, in fixed windows.

A failure is recorded in its own short transaction (:func:`record_failure`): the request that
refuses the guess rolls its own work back, and the count must survive that.
"""
from dataclasses import dataclass

from sqlalchemy import Integer, String, delete, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Mapped, mapped_column

from reflexion import clock
from reflexion.extensions import db


class FailedAttempts(db.Model):
    """How many failed attempts ``scope`` (e.g. ``access-ip:203.0.113.9``) made in one window."""

    __tablename__ = "failed_attempts"

    scope: Mapped[str] = mapped_column(String(200), primary_key=True)
    window: Mapped[int] = mapped_column(Integer, primary_key=True)  # window start, epoch seconds
    count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)


@dataclass(frozen=True)
class Limit:
    """At most ``failures`` failed attempts per ``seconds`` (fixed windows)."""

    failures: int
    seconds: int

    def window(self) -> int:
        now = int(clock.now().timestamp())
        return now - now % self.seconds


#: Wrong access keys: per client address, and per booking (bounds guessing spread over many addresses).
ACCESS_KEY_PER_ADDRESS = Limit(failures=10, seconds=600)
ACCESS_KEY_PER_BOOKING = Limit(failures=30, seconds=3600)


def blocked(scope: str, limit: Limit) -> bool:
    """True when ``scope`` has used up its failures in the current window."""
    count = db.session.scalar(select(FailedAttempts.count).where(
        FailedAttempts.scope == scope, FailedAttempts.window == limit.window()))
    return (count or 0) >= limit.failures


def record_failure(*scoped: tuple[str, Limit]):
    """Count one failure for each ``(scope, limit)``, committed at once on its own connection."""
    with db.engine.begin() as connection:
        insert = pg_insert if connection.dialect.name == "postgresql" else sqlite_insert
        for scope, limit in scoped:
            statement = insert(FailedAttempts).values(scope=scope, window=limit.window(), count=1)
            connection.execute(statement.on_conflict_do_update(
                index_elements=[FailedAttempts.scope, FailedAttempts.window],
                set_={"count": FailedAttempts.count + 1}))
        # Old windows are of no use: keep the table small (a day is longer than any window).
        oldest = int(clock.now().timestamp()) - 86400
        connection.execute(delete(FailedAttempts).where(FailedAttempts.window < oldest))


def failures(scope: str, limit: Limit) -> int:
    """Failures of ``scope`` in the current window (for tests and the panel)."""
    return db.session.scalar(select(func.coalesce(func.sum(FailedAttempts.count), 0)).where(
        FailedAttempts.scope == scope, FailedAttempts.window == limit.window()))
