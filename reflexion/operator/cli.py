"""``flask operator create --email E`` (password from stdin or a prompt)."""
import sys

import click
from sqlalchemy import func, select
from flask.cli import AppGroup

from reflexion.db import unit_of_work
from reflexion.extensions import db
from reflexion.operator import two_factor
from reflexion.operator.auth import create_operator, revoke_sessions
from reflexion.operator.models import Operator

operator_cli = AppGroup("operator", help="Manage operator accounts.")


@operator_cli.command("create")
@click.option("--email", required=True, help="The operator's e-mail address (login name).")
def create(email):
    """Create an operator; the password is read from stdin, or prompted for on a terminal."""
    if sys.stdin.isatty():
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    try:
        with unit_of_work():
            create_operator(email, password)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"operator {email.strip().lower()} created")
    click.echo("Next: log in at /operator/login and set up two-factor login on the Account page "
               "(/operator/account) with an authenticator app on your phone.")


@operator_cli.command("reset-2fa")
@click.option("--email", required=True, help="The operator's e-mail address.")
def reset_two_factor(email):
    """Switch an operator's two-factor login off (phone and recovery codes lost); ends their sessions."""
    with unit_of_work():
        operator = db.session.scalar(select(Operator).where(func.lower(Operator.email) == email.strip().lower()))
        if operator is None:
            raise click.ClickException(f"no operator has the e-mail address {email.strip().lower()}")
        two_factor.disable(operator)
        revoke_sessions(operator.id)
    click.echo(f"two-factor login switched off for {operator.email}; log in with the password and set it up again")
