"""The operator's private calendar-feed token (revocable)."""
from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from reflexion.db_types import UTCDateTime
from reflexion.extensions import db


class FeedToken(db.Model):
    __tablename__ = "feed_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(64), unique=True)
    created_at = mapped_column(UTCDateTime, nullable=False)
    revoked_at = mapped_column(UTCDateTime)
