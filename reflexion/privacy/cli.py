"""``flask privacy purge | export EMAIL | erase EMAIL``."""
import json

import click
from flask.cli import AppGroup

from reflexion.db import unit_of_work
from reflexion.privacy import retention

def _summary(counts):
    return (f"anonymised {counts['bookings']} booking(s), {counts['messages']} message(s) "
            f"and {counts['declarations']} withdrawal declaration(s)")


privacy_cli = AppGroup("privacy", help="Client data: retention, export, erasure.")


@privacy_cli.command("purge")
def purge():
    """Anonymise finished bookings, contact messages and withdrawal declarations past their retention period."""
    with unit_of_work():
        counts = retention.purge_expired()
    click.echo(_summary(counts))


@privacy_cli.command("export")
@click.argument("email")
def export(email):
    """Print everything stored about one client as JSON."""
    click.echo(json.dumps(retention.export_client(email), ensure_ascii=False, indent=2))


@privacy_cli.command("erase")
@click.argument("email")
def erase(email):
    """Anonymise everything about one client (refused while a booking is live)."""
    try:
        with unit_of_work():
            counts = retention.erase_client(email)
    except retention.ErasureRefused as exc:
        raise click.ClickException(f"cancel or finish these bookings first: {', '.join(exc.refs)}") from exc
    click.echo(_summary(counts))
