"""Bookings, their audit log and payments."""
from sqlalchemy import JSON, Date, Float, Index, String, event, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from reflexion.booking import methods
from reflexion.booking.states import LIVE_STATES, State
from reflexion.db_types import UTCDateTime
from reflexion.extensions import db
from reflexion.conversations.deadlines import next_deadline, no_answer_window

_live = ", ".join(f"'{s.value}'" for s in sorted(LIVE_STATES))


class Booking(db.Model):
    __tablename__ = "booking"

    id: Mapped[int] = mapped_column(primary_key=True)
    ref: Mapped[str] = mapped_column(String(16), unique=True)
    access_key_hash: Mapped[str] = mapped_column(String(255))
    state: Mapped[str] = mapped_column(String(32), default=State.AWAITING_PAYMENT.value, index=True)
    start_at = mapped_column(UTCDateTime, nullable=False)
    end_at = mapped_column(UTCDateTime, nullable=False)
    name: Mapped[str] = mapped_column(String(120))
    email: Mapped[str] = mapped_column(String(254))
    call_handle: Mapped[str] = mapped_column(String(64))
    #: The platform the client booked (reflexion/platforms); kept when the operator stops offering it
    call_platform: Mapped[str] = mapped_column(String(32), server_default="teams")
    #: The operator's handle on that platform when the booking was made (shown once it is no longer enabled)
    operator_handle: Mapped[str | None] = mapped_column(String(64))
    lang: Mapped[str] = mapped_column(String(2), default="de")
    created_at = mapped_column(UTCDateTime, nullable=False)
    created_by: Mapped[str] = mapped_column(String(16), default="client")
    terms_version: Mapped[str | None] = mapped_column(String(32))
    terms_accepted_at = mapped_column(UTCDateTime)
    #: When the client expressly asked for a session that begins inside the withdrawal period and
    #: acknowledged that the right of withdrawal ends once it is performed (None: not asked / not needed)
    early_start_requested_at = mapped_column(UTCDateTime)
    #: The rules the booking was made under (part of the accepted terms): later changes in the
    #: settings apply to new bookings only.
    session_minutes: Mapped[float] = mapped_column(Float, nullable=False)
    no_answer_minutes: Mapped[float] = mapped_column(Float, nullable=False)
    payment_deadline = mapped_column(UTCDateTime)
    #: When the clock alone changes this booking next (:func:`~reflexion.conversations.deadlines.next_deadline`),
    #: kept current on every write; the reconcile sweep's indexed query.
    next_deadline_at = mapped_column(UTCDateTime, index=True)
    fee_cents: Mapped[int] = mapped_column()
    currency: Mapped[str] = mapped_column(String(3))
    # Confirmation data: issued at payment, stored only as a hash
    confirmation_hash: Mapped[str | None] = mapped_column(String(255))
    confirmation_nonce: Mapped[str | None] = mapped_column(String(64))
    confirmed_at = mapped_column(UTCDateTime)
    verify_failures: Mapped[int] = mapped_column(default=0)
    answered_at = mapped_column(UTCDateTime)
    verified_at = mapped_column(UTCDateTime)
    ended_at = mapped_column(UTCDateTime)
    # Calendar invite identity
    ical_uid: Mapped[str] = mapped_column(String(128), unique=True)
    ical_sequence: Mapped[int] = mapped_column(default=0)
    anonymised_at = mapped_column(UTCDateTime)
    #: How often the client moved this booking themselves (limited by ``MAX_RESCHEDULES``).
    reschedule_count: Mapped[int] = mapped_column(default=0, server_default="0")
    # A refund of a paid booking that was cancelled (reflexion.booking.refunds)
    refund_cents: Mapped[int | None] = mapped_column()
    refund_state: Mapped[str | None] = mapped_column(String(16))  # "due" -> "refunded"
    refund_due_at = mapped_column(UTCDateTime)
    refunded_at = mapped_column(UTCDateTime)

    transitions = relationship(
        "Transition", back_populates="booking", order_by="Transition.id", cascade="all, delete-orphan"
    )
    payments = relationship("Payment", back_populates="booking", cascade="all, delete-orphan")

    __table_args__ = (
        # The database itself refuses a second live booking for the same start instant.
        Index(
            "uq_booking_live_start",
            "start_at",
            unique=True,
            sqlite_where=text(f"state IN ({_live})"),
            postgresql_where=text(f"state IN ({_live})"),
        ),
    )

    def __repr__(self):
        return f"<Booking {self.ref} {self.state} {self.start_at:%Y-%m-%dT%H:%MZ}>"


