"""The practice's settings: the one accessor for every value the operator may change.

``config.py`` reads the deployment's environment (database, Redis, mail server, secrets).
The practice's own details (brand, fee, bank details, booking rules, call platforms, contact
data, legal texts) are read through ``setting(key)`` only, so that where they are stored and
how a change reaches every process is decided here and nowhere else.
"""
from flask import current_app


def setting(key: str):
    """Return the current value of the practice setting ``key`` (e.g. ``"FEE_AMOUNT"``)."""
    return current_app.config[key]
