"""Which e-mail follows which booking event. Filled in by the e-mail work."""


def booking_created(booking):
    """Queue the 'booking received' e-mail (with payment instructions)."""


def state_changed(booking, entry):
    """Queue the e-mail for a state change (confirmed, expired, cancelled), if any."""
