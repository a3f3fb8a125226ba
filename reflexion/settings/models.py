"""The settings the operator changed (current value per key), their audit log and the version.

A key without a row has its value from the environment (``app.config``). Values are stored as
JSON text in the shape ``app.config`` holds them (``PLATFORMS``: a list of objects).
"""
from sqlalchemy import Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from reflexion.db_types import UTCDateTime
from reflexion.extensions import db


class StoredSetting(db.Model):
    """The current value of one setting changed in the panel or on the command line."""

    __tablename__ = "setting"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text, nullable=False)  # JSON
    updated_at = mapped_column(UTCDateTime, nullable=False)
    updated_by: Mapped[str] = mapped_column(String(254), nullable=False)


class SettingChange(db.Model):
    """One line of the settings' audit log: who changed which key when, old → new (JSON)."""

    __tablename__ = "setting_change"

    id: Mapped[int] = mapped_column(primary_key=True)
    at = mapped_column(UTCDateTime, nullable=False, index=True)
    actor: Mapped[str] = mapped_column(String(254), nullable=False)  # the operator's e-mail, or "cli"
    key: Mapped[str] = mapped_column(String(64), nullable=False)
    old_value: Mapped[str | None] = mapped_column(Text)  # JSON; secret keys: a masked summary
    new_value: Mapped[str | None] = mapped_column(Text)


class SettingsVersion(db.Model):
    """One row whose counter every change raises in its own transaction: each process compares
    it with the version its cached values belong to (one primary-key read per request or job)."""

    __tablename__ = "settings_version"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=0, server_default="0")
