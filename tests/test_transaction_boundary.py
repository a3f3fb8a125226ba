"""One transaction boundary: only reflexion/db.py commits or rolls back (and the error pages
reset a failed session before rendering); domain functions flush."""
import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "reflexion"
#: Where ending a transaction is allowed, and why.
ALLOWED = {
    "db.py": "the boundary itself: requests, jobs and CLI commands",
    "errors.py": "an error page resets a failed session before it renders",
    "health.py": "a failed database probe resets the session so the other probes can run",
}


def _calls(path):
    tree = ast.parse(path.read_text(), filename=str(path))
    for node in ast.walk(tree):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and node.func.attr in ("commit", "rollback") and not node.args):
            yield node.func.attr, node.lineno


def test_only_the_boundary_commits_or_rolls_back():
    found = [f"{path.relative_to(PACKAGE)}:{line} {name}()"
             for path in sorted(PACKAGE.rglob("*.py")) if path.name not in ALLOWED or path.parent != PACKAGE
             for name, line in _calls(path)]
    assert found == [], "commit/rollback outside reflexion/db.py (use unit_of_work or the request):\n" + "\n".join(found)


def test_a_refused_operator_booking_saves_nothing(app, client, db, frozen_now):
    """A 4xx response rolls the request back, even after the domain flushed."""
    from sqlalchemy import func, select

    from reflexion.booking.models import Booking
    from reflexion.operator.auth import create_operator

    frozen_now()
    create_operator("op@example.com", "correct horse battery")
    db.session.commit()
    assert client.post("/operator/login", data={"email": "op@example.com",
                                                "password": "correct horse battery"}).status_code == 303
    form = {"day": "2026-11-24", "start_time": "10:00", "name": "Erika", "email": "erika@example.org",
            "call_handle": "erika@example.org", "lang": "de"}
    assert client.post("/operator/bookings/new", data=form).status_code == 303
    assert client.post("/operator/bookings/new", data=form).status_code == 409  # overlaps the first
    db.session.expire_all()
    assert db.session.scalar(select(func.count(Booking.id))) == 1
