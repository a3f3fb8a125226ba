"""History of NTP checks."""
from sqlalchemy import Float, String
from sqlalchemy.orm import Mapped, mapped_column

from reflexion.db_types import UTCDateTime
from reflexion.extensions import db


class ClockCheck(db.Model):
    __tablename__ = "clock_check"

    id: Mapped[int] = mapped_column(primary_key=True)
    checked_at = mapped_column(UTCDateTime, nullable=False, index=True)
    ok: Mapped[bool] = mapped_column()
    server: Mapped[str | None] = mapped_column(String(255))
    offset_seconds: Mapped[float | None] = mapped_column(Float)
    delay_seconds: Mapped[float | None] = mapped_column(Float)
    stratum: Mapped[int | None] = mapped_column()
    error: Mapped[str | None] = mapped_column(String(500))
