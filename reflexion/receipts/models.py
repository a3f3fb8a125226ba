"""Receipts, credit notes and the counters their numbers come from."""
from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, backref, mapped_column, relationship

from reflexion.db_types import UTCDateTime
from reflexion.extensions import db

RECEIPT = "receipt"
CREDIT_NOTE = "credit_note"
KINDS = (RECEIPT, CREDIT_NOTE)
#: The printed prefix of each series: receipts B-000001 (Beleg, betalning), credit notes
#: S-000001 (Storno, in German and Swedish). Neither looks like a booking reference (R-…).
PREFIX = {RECEIPT: "B", CREDIT_NOTE: "S"}


class DocumentCounter(db.Model):
    """The last number given in one series; raised in the transaction that issues a document."""

    __tablename__ = "document_counter"

    series: Mapped[str] = mapped_column(String(16), primary_key=True)
    last_number: Mapped[int] = mapped_column(Integer, default=0, nullable=False)


class Receipt(db.Model):
    """A receipt (for a payment) or a credit note (for a refund, referring to its receipt).

    Everything printed on it is kept here as it was at issue: later changes to the settings,
    the booking or the client's data never change a document that was given out.
    """

    __tablename__ = "receipt"
    __table_args__ = (UniqueConstraint("kind", "number", name="uq_receipt_kind_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    number: Mapped[int] = mapped_column(Integer)
    booking_id: Mapped[int | None] = mapped_column(ForeignKey("booking.id", ondelete="SET NULL"), index=True)
    payment_id: Mapped[int | None] = mapped_column(ForeignKey("payment.id", ondelete="SET NULL"), unique=True)
    #: A credit note's receipt.
    refers_to_id: Mapped[int | None] = mapped_column(ForeignKey("receipt.id"), index=True)
    issued_at = mapped_column(UTCDateTime, nullable=False)
    lang: Mapped[str] = mapped_column(String(2))
    booking_ref: Mapped[str] = mapped_column(String(16))
    client_name: Mapped[str] = mapped_column(String(120))
    seller_name: Mapped[str] = mapped_column(String(200))
    seller_brand: Mapped[str] = mapped_column(String(200))
    seller_address: Mapped[str] = mapped_column(Text)
    seller_email: Mapped[str] = mapped_column(String(254))
    vat_mode: Mapped[str] = mapped_column(String(16))
    vat_rate_percent: Mapped[str] = mapped_column(String(8))
    vat_id: Mapped[str] = mapped_column(String(40), default="")
    tax_number: Mapped[str] = mapped_column(String(40), default="")
    service_start = mapped_column(UTCDateTime, nullable=False)
    service_minutes: Mapped[str] = mapped_column(String(12))
    amount_cents: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3))
    paid_at = mapped_column(UTCDateTime)
    payment_method: Mapped[str | None] = mapped_column(String(32))

    booking = relationship("Booking", backref=backref("receipts", order_by="Receipt.id"))
    payment = relationship("Payment")
    refers_to = relationship("Receipt", remote_side="Receipt.id")

    @property
    def display_number(self) -> str:
        return f"{PREFIX[self.kind]}-{self.number:06d}"

    def __repr__(self):
        return f"<Receipt {self.display_number} {self.booking_ref}>"
