"""Changing settings: all keys of one submit checked together, stored, audited, or none of them.

:func:`change_settings` is the one way a value changes (the settings page and ``flask settings
set`` call it). It flushes; the caller commits once and then calls ``store.forget()``.
"""
import json
import re
from dataclasses import dataclass
from datetime import date

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update

from reflexion import clock
from reflexion.extensions import db
from reflexion.i18n import practice_zone
from reflexion.settings.models import SettingChange, SettingsVersion, StoredSetting
from reflexion.settings.registry import CROSS_CHECKS, KEYS, Invalid, from_config

#: Changing these changes what a client accepts: a new terms version starts by itself.
TERMS_KEYS = ("SESSION_MINUTES", "NO_ANSWER_MINUTES", "TERMS_TEXT_DE", "TERMS_TEXT_SV")
CLI_ACTOR = "cli"


class SettingsInvalid(Exception):
    """Some values of a submit are not acceptable: ``errors`` maps key -> localized message."""

    def __init__(self, errors: dict):
        super().__init__(", ".join(f"{key}: {message}" for key, message in errors.items()))
        self.errors = errors


@dataclass
class Change:
    key: str
    old: object
    new: object


def effective_value(key: str):
    """The value in force, read inside the caller's transaction: the stored row, else the environment's."""
    row = db.session.get(StoredSetting, key)
    if row is not None:
        return json.loads(row.value)
    return from_config(key, current_app.config[key])


def parse_values(texts: dict) -> tuple[dict, dict]:
    """Parse form/CLI texts per key; return (values, errors)."""
    values, errors = {}, {}
    for key, text in texts.items():
        entry = KEYS.get(key)
        if entry is None:
            errors[key] = _l("There is no setting %(key)s.", key=key)
            continue
        try:
            values[key] = entry.parse(text)
        except Invalid as exc:
            errors[key] = exc.message
    return values, errors


def next_terms_version(previous: str | None, today: date) -> str:
    """``2026-12-02.1``, then ``.2`` for a second change the same day."""
    prefix = today.isoformat()
    match = re.fullmatch(rf"{prefix}\.(\d+)", previous or "")
    return f"{prefix}.{int(match.group(1)) + 1 if match else 1}"


def change_settings(texts: dict, actor: str) -> list[Change]:
    """Check and store the settings given as texts (key -> form/CLI text) by ``actor``.

    Raises :class:`SettingsInvalid` with every problem found and changes nothing then. Keys
    whose value stays the same are not written. A new session length or no-answer window
    starts a new terms version (new bookings accept it; bookings made keep theirs).
    """
    values, errors = parse_values(texts)
    # Raise the version first: its row lock orders concurrent changes (PostgreSQL; SQLite
    # takes its write lock here), so the old values read below are the ones being replaced.
    # (On any error the caller rolls back, the raised version with it.)
    _raise_version()
    current = {key: effective_value(key) for key in KEYS}
    for key, message in CROSS_CHECKS({**current, **values}).items():
        if key not in errors and (key in values or _related(key, values)):
            errors[key] = message
    if errors:
        raise SettingsInvalid(errors)
    changed = {key: value for key, value in values.items() if value != _normalised(key, current[key])}
    if any(key in changed for key in TERMS_KEYS) and "TERMS_VERSION" not in changed:
        today = clock.now().astimezone(practice_zone()).date()
        changed["TERMS_VERSION"] = next_terms_version(current["TERMS_VERSION"], today)
    if not changed:
        return []
    now = clock.now()
    changes = []
    for key, value in changed.items():
        row = db.session.get(StoredSetting, key)
        encoded = json.dumps(value, ensure_ascii=False)
        if row is None:
            db.session.add(StoredSetting(key=key, value=encoded, updated_at=now, updated_by=actor))
        else:
            row.value, row.updated_at, row.updated_by = encoded, now, actor
        db.session.add(SettingChange(at=now, actor=actor, key=key, old_value=_audited(key, current[key]),
                                     new_value=_audited(key, value)))
        changes.append(Change(key, current[key], value))
    db.session.flush()
    return changes


#: A rule across keys reported on one key also concerns these (e.g. a shorter horizon makes the notice too long).
_RELATED = {
    "MIN_NOTICE_HOURS": ("HORIZON_DAYS",),
    "PAYMENT_CUTOFF_HOURS": ("PAYMENT_WINDOW_HOURS",),
    "NO_ANSWER_MINUTES": ("SESSION_MINUTES",),
    "REFUND_PERCENT_AFTER_CUTOFF": ("REFUND_PERCENT_BEFORE_CUTOFF",),
}


def _related(key, values) -> bool:
    return any(other in values for other in _RELATED.get(key, ()))


def _normalised(key, value):
    """``value`` as the key's parser would store it (an environment's "90" is the form's "90.00"),
    so that saving the form unchanged changes nothing."""
    entry = KEYS[key]
    try:
        return entry.parse(entry.text(value))
    except Invalid:
        return value


def _raise_version():
    result = db.session.execute(update(SettingsVersion).where(SettingsVersion.id == 1)
                                .values(version=SettingsVersion.version + 1))
    if result.rowcount == 0:  # a database made by create_all (the migration inserts the row)
        db.session.add(SettingsVersion(id=1, version=1))
        db.session.flush()


def _audited(key, value) -> str:
    """The audit's copy of a value; secret keys keep only what kind of entries there were."""
    if KEYS[key].secret and value:
        value = [re.sub(r"://.*", "://…", item) for item in value]
    return json.dumps(value, ensure_ascii=False)


def recent_changes(limit: int = 20) -> list[SettingChange]:
    return db.session.scalars(select(SettingChange).order_by(SettingChange.id.desc()).limit(limit)).all()


def all_values() -> dict:
    """Every registered setting's value in force (for ``settings show``)."""
    return {key: effective_value(key) for key in KEYS}


def stored_keys() -> set[str]:
    return set(db.session.scalars(select(StoredSetting.key)))
