"""First-run data: opening hours on an empty database, and — only in demo mode
(``REFLEXION_DEMO=1``, what ``make run`` uses unless told otherwise) — a demo operator.

Production (Procfile, gunicorn) never seeds an operator: create the real one with
``flask --app wsgi operator create --email …``.
"""
import secrets
from datetime import time
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import func, select

from reflexion.availability.models import WeeklyRule
from reflexion.db import unit_of_work
from reflexion.extensions import db
from reflexion.files import write_private
from reflexion.operator.auth import create_operator
from reflexion.operator.models import Operator

seed_cli = AppGroup("seed", help="First-run data.")

DEMO_EMAIL = "operator@example.com"
DEFAULT_WEEK = [(day, time(9), time(12)) for day in range(5)] + [(day, time(14), time(18)) for day in range(4)]


def seed_if_empty() -> str | None:
    """Seed an empty database; return the demo password if a demo operator was just created."""

    password = None
    with unit_of_work():  # a command of its own (start-up, ``flask seed demo``)
        if current_app.config.get("DEMO_MODE") and db.session.scalar(select(func.count(Operator.id))) == 0:
            password = secrets.token_urlsafe(12)
            create_operator(DEMO_EMAIL, password)
            write_private(Path(current_app.config["INSTANCE_DIR"]) / "demo-operator.txt",
                          f"{DEMO_EMAIL}\n{password}\n".encode())
        if db.session.scalar(select(func.count(WeeklyRule.id))) == 0:
            db.session.add_all(WeeklyRule(weekday=d, start=s, end=e) for d, s, e in DEFAULT_WEEK)
    return password


@seed_cli.command("demo")
def demo():
    """Seed an empty database with a demo operator and print its login."""
    current_app.config["DEMO_MODE"] = True
    seed_if_empty()
    path = Path(current_app.config["INSTANCE_DIR"]) / "demo-operator.txt"
    if path.exists():
        email, password = path.read_text().split()[:2]
        click.echo(f"Demo operator login: {email} / {password}  (from {path})")
