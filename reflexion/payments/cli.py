"""``flask payments import FILE [--json]``: import a bank statement from the command line.

Prints the counts and, with ``--json``, every line's outcome. Exit status 1 with a message
(in ``--lang``, German by default) when the file cannot be imported; nothing is applied then.
"""
import json
import sys

import click
from flask.cli import AppGroup
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError

from reflexion.booking.states import IllegalTransition
from reflexion.db import unit_of_work
from reflexion.payments.operations import import_statement, summary_json
from reflexion.payments.statements import StatementError

payments_cli = AppGroup("payments", help="Bank-statement import.")


@payments_cli.command("import")
@click.argument("path", type=click.Path(dir_okay=False, allow_dash=True))
@click.option("--json", "as_json", is_flag=True, help="Print counts and each line's outcome as JSON.")
@click.option("--lang", type=click.Choice(["de", "sv"]), default="de", show_default=True,
              help="Language of the messages.")
def import_command(path, as_json, lang):
    """Import the camt.053 or MT940 statement PATH ("-": standard input) and confirm matching payments."""
    with force_locale(lang):
        try:
            with click.open_file(path, "rb") as handle:
                data = handle.read()
        except OSError as exc:
            raise click.ClickException(_("The file %(path)s cannot be read.", path=path)) from exc
        try:
            with unit_of_work():
                result = import_statement(data, filename=None if path == "-" else click.format_filename(path),
                                          actor="cli")
        except StatementError as exc:
            if as_json:
                click.echo(json.dumps({"ok": False, "error": exc.kind, "message": str(exc.message)},
                                      ensure_ascii=False, indent=2))
                sys.exit(1)
            raise click.ClickException(str(exc.message)) from exc
        except (IntegrityError, IllegalTransition) as exc:
            raise click.ClickException(_("Another import or change happened at the same time; nothing was applied. "
                                         "Please import the statement again.")) from exc
        if as_json:
            click.echo(json.dumps(summary_json(result), ensure_ascii=False, indent=2))
            return
        record = result.record
        click.echo(_("Statement imported (%(format)s). Confirmed: %(matched)d; for your decision: %(attention)d; "
                     "imported before: %(again)d; not payments received: %(skipped)d.",
                     format=record.format, matched=record.matched, attention=record.needs_attention,
                     again=record.already_imported, skipped=record.skipped))
        for item in result.lines:
            if item.identity is not None and item.outcome != "matched":
                line = item.line
                click.echo(f"  {line.booked_on}  {line.amount_cents / 100:.2f} {line.currency}  {item.outcome}"
                           f"  {item.booking.ref if item.booking else '-'}  {line.remittance_text}")
