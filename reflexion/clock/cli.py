"""``flask clock check`` and ``flask clock status``."""
import json

import click
from flask.cli import AppGroup

from reflexion.clock import ntp
from reflexion.clock.status import summary
from reflexion.db import unit_of_work

clock_cli = AppGroup("clock", help="The NTP-checked clock.")


@clock_cli.command("check")
def check_command():
    """Check the clock against the NTP servers once and store the result.

    Exits with status 1 when no server gave a usable answer (the last offset stays in use).
    """

    with unit_of_work():
        result = ntp.check()
    if not result.configured:
        click.echo("No NTP servers configured (REFLEXION_NTP_SERVERS); nothing checked.", err=True)
        raise click.exceptions.Exit(1)
    for answer in result.answers:
        if answer is not result.chosen:
            click.echo(f"also answered: {answer.server}: offset {answer.offset * 1000:+.1f} ms, "
                       f"delay {answer.delay * 1000:.1f} ms, stratum {answer.stratum}")
    for server, reason in result.failures.items():
        click.echo(f"skipped: {server}: {reason}")
    chosen = result.chosen
    if chosen is not None:
        click.echo(f"Checked against {chosen.server}: offset {chosen.offset * 1000:+.1f} ms, "
                   f"delay {chosen.delay * 1000:.1f} ms, stratum {chosen.stratum}")
        return
    status = result.status
    last = (f"last good check {status['checked_at']} against {status['server']}" if status.get("checked_at")
            else "never checked successfully")
    click.echo(f"All time servers failed; keeping offset {status['offset'] * 1000:+.1f} ms ({last}; "
               f"failing since {status['failing_since']}).", err=True)
    raise click.exceptions.Exit(1)


@clock_cli.command("status")
@click.option("--json", "as_json", is_flag=True, help="Print the status as JSON.")
def status_command(as_json):
    """Show the stored clock status (what /healthz reports)."""

    info = summary()
    if as_json:
        click.echo(json.dumps(info, indent=2))
        return
    if info["checked"]:
        click.echo(f"Checked against {info['server']} {info['age_seconds']} s ago: offset {info['offset_ms']:+.1f} ms, "
                   f"delay {info['delay_ms']} ms, stratum {info['stratum']}")
    else:
        click.echo("Never checked successfully.")
    if info["failing_since"]:
        click.echo(f"Failing since {info['failing_since']}: {info['last_error']}")
    click.echo(f"stale: {'yes' if info['stale'] else 'no'}; warnings: {', '.join(info['warnings']) or 'none'}")