@event.listens_for(Booking, "before_insert")
@event.listens_for(Booking, "before_update")
def _keep_next_deadline(mapper, connection, booking):
    """Whatever changed (state, start, payment deadline), the stored next deadline follows."""
    if booking.session_minutes is None and booking.start_at is not None and booking.end_at is not None:
        booking.session_minutes = (booking.end_at - booking.start_at).total_seconds() / 60
    if booking.no_answer_minutes is None:  # made without its rules (a test, a script): today's
        booking.no_answer_minutes = no_answer_window().total_seconds() / 60
    booking.next_deadline_at = next_deadline(booking)


class Transition(db.Model):
    """One line of the audit log: a booking moved from one state to another."""

    __tablename__ = "booking_transition"

    id: Mapped[int] = mapped_column(primary_key=True)
    booking_id: Mapped[int] = mapped_column(db.ForeignKey("booking.id", ondelete="CASCADE"), index=True)
    from_state: Mapped[str] = mapped_column(String(32))
    to_state: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str] = mapped_column(String(16))
    at = mapped_column(UTCDateTime, nullable=False)
    #: What the system recorded: a :class:`~reflexion.booking.notes.Note` code and its
    #: parameters, rendered in the reader's language when shown (``notes.entry_text``).
    note_code: Mapped[str | None] = mapped_column(String(40))
    note_params = mapped_column(JSON)
    #: Free text the operator typed, shown as typed.
    note: Mapped[str | None] = mapped_column(String(500))

    booking = relationship("Booking", back_populates="transitions")


# Kept here for the modules that import them from the models.
PAYMENT_METHODS, DEFAULT_PAYMENT_METHOD = methods.PAYMENT_METHODS, methods.DEFAULT_PAYMENT_METHOD


class Payment(db.Model):
    """A fee recorded as paid."""

    __tablename__ = "payment"

    id: Mapped[int] = mapped_column(primary_key=True)
    booking_id: Mapped[int] = mapped_column(db.ForeignKey("booking.id", ondelete="CASCADE"), index=True)
    amount_cents: Mapped[int] = mapped_column()
    currency: Mapped[str] = mapped_column(String(3))
    method: Mapped[str] = mapped_column(String(32), default=DEFAULT_PAYMENT_METHOD)
    #: The provider's id for the payment; for a bank transfer the bank's entry reference.
    provider_reference: Mapped[str | None] = mapped_column(String(120))
    #: The bank's booking date of a transfer imported from a statement (reflexion/payments).
    booked_on = mapped_column(Date)
    paid_at = mapped_column(UTCDateTime, nullable=False)
    recorded_at = mapped_column(UTCDateTime, nullable=False)
    recorded_by: Mapped[str] = mapped_column(String(16))

    booking = relationship("Booking", back_populates="payments")


class WithdrawalDeclaration(db.Model):
    """A withdrawal declared through the withdrawal function (§ 356a BGB, Art. 11a CRD), as typed.

    Every declaration is kept, whether or not it names a booking (``booking_id`` None: the
    reference and e-mail matched none), so none is lost; the operator sees them in the panel.
    """

    __tablename__ = "withdrawal_declaration"

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(64))  # as typed
    name: Mapped[str] = mapped_column(String(120))
    email: Mapped[str] = mapped_column(String(254))
    lang: Mapped[str] = mapped_column(String(2), default="de")
    declared_at = mapped_column(UTCDateTime, nullable=False, index=True)
    booking_id: Mapped[int | None] = mapped_column(db.ForeignKey("booking.id", ondelete="SET NULL"), index=True)
    #: What became of it (:class:`reflexion.booking.withdrawal.Outcome`)
    outcome: Mapped[str] = mapped_column(String(32))
    #: Set when name and e-mail were made anonymous (with the booking's records, or on erasure)
    anonymised_at = mapped_column(UTCDateTime)

    booking = relationship("Booking")
