"""Operators: the practitioner (and any assistant) who may use the panel."""
from flask_login import UserMixin
from sqlalchemy import Integer, String
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

    def set_password(self, password: str):
        self.password_hash = generate_password_hash(password, method="scrypt")
        self.session_generation = (self.session_generation or 0) + 1 if self.id is not None else 0

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)
