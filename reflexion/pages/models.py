"""Messages sent through the contact form: kept in the database, never e-mailed."""
from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from reflexion.db_types import UTCDateTime
from reflexion.extensions import db


class ContactMessage(db.Model):
    __tablename__ = "contact_message"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    email: Mapped[str] = mapped_column(String(254))
    call_handle: Mapped[str | None] = mapped_column(String(64))
    #: The platform the call handle is for (reflexion/platforms); None without a handle
    call_platform: Mapped[str | None] = mapped_column(String(32))
    message: Mapped[str] = mapped_column(Text)
    lang: Mapped[str] = mapped_column(String(2))
    received_at = mapped_column(UTCDateTime, nullable=False, index=True)
    read_at = mapped_column(UTCDateTime)
    anonymised_at = mapped_column(UTCDateTime)
