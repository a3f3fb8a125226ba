"""Command-line groups: ``flask --app wsgi <group> <command>``."""
from reflexion.booking.cli import bookings_cli
from reflexion.clock.cli import clock_cli
from reflexion.jobs.worker import worker_command
from reflexion.operator.cli import operator_cli
from reflexion.payments.cli import payments_cli
from reflexion.privacy.cli import privacy_cli
from reflexion.seed import seed_cli
from reflexion.settings.cli import settings_cli


def register_cli(app):
    app.cli.add_command(operator_cli)
    app.cli.add_command(bookings_cli)
    app.cli.add_command(clock_cli)
    app.cli.add_command(seed_cli)
    app.cli.add_command(privacy_cli)
    app.cli.add_command(payments_cli)
    app.cli.add_command(worker_command)
    app.cli.add_command(settings_cli)
