"""Booking data and confirmation data: how they look, how they are made and checked.

Booking data: reference ``R-7KQ4M2`` plus access key ``tq4w-8hzk-p3va`` (lowercase).
Confirmation data: eight digits ``4821 0937``, easy to read aloud. The two never look alike.
Access keys and confirmation data are stored only as hashes: access keys (random, ~59 bits)
with salted SHA-256, confirmation data (only 10^8 values) with slow scrypt.

Names: pages and e-mails say "confirmation data" (the product's word); the code calls the
eight digits a *confirmation code* everywhere (``confirmation_code_for``,
``issue_confirmation_code``, ``check_confirmation_code``).
"""
import hashlib
import hmac
import re
import secrets

from flask import current_app
from werkzeug.security import check_password_hash, generate_password_hash

REF_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
KEY_ALPHABET = "23456789abcdefghjkmnpqrstuvwxyz"
REF_PATTERN = re.compile(r"^R-[2-9A-HJ-NP-Z]{6}$")


def new_reference() -> str:
    return "R-" + "".join(secrets.choice(REF_ALPHABET) for _ in range(6))


def new_access_key() -> str:
    raw = "".join(secrets.choice(KEY_ALPHABET) for _ in range(12))
    return "-".join(raw[i:i + 4] for i in range(0, 12, 4))


def normalise_reference(text: str) -> str:
    text = (text or "").strip().upper()
    return text if text.startswith("R-") else "R-" + text


def normalise_access_key(text: str) -> str:
    return re.sub(r"[^0-9a-z]", "", (text or "").strip().lower())


def normalise_confirmation_code(text: str) -> str:
    return re.sub(r"\D", "", text or "")


def hash_secret(value: str) -> str:
    return generate_password_hash(value, method="scrypt")


def check_secret(stored_hash: str | None, value: str) -> bool:
    """Compare in constant time (werkzeug uses hmac.compare_digest); a missing hash never matches."""
    if not stored_hash or not value:
        # Same work as a real check, so timing does not tell whether a hash exists.
        hmac.compare_digest("x", "y")
        return False
    return check_password_hash(stored_hash, value)


def hash_access_key(key: str) -> str:
    """Salted SHA-256: access keys carry ~59 random bits, so a fast hash is enough (like API tokens)."""
    salt = secrets.token_hex(8)
    digest = hashlib.sha256(f"{salt}:{normalise_access_key(key)}".encode()).hexdigest()
    return f"sha256${salt}${digest}"


def check_access_key(stored_hash: str | None, key: str) -> bool:
    """Compare in constant time; a missing booking costs the same as a wrong key."""
    scheme, _, rest = (stored_hash or "sha256$-$-").partition("$")
    salt, _, expected = rest.partition("$")
    digest = hashlib.sha256(f"{salt}:{normalise_access_key(key)}".encode()).hexdigest()
    return scheme == "sha256" and stored_hash is not None and hmac.compare_digest(digest, expected)


def hash_confirmation_code(code: str) -> str:
    return hash_secret(normalise_confirmation_code(code))


def check_confirmation_code(stored_hash: str | None, code: str) -> bool:
    return check_secret(stored_hash, normalise_confirmation_code(code))


def confirmation_code_for(booking) -> str:
    """The booking's confirmation data: eight digits derived from the app secret and its nonce.

    Derived, not stored: the database keeps only a slow hash (for the operator's check) and
    a random nonce, so a copy of the database alone reveals no confirmation data.
    """

    return confirmation_code_from(booking.ical_uid, booking.confirmation_nonce, current_app.config["SECRET_KEY"])


def confirmation_code_from(ical_uid: str, nonce: str | None, secret: str) -> str:
    """:func:`confirmation_code_for` from its parts (for data prepared before they are stored)."""
    if not nonce:
        raise ValueError("no confirmation data issued for this booking")
    digest = hmac.new(secret.encode(), f"confirmation:{ical_uid}:{nonce}".encode(), "sha256").digest()
    number = int.from_bytes(digest[:8], "big") % 10**8
    digits = f"{number:08d}"
    return f"{digits[:4]} {digits[4:]}"


def new_confirmation_nonce() -> str:
    """A random nonce for new confirmation data, with a check of the app secret it was made under.

    ``<32 hex random>.<16 hex HMAC(SECRET_KEY, random)>``: :func:`nonce_fits_secret` tells in
    microseconds whether today's SECRET_KEY is the one the digits were derived (and hashed)
    with, so the client's booking page needs no slow scrypt check to know its digits are right.
    """
    random_part = secrets.token_hex(16)
    return f"{random_part}.{_secret_check(random_part)}"


def nonce_fits_secret(nonce: str) -> bool | None:
    """True/False: the nonce was (not) made under today's SECRET_KEY; None for an older nonce
    without the check (issued before it existed: the caller falls back to the hash)."""
    random_part, dot, check = (nonce or "").partition(".")
    if not dot:
        return None
    return hmac.compare_digest(check, _secret_check(random_part))


def _secret_check(random_part: str) -> str:
    from flask import current_app  # the app's secret, read when called (as confirmation_code_for does)

    return hmac.new(current_app.config["SECRET_KEY"].encode(),
                    f"confirmation-secret-check:{random_part}".encode(), "sha256").hexdigest()[:16]
