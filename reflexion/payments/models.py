"""Imported bank statements: each credit kept once, with what became of it and the operator's actions."""
from sqlalchemy import Date, String, Text
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
