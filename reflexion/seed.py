"""First-run data: a demo operator and a weekly availability, only when the database is empty."""
import secrets
from datetime import time
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import func, select

from reflexion.availability.models import WeeklyRule
from reflexion.extensions import db
from reflexion.operator.auth import create_operator
from reflexion.operator.models import Operator

seed_cli = AppGroup("seed", help="First-run data.")

DEMO_EMAIL = "operator@example.com"
DEFAULT_WEEK = [(day, time(9), time(12)) for day in range(5)] + [(day, time(14), time(18)) for day in range(4)]


def seed_if_empty() -> str | None:
    """Create the demo operator and opening hours on an empty database; return the demo password."""
    password = None
    if db.session.scalar(select(func.count(Operator.id))) == 0:
        password = secrets.token_urlsafe(12)
        create_operator(DEMO_EMAIL, password)
        path = Path(current_app.config["INSTANCE_DIR"]) / "demo-operator.txt"
        path.write_text(f"{DEMO_EMAIL}\n{password}\n")
        path.chmod(0o600)
    if db.session.scalar(select(func.count(WeeklyRule.id))) == 0:
        db.session.add_all(WeeklyRule(weekday=d, start=s, end=e) for d, s, e in DEFAULT_WEEK)
    db.session.commit()
    return password


@seed_cli.command("demo")
def demo():
    """Seed an empty database and print the demo login."""
    seed_if_empty()
    path = Path(current_app.config["INSTANCE_DIR"]) / "demo-operator.txt"
    if path.exists():
        email, password = path.read_text().split()[:2]
        click.echo(f"Demo operator login: {email} / {password}  (from {path})")
