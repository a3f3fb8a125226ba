"""Keeping and renewing the client's access key.

- Right after booking (or renewing), the key stays visible in the same browser session for
  ``ACCESS_KEY_SHOWN_MINUTES``, across reloads and the language switch. The signed session
  cookie is readable by anyone who holds it, so the key waits there encrypted (Fernet, a key
  derived from ``SECRET_KEY``) with its time of issue; after the window it cannot be read back.
- "Lost your access key?": the client gives reference and e-mail address; if they belong to a
  booking, a one-time link is e-mailed to the booking's address. Opening it and confirming
  issues a new key (the old one stops working) and shows it like after booking. The e-mail
  itself carries no key, the link is bound to the current key's hash (so it works once) and
  expires after ``ACCESS_KEY_LINK_MINUTES``.
"""
import base64
import hashlib
import hmac
from cryptography.fernet import Fernet, InvalidToken
from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import select

from reflexion import attempts, clock
from reflexion.booking import codes
from reflexion.booking.models import Booking
from reflexion.extensions import db


def _fernet() -> Fernet:
    secret = current_app.config["SECRET_KEY"].encode()
    return Fernet(base64.urlsafe_b64encode(hashlib.sha256(b"reflexion-access-key-display:" + secret).digest()))


def shown_minutes() -> float:
    return float(current_app.config.get("ACCESS_KEY_SHOWN_MINUTES", 30))


def seal_for_display(access_key: str) -> str:
    """Encrypt ``access_key`` for the session cookie, stamped with the checked time."""
    return _fernet().encrypt_at_time(access_key.encode(), int(clock.now().timestamp())).decode()


def unseal_for_display(sealed: str | None) -> str | None:
    """The access key while its display window lasts; None once it is over or if tampered with."""
    if not sealed:
        return None
    try:
        return _fernet().decrypt_at_time(sealed.encode(), int(shown_minutes() * 60),
                                         int(clock.now().timestamp())).decode()
    except (InvalidToken, TypeError, ValueError):
        return None


def _link_serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="reflexion-new-access-key")


def _fingerprint(booking: Booking) -> str:
    return hashlib.sha256(booking.access_key_hash.encode()).hexdigest()[:16]


def new_key_token(booking: Booking) -> str:
    """A token for the renewal link: bound to the booking, its current key and the time of issue."""
    return _link_serializer().dumps({"b": booking.id, "k": _fingerprint(booking),
                                     "t": int(clock.now().timestamp())})


def booking_for_token(token: str) -> Booking | None:
    """The booking a renewal link belongs to, while the link is fresh and unused; else None."""
    try:
        data = _link_serializer().loads(token)
    except BadSignature:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("t"), int) or not isinstance(data.get("b"), int):
        return None
    age = clock.now().timestamp() - data["t"]
    if not 0 <= age <= float(current_app.config.get("ACCESS_KEY_LINK_MINUTES", 60)) * 60:
        return None
    booking = db.session.get(Booking, data["b"])
    if booking is None or booking.anonymised_at is not None:
        return None
    if not hmac.compare_digest(_fingerprint(booking), str(data.get("k", ""))):
        return None  # used already: the key changed since the link was sent
    return booking


def renew_access_key(booking: Booking) -> str:
    """Give ``booking`` a new access key (the old one stops working); return it in clear."""
    key = codes.new_access_key()
    booking.access_key_hash = codes.hash_access_key(key)
    db.session.flush()
    return key


def matching_booking(ref: str, email: str) -> Booking | None:
    """The booking with this reference and e-mail address (case-insensitive), else None."""
    ref = codes.normalise_reference(ref)
    if not codes.REF_PATTERN.match(ref):
        return None
    booking = db.session.scalar(select(Booking).where(Booking.ref == ref))
    if booking is None or booking.anonymised_at is not None:
        return None
    if booking.email.strip().casefold() != (email or "").strip().casefold():
        return None
    return booking



class TooManyAttempts(Exception):
    """Too many wrong access keys from this address, or for this booking, in the current window."""


def open_with_access_key(ref: str, key: str, address: str) -> Booking | None:
    """The booking when ``key`` is its access key; None for a wrong pair (same answer either way).

    Wrong keys are counted in the database per client address and per reference
    (:mod:`reflexion.attempts`), so the limit holds across every web process, with or without
    Redis; once used up, no key is checked until the window is over (:class:`TooManyAttempts`).
    """
    ref = codes.normalise_reference(ref)[:40]
    scopes = ((f"access-ip:{address}"[:200], attempts.ACCESS_KEY_PER_ADDRESS),
              (f"access-ref:{ref}", attempts.ACCESS_KEY_PER_BOOKING))
    if any(attempts.blocked(scope, limit) for scope, limit in scopes):
        raise TooManyAttempts()
    booking = db.session.scalar(select(Booking).where(Booking.ref == ref)) if codes.REF_PATTERN.match(ref) else None
    # Checked also without a booking (stored None): the answer takes as long either way.
    if codes.check_access_key(booking.access_key_hash if booking else None, key) and booking is not None:
        return booking
    attempts.record_failure(*scopes)
    return None
