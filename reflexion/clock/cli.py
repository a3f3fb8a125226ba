"""``flask clock check``."""
from flask.cli import AppGroup

clock_cli = AppGroup("clock", help="The NTP-checked clock.")
