"""Operators: the practitioner (and any assistant) who may use the panel."""
from flask_login import UserMixin
from sqlalchemy import BigInteger, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column
from werkzeug.security import check_password_hash, generate_password_hash

from reflexion.db_types import UTCDateTime
from reflexion.extensions import db


class Operator(UserMixin, db.Model):
    __tablename__ = "operator"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    created_at = mapped_column(UTCDateTime, nullable=False)
    last_login_at = mapped_column(UTCDateTime)
    #: Sessions carry the generation they began in; raising it ends every session at once
    #: (logout, a password change): a copied cookie is worthless afterwards.
    session_generation: Mapped[int] = mapped_column(Integer, nullable=False, default=0, server_default="0")
    # Second factor (reflexion/operator/two_factor.py). Secrets are stored encrypted with a key
    # derived from SECRET_KEY; recovery codes only as SHA-256 hashes (JSON list).
    totp_secret = mapped_column(String(255))
    totp_pending_secret = mapped_column(String(255))  # being set up, not yet confirmed
    totp_last_step = mapped_column(BigInteger)  # the last accepted 30-s step: a code works once
    totp_failures: Mapped[int] = mapped_column(Integer, nullable=False, default=0, server_default="0")
    totp_locked_until = mapped_column(UTCDateTime)
    recovery_code_hashes = mapped_column(Text)

    @property
    def has_two_factor(self) -> bool:
        return bool(self.totp_secret)

    def set_password(self, password: str):
        self.password_hash = generate_password_hash(password, method="scrypt")
        self.session_generation = (self.session_generation or 0) + 1 if self.id is not None else 0

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)
