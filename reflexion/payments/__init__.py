"""Bank-statement import: the operator's bank statements matched to bookings awaiting payment.

``statements`` reads camt.053 / MT940 files, ``matching`` finds the booking reference and decides
each credit's outcome, ``operations`` imports (all-or-nothing) and applies the operator's
decisions; a match enters through :func:`reflexion.booking.payments.confirm_payment`, the one
place a payment enters. Panel: ``/operator/payments/import`` (``views``); CLI:
``flask payments import`` (``cli``).
"""
