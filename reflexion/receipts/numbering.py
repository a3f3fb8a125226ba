"""Gap-free document numbers, allocated in the database.

The counter row of a series is raised with one ``UPDATE … SET last_number = last_number + 1``
in the caller's transaction, then read back. The row stays locked until that transaction ends
(PostgreSQL: a row lock; SQLite: the database's write lock), so two workers never get the
same number, and a rollback gives the number back with everything else: no gaps. The caller
commits once; nothing here commits.
"""
from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError

from reflexion.extensions import db
from reflexion.receipts.models import DocumentCounter

_counter = DocumentCounter.__table__


def next_number(series: str) -> int:
    """The next number of ``series`` (1 for the first), reserved for the current transaction."""
    session = db.session
    raised = session.execute(update(_counter).where(_counter.c.series == series)
                             .values(last_number=_counter.c.last_number + 1))
    if raised.rowcount == 0:
        # The migration creates the counters; a database made by create_all() starts without.
        try:
            with session.begin_nested():
                session.execute(insert(_counter).values(series=series, last_number=1))
            return 1
        except IntegrityError:  # another transaction created it first: count on from its row
            session.execute(update(_counter).where(_counter.c.series == series)
                            .values(last_number=_counter.c.last_number + 1))
    return session.scalar(select(_counter.c.last_number).where(_counter.c.series == series))
