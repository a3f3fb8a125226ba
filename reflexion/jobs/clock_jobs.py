"""Clock-check jobs. Filled in by the clock work."""


def start(app):
    """Run a clock check now and schedule the periodic ones."""
