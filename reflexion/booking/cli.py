"""``flask bookings ...``: operators' scripts create, confirm and read bookings."""
from flask.cli import AppGroup

bookings_cli = AppGroup("bookings", help="Create and inspect bookings.")
