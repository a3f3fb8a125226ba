"""``flask operator create --email E`` (password from stdin or a prompt)."""
import sys

import click
from flask.cli import AppGroup

from reflexion.db import unit_of_work
from reflexion.operator.auth import create_operator

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
