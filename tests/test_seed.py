"""The demo operator exists only in demo mode; its password is handed out once."""
import os
import stat
from pathlib import Path

from sqlalchemy import func, select

from reflexion.availability.models import WeeklyRule
from reflexion.operator.models import Operator


def test_without_demo_mode_an_empty_database_gets_opening_hours_but_no_operator(app, db):
    from reflexion.seed import seed_if_empty

    assert app.config["DEMO_MODE"] is False  # the default outside make run
    assert seed_if_empty() is None
    assert db.session.scalar(select(func.count(Operator.id))) == 0
    assert db.session.scalar(select(func.count(WeeklyRule.id))) > 0


def test_demo_mode_seeds_one_operator_and_returns_its_password_once(app, db):
    from reflexion.operator.auth import authenticate
    from reflexion.seed import DEMO_EMAIL, seed_if_empty

    app.config["DEMO_MODE"] = True
    password = seed_if_empty()
    assert password and authenticate(DEMO_EMAIL, password) is not None
    kept = os.path.join(app.config["INSTANCE_DIR"], "demo-operator.txt")
    assert stat.S_IMODE(os.stat(kept).st_mode) == 0o600
    assert seed_if_empty() is None  # the next start hands out nothing
    assert db.session.scalar(select(func.count(Operator.id))) == 1


def test_the_runner_turns_demo_mode_on_only_for_make_run():
    root = Path(__file__).resolve().parent.parent
    text = (root / "reflexion" / "runner.py").read_text()
    assert 'os.environ.setdefault("REFLEXION_DEMO", "1")' in text
    procfile = (root / "Procfile").read_text()
    assert "REFLEXION_DEMO" not in procfile and "seed" not in procfile
