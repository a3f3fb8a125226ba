"""What follows booking events: timer jobs and e-mails.

The domain functions call these after changing a booking; each area adds its part here
(and only here), so the consequences of an event can be read in one place. Effects that
leave the process (Redis, SMTP) are deferred until the transaction commits.
"""
from reflexion.effects import after_commit


def booking_created(booking):
    """A booking was made: payment-deadline timer, 'booking received' e-mail."""
    from reflexion.jobs import timers
    from reflexion.mail import notify

    after_commit(timers.schedule_deadlines_by_id, booking.id)
    notify.booking_created(booking)


def state_changed(booking, entry):
    """``booking`` moved (``entry`` is the audit line): reschedule timers, tell the client."""
    from reflexion.jobs import timers
    from reflexion.mail import notify

    after_commit(timers.schedule_deadlines_by_id, booking.id)
    notify.state_changed(booking, entry)
