"""Imported bank statements: each credit kept once, with what became of it and the operator's actions."""
from sqlalchemy import Date, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from reflexion.db_types import UTCDateTime
from reflexion.extensions import db


class StatementImport(db.Model):
    """One uploaded statement file (panel or CLI)."""

    __tablename__ = "statement_import"

    id: Mapped[int] = mapped_column(primary_key=True)
    filename: Mapped[str | None] = mapped_column(String(255))
    format: Mapped[str] = mapped_column(String(32))
    accounts: Mapped[str] = mapped_column(String(500), default="")
    sha256: Mapped[str] = mapped_column(String(64))
    imported_at = mapped_column(UTCDateTime, nullable=False)
    imported_by: Mapped[str] = mapped_column(String(254))  # the operator's e-mail, or "cli"
    lines_total: Mapped[int] = mapped_column(default=0)
    matched: Mapped[int] = mapped_column(default=0)
    needs_attention: Mapped[int] = mapped_column(default=0)
    already_imported: Mapped[int] = mapped_column(default=0)
    skipped: Mapped[int] = mapped_column(default=0)

    entries = relationship("StatementEntry", back_populates="statement_import", order_by="StatementEntry.id")


class StatementEntry(db.Model):
    """A credit from a statement, stored once: ``identity`` makes a re-import a no-op.

    The identity is the account with the bank's entry reference (and the transaction's
    position in a batch), or, where the bank gives none, a hash of the transaction's fields
    with its occurrence number among identical ones in the file (two equal transfers on one
    day stay two). Debits, reversals and pending entries are not stored.
    """

    __tablename__ = "statement_entry"

    id: Mapped[int] = mapped_column(primary_key=True)
    import_id: Mapped[int] = mapped_column(db.ForeignKey("statement_import.id", ondelete="CASCADE"), index=True)
    identity: Mapped[str] = mapped_column(String(64), unique=True)
    account: Mapped[str] = mapped_column(String(64))
    entry_ref: Mapped[str | None] = mapped_column(String(120))
    booked_on = mapped_column(Date)
    value_on = mapped_column(Date)
    amount_cents: Mapped[int] = mapped_column()
    currency: Mapped[str] = mapped_column(String(3))
    remittance: Mapped[str | None] = mapped_column(Text)
    end_to_end_id: Mapped[str | None] = mapped_column(String(120))
    debtor_name: Mapped[str | None] = mapped_column(String(140))
    debtor_iban: Mapped[str | None] = mapped_column(String(40))
    #: A value of :class:`reflexion.payments.matching.Outcome`.
    outcome: Mapped[str] = mapped_column(String(32), index=True)
    #: The booking the entry names (matched) or that is suggested for it.
    booking_id: Mapped[int | None] = mapped_column(db.ForeignKey("booking.id", ondelete="SET NULL"), index=True)
    payment_id: Mapped[int | None] = mapped_column(db.ForeignKey("payment.id", ondelete="SET NULL"))
    #: The operator's decision on an entry that needed attention: confirmed, refund_due, ignored.
    resolution: Mapped[str | None] = mapped_column(String(16), index=True)
    resolved_at = mapped_column(UTCDateTime)
    resolved_by: Mapped[str | None] = mapped_column(String(254))
    refund_cents: Mapped[int | None] = mapped_column()

    statement_import = relationship("StatementImport", back_populates="entries")
    booking = relationship("Booking")
    payment = relationship("Payment")
    actions = relationship("StatementEntryAction", back_populates="entry", order_by="StatementEntryAction.id",
                           cascade="all, delete-orphan")


class StatementEntryAction(db.Model):
    """Audit line: what was done with an imported entry, by whom, when."""

    __tablename__ = "statement_entry_action"

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(db.ForeignKey("statement_entry.id", ondelete="CASCADE"), index=True)
    action: Mapped[str] = mapped_column(String(16))  # matched (by the import), confirmed, refund_due, ignored
    actor: Mapped[str] = mapped_column(String(254))
    at = mapped_column(UTCDateTime, nullable=False)
    booking_id: Mapped[int | None] = mapped_column()
    note: Mapped[str | None] = mapped_column(String(500))

    entry = relationship("StatementEntry", back_populates="actions")


class StripeCheckout(db.Model):
    """A Stripe Checkout Session started from a client's booking page, and what became of it.

    ``status``: ``open`` (created, the client is on Stripe's page), ``processing`` (completed,
    the money is on its way: SEPA Direct Debit), ``paid`` (confirmed the booking), ``failed``
    (the delayed payment failed), ``mismatch`` (amount or currency differ from the booking's:
    not confirmed), ``not_applied`` (paid while the booking was no longer awaiting payment).
    ``needs_attention``: listed for the operator (on the dashboard) until they mark it done.
    """

    __tablename__ = "stripe_checkout"

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[str] = mapped_column(String(255), unique=True)
    booking_id: Mapped[int] = mapped_column(db.ForeignKey("booking.id", ondelete="CASCADE"), index=True)
    #: What the session asked for (the booking's fee when it was created).
    amount_cents: Mapped[int] = mapped_column()
    currency: Mapped[str] = mapped_column(String(3))
    created_at = mapped_column(UTCDateTime, nullable=False)
    status: Mapped[str] = mapped_column(String(16), index=True)
    #: Stripe's PaymentIntent id (``pi_…``): the payment's id, kept on the Payment too.
    payment_intent: Mapped[str | None] = mapped_column(String(255), index=True)
    #: What Stripe's event says was paid (never what the redirect says).
    paid_cents: Mapped[int | None] = mapped_column()
    paid_currency: Mapped[str | None] = mapped_column(String(3))
    updated_at = mapped_column(UTCDateTime)
    needs_attention: Mapped[bool] = mapped_column(default=False, server_default=false(), index=True)
    #: The refund Stripe holds for this payment (``re_…``) and its status as last reported, by the
    #: API's answer or a ``refund.updated``/``refund.failed`` event: ``pending`` until Stripe settles
    #: it, then ``succeeded``, ``failed`` or ``canceled``.
    refund_id: Mapped[str | None] = mapped_column(String(255), index=True)
    refund_status: Mapped[str | None] = mapped_column(String(16))
    #: When Stripe made the event last applied to the refund (older events arriving late do nothing).
    refund_reported_at = mapped_column(UTCDateTime)

    booking = relationship("Booking")


class StripeEvent(db.Model):
    """A webhook event handled once: its id makes retries and duplicates do nothing."""

    __tablename__ = "stripe_event"

    event_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    type: Mapped[str] = mapped_column(String(64))
    received_at = mapped_column(UTCDateTime, nullable=False)
    session_id: Mapped[str | None] = mapped_column(String(255))
    #: What handling it did (confirmed, processing, mismatch, not_applied, ignored …).
    outcome: Mapped[str] = mapped_column(String(32))
