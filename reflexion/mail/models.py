"""Outgoing e-mails: a row per message, so a failed send never loses what was to be sent."""
from sqlalchemy import JSON, String
from sqlalchemy.orm import Mapped, mapped_column

from reflexion.db_types import UTCDateTime
from reflexion.extensions import db


class OutgoingEmail(db.Model):
    __tablename__ = "outgoing_email"

    id: Mapped[int] = mapped_column(primary_key=True)
    booking_id: Mapped[int | None] = mapped_column(db.ForeignKey("booking.id", ondelete="SET NULL"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    recipient: Mapped[str] = mapped_column(String(254))
    lang: Mapped[str] = mapped_column(String(2))
    status: Mapped[str] = mapped_column(String(16), default="queued")
    attempts: Mapped[int] = mapped_column(default=0)
    created_at = mapped_column(UTCDateTime, nullable=False)
    sent_at = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(String(300))
    #: What the e-mail must say that the booking no longer knows (a move's previous start).
    params = mapped_column(JSON)
