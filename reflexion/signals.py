"""What happened in the domain, announced with blinker signals (as Flask itself does).

The domain sends these at the change, inside the transaction that makes it; it never imports
the job or mail layers. Those subscribe when the app starts (:func:`reflexion.create_app`
calls their ``connect_signals``):

- ``jobs.timers`` reschedules the booking's deadline timers, after the commit;
- ``mail.notify`` writes the e-mail's outbox row in the same transaction (a rollback sends
  nothing) and enqueues its send job and the reminder after the commit.

Receivers that reach outside the database (Redis, SMTP) defer that work with
:func:`reflexion.effects.after_commit`, taking plain values, never the session.
"""
from blinker import Namespace

_domain = Namespace()

#: A booking was made. ``sender``: the booking (flushed).
booking_created = _domain.signal("booking-created")
#: A booking changed state. ``sender``: the booking; ``entry``: its audit line.
#: Payment confirmation (to ``confirmed``) and cancellation (to ``cancelled``) are state changes.
state_changed = _domain.signal("state-changed")
#: A contact message arrived. ``sender``: the message (flushed).
message_received = _domain.signal("message-received")
#: A refund became due for a cancelled paid booking. ``sender``: the booking; ``amount``: Decimal.
refund_due = _domain.signal("refund-due")
#: The operator recorded that a due refund was paid out. ``sender``: the booking.
refund_completed = _domain.signal("refund-completed")
#: A booking's time was moved. ``sender``: the booking; ``old_start``: the previous start (UTC).
booking_moved = _domain.signal("booking-moved")

#: A consumer declared withdrawal through the withdrawal function (sender: the
#: :class:`~reflexion.booking.models.WithdrawalDeclaration`, matched to a booking or not).
withdrawal_declared = _domain.signal("withdrawal-declared")
