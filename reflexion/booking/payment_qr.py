"""The EPC QR code ("GiroCode") for paying a booking by bank transfer.

EPC069-12, version 002: ``BCD``, ``002``, character set ``1`` (UTF-8), ``SCT``, BIC,
holder's name (≤ 70 characters), IBAN, amount ``EUR90.00``, purpose (empty), structured
reference (empty) and the booking reference as unstructured remittance text (≤ 140), at most
331 bytes, error correction level M, QR version ≤ 13. A SEPA credit transfer is in euros
only: for any other currency there is no code (the page shows the bank details alone).

The payload is built here rather than by ``segno.helpers.make_epc_qr``: that helper picks the
smallest character set (ISO 8859-1 for plain ASCII, not UTF-8), writes ``EUR90`` for 90.00
and checks neither the IBAN nor line breaks in a name (which would shift every field after
it). The QR symbol itself is segno's, with the same constraints as its helper.
"""
import base64
import io
import logging
import re
from dataclasses import dataclass
from decimal import Decimal

import segno

from reflexion.booking.states import State
from reflexion.settings import setting

log = logging.getLogger(__name__)

MAX_NAME = 70
MAX_TEXT = 140
MAX_PAYLOAD_BYTES = 331
MAX_AMOUNT = Decimal("999999999.99")
MAX_VERSION = 13
#: Pixels per module of the PNG (the page shows it at about 200 CSS pixels).
SCALE = 6
BORDER = 4  # the quiet zone the QR standard asks for

_BIC = re.compile(r"^[A-Z]{6}[A-Z0-9]{2}([A-Z0-9]{3})?$")
_IBAN = re.compile(r"^[A-Z]{2}[0-9]{2}[A-Z0-9]{10,30}$")


class EPCError(ValueError):
    """The practice's bank details or the amount cannot go into an EPC QR code."""


def normalise_iban(text: str) -> str:
    return re.sub(r"\s+", "", text or "").upper()


def iban_is_valid(iban: str) -> bool:
    """ISO 13616: the shape and the mod-97 check digits."""
    if not _IBAN.match(iban):
        return False
    rearranged = iban[4:] + iban[:4]
    return int("".join(str(int(ch, 36)) for ch in rearranged)) % 97 == 1


def _field(text: str, limit: int, what: str) -> str:
    text = (text or "").strip()
    if not text or len(text) > limit:
        raise EPCError(f"{what}: 1 to {limit} characters")
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in text):
        raise EPCError(f"{what}: no line breaks or control characters")
    return text


def epc_payload(*, name: str, iban: str, bic: str | None, amount_cents: int, currency: str, text: str) -> bytes:
    """The EPC QR code's payload (UTF-8 bytes); raises :class:`EPCError` if it cannot be made."""
    if currency != "EUR":
        raise EPCError("EPC QR codes are for euro transfers only")
    amount = Decimal(amount_cents) / 100
    if not Decimal("0.01") <= amount <= MAX_AMOUNT:
        raise EPCError("amount out of range")
    iban = normalise_iban(iban)
    if not iban_is_valid(iban):
        raise EPCError("not a valid IBAN")
    bic = re.sub(r"\s+", "", bic or "").upper()
    if bic and not _BIC.match(bic):
        raise EPCError("not a valid BIC")
    lines = [
        "BCD", "002", "1", "SCT", bic,
        _field(name, MAX_NAME, "account holder"),
        iban,
        f"EUR{amount:.2f}",
        "",  # purpose code
        "",  # structured creditor reference: never together with the text
        _field(text, MAX_TEXT, "remittance text"),
    ]
    payload = "\n".join(lines).encode("utf-8")
    if len(payload) > MAX_PAYLOAD_BYTES:
        raise EPCError(f"payload of {len(payload)} bytes (at most {MAX_PAYLOAD_BYTES})")
    return payload


def booking_payload(booking) -> bytes | None:
    """The payload for paying ``booking`` to the practice's account, or None (not in euros,
    not awaiting payment, or the bank details in the settings do not fit the standard)."""
    if booking.state != State.AWAITING_PAYMENT.value or booking.currency != "EUR":
        return None
    try:
        return epc_payload(name=setting("BANK_ACCOUNT_HOLDER"), iban=setting("BANK_IBAN"),
                           bic=setting("BANK_BIC"), amount_cents=booking.fee_cents, currency=booking.currency,
                           text=booking.ref)
    except EPCError as problem:
        log.warning("no payment QR code for booking %s: %s", booking.id, problem)
        return None


@dataclass(frozen=True)
class PaymentQR:
    """A rendered EPC QR code: the PNG, its side in pixels and a ``data:`` URI for pages."""

    png: bytes
    size: int

    @property
    def src(self) -> str:
        """The PNG as a ``data:`` URI (the Content-Security-Policy allows ``img-src data:``)."""
        return "data:image/png;base64," + base64.b64encode(self.png).decode("ascii")


def qr_image(payload: bytes) -> PaymentQR:
    """The QR symbol for ``payload`` as a PNG (byte mode, level M, no ECI, as EPC069-12 asks)."""
    qr = segno.make_qr(payload, error="m", boost_error=False, mode="byte")
    if qr.version > MAX_VERSION:  # cannot happen within 331 bytes at level M; kept as the standard's rule
        raise EPCError(f"QR version {qr.version} (at most {MAX_VERSION})")
    out = io.BytesIO()
    qr.save(out, kind="png", scale=SCALE, border=BORDER)
    return PaymentQR(png=out.getvalue(), size=qr.symbol_size(scale=SCALE, border=BORDER)[0])


def payment_qr(booking) -> PaymentQR | None:
    """``booking``'s EPC QR code, or None where there is none (see :func:`booking_payload`)."""
    payload = booking_payload(booking)
    return qr_image(payload) if payload is not None else None
