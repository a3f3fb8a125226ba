"""Issuing receipts and credit notes, and finding them again.

- Every confirmed payment gets a receipt, issued in the transaction that confirms it
  (:func:`payment_confirmed`, subscribed to ``state_changed`` → confirmed): its number is
  taken and kept with that transaction, so it is never lost or given twice.
- A completed refund gets a credit note that refers to the receipt (:func:`refund_completed`,
  subscribed to ``refund_completed``). Credit notes have a gap-free series of their own
  (``S-…``, receipts ``B-…``): a refund never leaves a hole among the receipts.
- The document keeps a snapshot of what it prints; the PDF is drawn from it on demand, the
  same bytes each time.
"""
import logging
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import select

from reflexion import clock, signals
from reflexion.booking.states import State
from reflexion.extensions import db
from reflexion.receipts import numbering, pdf
from reflexion.receipts.models import CREDIT_NOTE, RECEIPT, Receipt
from reflexion.settings import setting

log = logging.getLogger(__name__)

#: The file name's first word per language and kind (ASCII: it goes into a header).
FILE_WORD = {
    ("de", RECEIPT): "Quittung", ("sv", RECEIPT): "Kvitto",
    ("de", CREDIT_NOTE): "Gutschrift", ("sv", CREDIT_NOTE): "Kreditnota",
}


def _minutes(booking) -> str:
    """The booking's own session length (it keeps the rules it was made under), e.g. "45"."""
    minutes = (booking.end_at - booking.start_at).total_seconds() / 60
    return str(int(minutes)) if float(minutes).is_integer() else f"{minutes:g}"


def _snapshot(booking) -> dict:
    return dict(
        booking=booking, booking_ref=booking.ref, lang=booking.lang, client_name=booking.name,
        seller_name=setting("OPERATOR_NAME"), seller_brand=setting("BRAND"),
        seller_address=setting("POSTAL_ADDRESS"), seller_email=setting("CONTACT_EMAIL"),
        vat_mode=setting("VAT_MODE"), vat_rate_percent=str(setting("VAT_RATE_PERCENT")),
        vat_id=setting("VAT_ID") or "", tax_number=setting("TAX_NUMBER") or "",
        service_start=booking.start_at, service_minutes=_minutes(booking),
    )


def issue_receipt(booking, payment) -> Receipt:
    """The receipt for ``payment`` of ``booking`` (issued now, or the one it already has)."""
    if payment.id is not None:
        existing = db.session.scalar(select(Receipt).where(Receipt.payment_id == payment.id))
        if existing is not None:
            return existing
    receipt = Receipt(kind=RECEIPT, number=numbering.next_number(RECEIPT), issued_at=clock.now(),
                      payment=payment, amount_cents=payment.amount_cents, currency=payment.currency,
                      paid_at=payment.paid_at, payment_method=payment.method, **_snapshot(booking))
    db.session.add(receipt)
    db.session.flush()
    log.info("receipt %s issued for booking %s", receipt.display_number, booking.id)
    return receipt


def issue_credit_note(booking, amount_cents: int | None = None) -> Receipt | None:
    """The credit note for ``booking``'s refund, referring to its receipt (once per receipt).

    ``amount_cents``: what was refunded (default: the receipt's whole amount). None if the
    booking has no receipt (paid before receipts existed) or nothing was refunded.
    """
    receipt = receipt_for(booking)
    if receipt is None:
        log.warning("booking %s: refund completed but no receipt to credit", booking.id)
        return None
    existing = db.session.scalar(select(Receipt).where(Receipt.kind == CREDIT_NOTE,
                                                       Receipt.refers_to_id == receipt.id))
    if existing is not None:
        return existing
    amount = receipt.amount_cents if amount_cents is None else min(int(amount_cents), receipt.amount_cents)
    if amount <= 0:
        return None
    copied = {column: getattr(receipt, column) for column in (
        "lang", "booking_ref", "client_name", "vat_mode", "vat_rate_percent", "vat_id", "tax_number",
        "service_start", "service_minutes", "currency")}
    note = Receipt(kind=CREDIT_NOTE, number=numbering.next_number(CREDIT_NOTE), issued_at=clock.now(),
                   booking=booking, refers_to=receipt, amount_cents=amount, paid_at=None, payment_method=None,
                   seller_name=setting("OPERATOR_NAME"), seller_brand=setting("BRAND"),
                   seller_address=setting("POSTAL_ADDRESS"), seller_email=setting("CONTACT_EMAIL"), **copied)
    db.session.add(note)
    db.session.flush()
    log.info("credit note %s issued for booking %s (receipt %s)", note.display_number, booking.id,
             receipt.display_number)
    return note


def _latest(booking, kind) -> Receipt | None:
    if booking.id is None:
        return None
    return db.session.scalar(select(Receipt).where(Receipt.booking_id == booking.id, Receipt.kind == kind)
                             .order_by(Receipt.id.desc()).limit(1))


def receipt_for(booking) -> Receipt | None:
    """The booking's (latest) receipt, or None."""
    return _latest(booking, RECEIPT)


def credit_note_for(booking) -> Receipt | None:
    """The booking's (latest) credit note, or None."""
    return _latest(booking, CREDIT_NOTE)


def pdf_bytes(document: Receipt) -> bytes:
    """The document as a PDF in its language (the client's at issue)."""
    return pdf.render(document)


def filename(document: Receipt) -> str:
    return f"{FILE_WORD[(document.lang if document.lang in ('de', 'sv') else 'de', document.kind)]}-" \
           f"{document.display_number}.pdf"


# -- the signals ---------------------------------------------------------------------------

def payment_confirmed(booking, entry, **_):
    """``state_changed`` receiver: a booking that became confirmed gets its receipt."""
    if entry.to_state != State.CONFIRMED.value or not booking.payments:
        return
    issue_receipt(booking, booking.payments[-1])


def refund_completed(booking, amount=None, **_):
    """``refund_completed`` receiver: the credit note. ``amount`` (Decimal, in the currency,
    as ``refund_due`` sends it) if the sender gives it, else the whole receipt."""
    cents = None if amount is None else int((Decimal(str(amount)) * 100).to_integral_value(ROUND_HALF_UP))
    issue_credit_note(booking, cents)


def connect_signals():
    """Subscribe at app start (connecting twice is harmless)."""
    signals.state_changed.connect(payment_confirmed)
    signals.refund_completed.connect(refund_completed)
