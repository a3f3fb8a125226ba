"""The operator's second factor: time-based one-time codes (TOTP, RFC 6238) and recovery codes.

- Set up from the panel (``/operator/account``): a new secret waits as *pending* until the
  operator proves their authenticator app has it by entering a code; then it is active and ten
  recovery codes are shown once.
- Once active, every login of that account asks for a code after the password. A code is
  accepted once (the step it belongs to is remembered), within one 30-s step either side of the
  checked clock (``reflexion.clock``, not the system clock). Five wrong codes in a row lock the
  code step of the account for :data:`LOCK_MINUTES`, from any address.
- A recovery code replaces a TOTP code once. They are random (50 bits), so a plain SHA-256 is
  enough to store them; the TOTP secret itself must be readable again and is stored encrypted
  with a key derived from ``SECRET_KEY``. Losing both phone and codes: ``flask --app wsgi
  operator reset-2fa --email E`` on the server.

Functions flush; the caller (view or command) commits.
"""
import base64
import hashlib
import hmac
import json
import secrets
from datetime import timedelta

import pyotp
import segno
from cryptography.fernet import Fernet, InvalidToken
from flask import current_app

from reflexion import clock
from reflexion.extensions import db
from reflexion.operator.models import Operator
from reflexion.settings import setting

#: Wrong codes in a row before the account's code step locks, and for how long.
MAX_FAILURES = 5
LOCK_MINUTES = 15
RECOVERY_CODES = 10
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i


class CodeRefused(Exception):
    """The code was wrong, reused, or the account's code step is locked (``locked`` says which)."""

    def __init__(self, locked: bool = False):
        super().__init__("locked" if locked else "wrong code")
        self.locked = locked


def _fernet() -> Fernet:
    secret = current_app.config["SECRET_KEY"].encode()
    return Fernet(base64.urlsafe_b64encode(hashlib.sha256(b"reflexion-operator-totp:" + secret).digest()))


def _seal(value: str) -> str:
    return _fernet().encrypt(value.encode()).decode()


def _unseal(sealed: str) -> str | None:
    try:
        return _fernet().decrypt(sealed.encode()).decode()
    except (InvalidToken, ValueError):
        return None


def _totp(secret: str) -> pyotp.TOTP:
    return pyotp.TOTP(secret)


def _normalized(code: str) -> str:
    return "".join(code.split()).replace("-", "").lower()


def begin_setup(operator: Operator) -> str:
    """Give the account a new pending secret and return it (base32, for the app)."""
    secret = pyotp.random_base32()
    operator.totp_pending_secret = _seal(secret)
    db.session.flush()
    return secret


def pending_secret(operator: Operator) -> str | None:
    return _unseal(operator.totp_pending_secret) if operator.totp_pending_secret else None


def provisioning_uri(operator: Operator, secret: str) -> str:
    return _totp(secret).provisioning_uri(name=operator.email, issuer_name=setting("BRAND"))


def qr_svg(uri: str) -> str:
    """The setup QR code as inline SVG markup (no script, no external image: fits the CSP)."""
    return segno.make(uri, error="m").svg_inline(scale=4, dark="#1d2b36", light="#ffffff",
                                                 title="otpauth")


def _step_matching(secret: str, code: str, after_step: int | None) -> int | None:
    """The 30-s step ``code`` belongs to (now ± 1 step), if it is newer than ``after_step``."""
    code = _normalized(code)
    if not (code.isdigit() and len(code) == 6):
        return None
    totp = _totp(secret)
    current = totp.timecode(clock.now())
    for step in (current - 1, current, current + 1):
        if after_step is not None and step <= after_step:
            continue
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def confirm_setup(operator: Operator, code: str) -> list[str]:
    """Activate the pending secret if ``code`` fits it; return the new recovery codes (shown once)."""
    secret = pending_secret(operator)
    step = _step_matching(secret, code, None) if secret else None
    if step is None:
        raise CodeRefused()
    operator.totp_secret, operator.totp_pending_secret = _seal(secret), None
    operator.totp_last_step, operator.totp_failures, operator.totp_locked_until = step, 0, None
    codes = new_recovery_codes(operator)
    db.session.flush()
    return codes


def new_recovery_codes(operator: Operator) -> list[str]:
    """Replace the account's recovery codes with ten new ones and return them."""
    codes = ["-".join("".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(5)) for _ in range(2))
             for _ in range(RECOVERY_CODES)]
    operator.recovery_code_hashes = json.dumps([_hash(code) for code in codes])
    return codes


def recovery_codes_left(operator: Operator) -> int:
    return len(json.loads(operator.recovery_code_hashes or "[]"))


def _hash(code: str) -> str:
    return hashlib.sha256(_normalized(code).encode()).hexdigest()


def locked(operator: Operator) -> bool:
    return operator.totp_locked_until is not None and clock.now() < operator.totp_locked_until


def check_login_code(operator: Operator, code: str) -> str:
    """Accept a TOTP or recovery code for the login of ``operator``; return which ("totp"/"recovery").

    Raises :class:`CodeRefused`. Failures are counted on the account (committed by the caller
    also when refused, so a wrong guess always counts).
    """
    if locked(operator):
        raise CodeRefused(locked=True)
    secret = _unseal(operator.totp_secret or "")
    step = _step_matching(secret, code, operator.totp_last_step) if secret else None
    if step is not None:
        operator.totp_last_step, operator.totp_failures, operator.totp_locked_until = step, 0, None
        return "totp"
    hashes = json.loads(operator.recovery_code_hashes or "[]")
    digest = _hash(code)
    if any(hmac.compare_digest(digest, known) for known in hashes):
        operator.recovery_code_hashes = json.dumps([known for known in hashes if known != digest])
        operator.totp_failures, operator.totp_locked_until = 0, None
        return "recovery"
    operator.totp_failures = (operator.totp_failures or 0) + 1
    if operator.totp_failures >= MAX_FAILURES:
        operator.totp_failures, operator.totp_locked_until = 0, clock.now() + timedelta(minutes=LOCK_MINUTES)
        raise CodeRefused(locked=True)
    raise CodeRefused()


def disable(operator: Operator):
    """Turn the second factor off (after the caller checked the password)."""
    operator.totp_secret = operator.totp_pending_secret = operator.recovery_code_hashes = None
    operator.totp_last_step, operator.totp_failures, operator.totp_locked_until = None, 0, None
    db.session.flush()
